"""Whether a data folder's model suits the languages of what it holds.

The default model, all-MiniLM-L6-v2, is English: a question in German finds little of
what colleagues wrote in English, and a German document answers little but German
questions (MLQA-R, docs/benchmarks.md: nDCG@10 0.138 against 0.650 for
multilingual-e5-small). A folder built with it is told so, with the command that moves it
(``whoknows status``, and after each ``whoknows ingest``), once documents detected in
other languages hold at least ``OTHER_LANGUAGES_SHARE`` of its passages and
``MIN_PASSAGES`` of them. The demo company (German and Portuguese notes, 3.7% of its
passages) is told; DBLP (a few French and German paper titles, 0.5%) and the android
answers (two passages taken for Dutch and Lithuanian) are not. Passages whose language
was not told count for neither side.

A new folder moves itself (``moves_itself``): when no model was set (``WHOKNOWS_EMBEDDER``
unset, or ``auto``) and the ingest that gave the folder its first passages finds it
multilingual by the same rule, `whoknows ingest` re-embeds it with the multilingual model
before it returns (a move cut short, by kill -9 or a failure, is finished by the next
ingest). A folder filled through the API moves the same way: the worker whose ingest job
gave it its first passages sends a re-embed job (one, whichever workers filled it:
``AUTO_MOVE_KEY``), which any worker runs, resumes after a crash, and reports as jobs
do. The default thus serves a multilingual company, and an English one keeps the
English model, which measures better in English (docs/benchmarks.md). Later ingests only
advise: moving a grown folder is a long job its admin should choose
(`whoknows reembed`, or ``POST /api/admin/reembed``).
"""

from __future__ import annotations

from dataclasses import dataclass

from indexer.embedders import Embedder, english_only
from indexer.language import ENGLISH
from indexer.store import Store

OTHER_LANGUAGES_SHARE = 0.01
MIN_PASSAGES = 5
MULTILINGUAL_EMBEDDER = "e5-int8"  # the setting value `whoknows reembed` takes
AUTO_MOVE_KEY = "auto_move_job"  # meta: the re-embed job a worker sent to move a new folder


@dataclass(frozen=True)
class LanguageAdvice:
    model: str  # the folder's model, as it records it
    passages: int  # all of the folder's passages
    others: dict[str, int]  # passages per other language, the most first

    @property
    def share(self) -> float:
        return sum(self.others.values()) / max(self.passages, 1)

    def message(self, data_dir: str) -> str:
        counts = ", ".join(f"{language} {n}" for language, n in self.others.items())
        return (f"{self.share:.1%} of the passages are in other languages than English "
                f"({counts}), and this folder's model ({self.model}) reads English only: "
                "a question finds little written in another language. To search across "
                f"languages, re-embed the folder with a multilingual model: whoknows reembed "
                f"{MULTILINGUAL_EMBEDDER} --data-dir {data_dir}")


def language_advice(store: Store, embedder: Embedder,
                    counts: dict[str | None, int] | None = None) -> LanguageAdvice | None:
    """The advice to move the folder to a multilingual model, or None when its model
    reads every language it holds (or it holds too little in others to matter).
    ``counts``: the store's ``passages_by_language``, when the caller has read them."""
    if not english_only(embedder):
        return None
    counts = store.passages_by_language() if counts is None else counts
    others = {language: n for language, n in counts.items() if language and language != ENGLISH}
    advice = LanguageAdvice(embedder.name, sum(counts.values()), others)
    if sum(others.values()) < MIN_PASSAGES or advice.share < OTHER_LANGUAGES_SHARE:
        return None
    return advice


def moves_itself(advice: LanguageAdvice | None, model_set: bool, passages_before: int,
                 interrupted: bool = False) -> bool:
    """Whether an ingest moves the folder to ``MULTILINGUAL_EMBEDDER``: only when no model
    was set (``model_set`` False), and either it gave the folder its first passages
    (``passages_before`` 0) and the advice applies, or a move to that model was cut
    short (``interrupted``: an unfinished re-embed to it), which the next ingest finishes."""
    if model_set:
        return False
    return interrupted or (advice is not None and passages_before == 0)
