"""The derived indexes of one process, as one object: FAISS and BM25 over the stored
passages, loaded from a local folder, caught up with the store, rebuilt, saved.

Every process that searches or ingests keeps its own copy; the store is the truth
they are derived from. Both indexes record the store generation they reflect. The
rules of keeping them in step live here and nowhere else:

- ``load``: open the saved files (a missing, damaged or outdated file is rebuilt
  from the stored vectors and passages, never by re-embedding), catch up, and
  save what changed.
- ``catch_up``: bring both up to date with the store in memory, by the change
  sequence (indexer/changes.py: just the passages added and removed since the
  generation an index reflects; an index older than the log compares id sets). An
  index saved before ``Store.indexes_valid_from``, or a vector index the store
  outgrew (exact past the ANN threshold, IVF far from the size it was trained at),
  is replaced: by the saved file when that one fits (a worker saved it), else rebuilt.
- ``lag``: how far behind the store they are (``/readyz``, ``whoknows status``).
- ``rebuild``: both from the stored passages.
- ``save``: write what changed since the last save, each file to a temporary file
  renamed into place (``indexer.files.atomic_write``).

A rebuilt index is saved at once (it is the expensive part); an index caught up in
memory is saved when its owner calls ``save``: a worker does after each job, a
server leaves that to the workers.
"""

from __future__ import annotations

from pathlib import Path

from indexer import ann, keywords, vectors
from indexer.files import remove_leftovers
from indexer.keywords import KeywordIndex
from indexer.store import Store
from indexer.vectors import VectorIndex

VECTORS, KEYWORDS = "vectors", "keywords"


class DerivedIndexes:
    """The FAISS and BM25 indexes over one store; ``folder`` (None: in memory only)
    is where they are saved."""

    def __init__(self, store: Store, vector_index: VectorIndex, keyword_index: KeywordIndex,
                 folder: str | Path | None = None,
                 ann_threshold: int = ann.DEFAULT_ANN_THRESHOLD) -> None:
        self.store = store
        self.vectors = vector_index
        self.keywords = keyword_index
        self.folder = Path(folder) if folder is not None else None
        self.ann_threshold = ann_threshold
        self._unsaved: set[str] = set()

    @property
    def dim(self) -> int:
        return self.vectors.dim

    # -- opening -----------------------------------------------------------------

    @classmethod
    def build(cls, store: Store, dim: int, folder: str | Path | None = None,
              ann_threshold: int = ann.DEFAULT_ANN_THRESHOLD) -> DerivedIndexes:
        """Both indexes built from the store (saved when there is a ``folder``)."""
        indexes = cls(store, VectorIndex(dim), KeywordIndex.empty(), folder, ann_threshold)
        indexes.rebuild()
        return indexes

    @classmethod
    def load(cls, store: Store, dim: int, folder: str | Path,
             ann_threshold: int = ann.DEFAULT_ANN_THRESHOLD) -> DerivedIndexes:
        """The indexes saved in ``folder``, caught up with the store, and saved again
        when that changed them."""
        folder = Path(folder)
        remove_leftovers(folder, (vectors.INDEX_FILE, vectors.MANIFEST_FILE,
                                  keywords.INDEX_FILE))  # from killed writers
        indexes = cls(store, VectorIndex(dim), KeywordIndex.empty(), folder, ann_threshold)
        indexes.vectors = indexes._saved_or_built_vectors()
        indexes.keywords = indexes._saved_or_built_keywords()
        indexes.catch_up()
        if len(indexes.vectors) != store.count("chunks"):  # a file from elsewhere
            indexes.vectors.sync(store)
            indexes._unsaved.add(VECTORS)
        indexes.save()
        return indexes

    # -- keeping in step with the store --------------------------------------------

    @property
    def generation(self) -> int:
        """The store generation both indexes reflect (the older of the two)."""
        return min(self.vectors.generation, self.keywords.generation)

    def lag(self) -> dict[str, int | None]:
        """How far behind the store the indexes are: in store generations (write
        transactions) and in passages to add or remove (None when the change log does
        not reach back to them)."""
        changes = self.store.changes_since(self.generation)
        generation = changes.generation if changes is not None else self.store.generation
        return {"generation": generation, "indexes_generation": self.generation,
                "generations_behind": max(generation - self.generation, 0),
                "passages_behind": len(changes) if changes is not None else None}

    @staticmethod
    def saved_generation(folder: str | Path) -> int | None:
        """The store generation the indexes saved in ``folder`` reflect (the older of
        the two files), without loading them; None when either is missing or damaged."""
        saved = (vectors.saved_generation(folder), keywords.saved_generation(folder))
        return None if saved[0] is None or saved[1] is None else min(saved[0], saved[1])

    def behind(self) -> bool:
        """Has the store changed since either index was brought up to date?"""
        generation = self.store.generation
        return self.vectors.generation != generation or self.keywords.generation != generation

    def catch_up(self) -> bool:
        """Bring both indexes up to date with the store, in memory; True when either
        changed."""
        changed = False
        generation = self.store.generation
        if self.vectors.generation != generation:
            if not self._vectors_fit(self.vectors):
                self.vectors = self._saved_or_built_vectors()
            if self.vectors.generation != self.store.generation:
                self._apply_changes(self.vectors)
                self._unsaved.add(VECTORS)
            changed = True
        if self.keywords.generation != generation:
            if self.keywords.generation < self.store.indexes_valid_from:
                self.keywords = self._built_keywords()
            else:
                self._apply_changes(self.keywords)
                self._unsaved.add(KEYWORDS)
            changed = True
        return changed

    def _apply_changes(self, index: VectorIndex | KeywordIndex) -> None:
        """The passages added and removed since the index's generation (the change
        log), or, for an index older than the log, every id compared."""
        changes = self.store.changes_since(index.generation)
        if changes is None:
            index.sync(self.store)
        else:
            index.apply(changes, self.store)

    def rebuild(self) -> None:
        """Both indexes from every stored passage (nothing is embedded again)."""
        self.vectors = self._built_vectors()
        self.keywords = self._built_keywords()

    # -- files ---------------------------------------------------------------------

    def save(self) -> None:
        """Write the indexes that changed since they were last saved or read."""
        if self.folder is None:
            return
        if VECTORS in self._unsaved:
            self.vectors.save(self.folder)
        if KEYWORDS in self._unsaved:
            self.keywords.save(self.folder)
        self._unsaved.clear()

    def _vectors_fit(self, index: VectorIndex) -> bool:
        """Can ``index`` be caught up, or must it be replaced?"""
        return (index.generation >= self.store.indexes_valid_from
                and not index.outgrown(self.store.count("chunks"), self.ann_threshold))

    def _saved_or_built_vectors(self) -> VectorIndex:
        saved = VectorIndex.read(self.folder, self.dim) if self.folder is not None else None
        return saved if saved is not None and self._vectors_fit(saved) else self._built_vectors()

    def _saved_or_built_keywords(self) -> KeywordIndex:
        saved = KeywordIndex.read_saved(self.folder) if self.folder is not None else None
        if saved is not None and saved.generation >= self.store.indexes_valid_from:
            return saved
        return self._built_keywords()

    def _built_vectors(self) -> VectorIndex:
        index = VectorIndex.build(self.store, self.dim, self.ann_threshold)
        if self.folder is not None:
            index.save(self.folder)
        self._unsaved.discard(VECTORS)
        return index

    def _built_keywords(self) -> KeywordIndex:
        index = KeywordIndex.build(self.store)
        if self.folder is not None:
            index.save(self.folder)
        self._unsaved.discard(KEYWORDS)
        return index
