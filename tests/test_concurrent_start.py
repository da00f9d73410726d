"""Two servers (or `serve --workers 2`) opening one data folder at the same moment: a
step that upgrades the store's schema on first use must not fail in the second, which
saw the old schema before the first one's change was committed."""

from __future__ import annotations

from indexer.keys import KeyRing
from indexer.store import Store


def test_the_key_column_added_by_another_process_meanwhile(tmp_path, monkeypatch):
    first, second = Store.open(tmp_path), Store.open(tmp_path)
    seen = second.has_table("api_keys", "person_id")  # both look before either writes
    assert not seen
    KeyRing(first)  # the first one adds the column and commits
    real = second.has_table
    looks = [seen]  # the second's look, from before that commit

    def stale_then_real(table: str, column: str | None = None) -> bool:
        if (table, column) == ("api_keys", "person_id") and looks:
            return looks.pop()
        return real(table, column)

    monkeypatch.setattr(second, "has_table", stale_then_real)
    KeyRing(second)  # was: sqlite3.OperationalError: duplicate column name: person_id
    assert real("api_keys", "person_id")
