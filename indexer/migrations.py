"""Schema changes as numbered migrations, recorded in a version table.

A store runs its migrations when it opens; there is no separate command. Each one
not yet in ``schema_migrations`` runs inside the opening write transaction and is
recorded there with the time it ran, so a store takes each change exactly once, and
a crash part way leaves the store as it was. A store whose table names a migration
this version does not know was changed by a newer whoknows, and is refused rather
than written with the older schema. A schema change is a new migration at the end
of the store's list, never an edit of one that has run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlite_utils

from indexer.errors import IndexMismatch

TABLE = "schema_migrations"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    run: Callable[[], None]


def migrate(db: sqlite_utils.Database, migrations: Sequence[Migration]) -> list[int]:
    """Run the ``migrations`` the store has not had, in order (call inside a write
    transaction); the versions run."""
    db.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (version INTEGER PRIMARY KEY, "
               "name TEXT NOT NULL, applied_at TEXT NOT NULL)")
    done = {row[0] for row in db.execute(f"SELECT version FROM {TABLE}")}
    newer = done - {m.version for m in migrations}
    if newer:
        raise IndexMismatch(
            f"this data folder was changed by a newer version of whoknows (schema "
            f"migration {max(newer)}, this version knows up to "
            f"{max(m.version for m in migrations)})", "upgrade whoknows to open it")
    ran = []
    for migration in sorted(migrations, key=lambda m: m.version):
        if migration.version not in done:
            migration.run()
            db.execute(f"INSERT INTO {TABLE} (version, name, applied_at) VALUES (?, ?, ?)",
                       [migration.version, migration.name,
                        dt.datetime.now(dt.UTC).isoformat(timespec="seconds")])
            ran.append(migration.version)
    return ran


def applied(db: sqlite_utils.Database) -> list[int]:
    """The versions a store has had, in order."""
    if TABLE not in db.table_names():
        return []
    return [row[0] for row in db.execute(f"SELECT version FROM {TABLE} ORDER BY version")]
