"""Schema changes are numbered migrations in a version table: each runs once, a store
from before the table takes them and keeps its data, a failed one changes nothing, and
a store changed by a newer version is refused."""

from __future__ import annotations

import numpy as np
import pytest
import sqlite_utils
from conftest import unit

from indexer import migrations
from indexer.errors import IndexMismatch
from indexer.migrations import Migration, migrate
from indexer.records import Chunk, Document
from indexer.store import Store


def put(store: Store, doc_id: str) -> None:
    store.write_document(Document(id=doc_id, title=doc_id, body="text"),
                         [Chunk(doc_id, 0, "text")], np.array([unit([1, 0, 0])]))


def test_a_store_has_each_migration_once(tmp_path):
    store = Store.open(tmp_path)
    assert migrations.applied(store.db) == [1, 2]
    put(store, "a")
    reopened = Store.open(tmp_path)
    assert migrations.applied(reopened.db) == [1, 2]
    rows = reopened.db.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
    assert rows == 2 and reopened.count("documents") == 1


def test_a_store_from_before_the_table_takes_them_and_keeps_its_data(tmp_path):
    store = Store.open(tmp_path)
    put(store, "a")
    generation = store.generation
    with store.writing():
        store.db.execute("DROP TABLE schema_migrations")
    reopened = Store.open(tmp_path)
    assert migrations.applied(reopened.db) == [1, 2]
    assert reopened.count("documents") == 1 and reopened.generation == generation
    assert reopened.changes_since(0) is not None  # the log it had is kept


def test_a_store_changed_by_a_newer_version_is_refused(tmp_path):
    store = Store.open(tmp_path)
    with store.writing():
        store.db.execute("INSERT INTO schema_migrations VALUES (99, 'from the future', '')")
    with pytest.raises(IndexMismatch, match="newer version of whoknows"):
        Store.open(tmp_path)


def test_a_failed_migration_changes_nothing():
    db = sqlite_utils.Database(memory=True)

    def half_done() -> None:
        db.execute("CREATE TABLE half (x)")
        raise RuntimeError("disk full")

    db.execute("BEGIN")
    with pytest.raises(RuntimeError):
        migrate(db, [Migration(1, "one", lambda: db.execute("CREATE TABLE one (x)")),
                     Migration(2, "half", half_done)])
    db.execute("ROLLBACK")
    assert migrations.applied(db) == [] and "one" not in db.table_names()
    assert migrate(db, [Migration(1, "one", lambda: db.execute("CREATE TABLE one (x)"))]) == [1]
    assert migrations.applied(db) == [1]
