"""The change sequence: which passages each store generation added and removed.

Every write transaction that changes passages advances the store's ``generation``
once, at its end. Triggers on the passages table log each insert and delete under
the generation its transaction ends at, whoever wrote it (ingest, deletion, a
re-embed), so the log cannot miss a write path. A derived index that reflects
generation N asks for the changes since N and applies just those: catching up costs
time in proportion to what changed, not to the size of the store, and a replica
that has been away can ask the same question.

Passage ids are never reused, so an id added and removed within the window was
never in an index that is behind it: removing it is a no-op, and the net change is
(added - removed, removed). The log starts at the generation it was created at
(``changes_from`` in the meta table); an index older than that catches up by
comparing id sets instead. Rows are never pruned: about 20 bytes per passage
written or deleted, beside the 1.5 kB or more each passage holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sqlite_utils

_GENERATION_AFTER = ("COALESCE((SELECT CAST(value AS INTEGER) FROM meta "
                     "WHERE key = 'generation'), 0) + 1")
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS chunk_changes (generation INTEGER NOT NULL, "
    "chunk_id INTEGER NOT NULL, added INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS chunk_changes_generation ON chunk_changes(generation)",
    "CREATE TRIGGER IF NOT EXISTS chunk_added AFTER INSERT ON chunks BEGIN "
    "INSERT INTO chunk_changes (generation, chunk_id, added) "
    f"VALUES ({_GENERATION_AFTER}, NEW.id, 1); END",
    "CREATE TRIGGER IF NOT EXISTS chunk_removed AFTER DELETE ON chunks BEGIN "
    "INSERT INTO chunk_changes (generation, chunk_id, added) "
    f"VALUES ({_GENERATION_AFTER}, OLD.id, 0); END",
)
# PostgreSQL's triggers call a function; the same rows, under the same generation.
SCHEMA_POSTGRESQL = (
    SCHEMA[0], SCHEMA[1],
    "CREATE OR REPLACE FUNCTION whoknows_chunk_changed() RETURNS trigger AS $$ BEGIN "
    "INSERT INTO chunk_changes (generation, chunk_id, added) VALUES "
    f"({_GENERATION_AFTER}, CASE WHEN TG_OP = 'INSERT' THEN NEW.id ELSE OLD.id END, "
    "CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE 0 END); RETURN NULL; END $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE TRIGGER chunk_added AFTER INSERT ON chunks FOR EACH ROW "
    "EXECUTE FUNCTION whoknows_chunk_changed()",
    "CREATE OR REPLACE TRIGGER chunk_removed AFTER DELETE ON chunks FOR EACH ROW "
    "EXECUTE FUNCTION whoknows_chunk_changed()",
)
FROM_KEY = "changes_from"


@dataclass(frozen=True)
class Changes:
    """What changed between two generations: the passage ids to add and to remove."""

    generation: int  # the generation an index reflects once it applied them
    added: np.ndarray
    removed: np.ndarray

    def __len__(self) -> int:
        return len(self.added) + len(self.removed)


def create_log(db: sqlite_utils.Database, generation: int, backend: str = "sqlite") -> None:
    """The log and its triggers, once (call inside the schema's write transaction);
    a store that had passages before it logs from ``generation`` on."""
    if "chunk_changes" not in db.table_names():
        db.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                   "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                   [FROM_KEY, str(generation)])
    for statement in SCHEMA_POSTGRESQL if backend == "postgresql" else SCHEMA:
        db.execute(statement)


def read_changes(db: sqlite_utils.Database, since: int, now: int) -> Changes | None:
    """The net changes from generation ``since`` to ``now`` (read inside one snapshot
    with ``now``), or None when the log does not reach back to ``since``."""
    start = db.execute("SELECT value FROM meta WHERE key = ?", [FROM_KEY]).fetchone()
    if start is None or since < int(start[0]) or since > now:
        return None
    rows = db.execute("SELECT chunk_id, added FROM chunk_changes WHERE generation > ? "
                      "AND generation <= ?", [since, now]).fetchall()
    added = np.array([c for c, a in rows if a], dtype=np.int64)
    removed = np.unique(np.array([c for c, a in rows if not a], dtype=np.int64))
    return Changes(now, np.setdiff1d(added, removed), removed)
