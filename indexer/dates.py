"""When each document was last updated, read without the bodies (recency needs only this)."""

from __future__ import annotations

from indexer.store import Store


def document_dates(store: Store) -> dict[str, str]:
    """doc id -> its ``updated_at`` (ISO date or timestamp), for documents that have one."""
    rows = store.db.execute("SELECT id, updated_at FROM documents "
                            "WHERE updated_at IS NOT NULL AND updated_at != ''")
    return {doc_id: day for doc_id, day in rows}
