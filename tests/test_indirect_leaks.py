"""What a caller cannot read never shows, not even as a number or a different 404."""

import backends
import pytest
from conftest import answerer_for, write
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from indexer.keys import KeyRing
from indexer.records import Filters
from ingest.pipeline import Ingester

PEOPLE = """
    - {id: p-ana, type: person, name: Ana}
    - {id: p-cy, type: person, name: Cy}
    """
OPEN = [
    '{"id": "d1", "title": "Kafka lag", "body": "kafka consumer lag", "authors": ["p-ana"]}',
    '{"id": "d2", "title": "Kafka quotas", "body": "kafka broker quotas", "authors": ["p-cy"]}',
]
HIDDEN = [
    f'{{"id": "s{i}", "title": "Merger {i}", "body": "merger acquisition target kafka {i}",'
    f' "authors": ["p-cy"], "groups": ["Board"]}}' for i in range(5)]


def _ingest(store, embedder, root, lines):
    write(root, "people.yaml", PEOPLE)
    write(root, "docs.jsonl", "\n".join(lines))
    Ingester(store, embedder).ingest([root])


def _experts(answerer, groups):
    result = answerer.answer("kafka merger acquisition", filters=Filters(groups=groups))
    return {e["id"]: e["signals"] for e in result["experts"]}


def test_expert_signals_ignore_documents_the_caller_cannot_read(tmp_path, embedder):
    with_hidden, without = backends.test_store(), backends.test_store()
    _ingest(with_hidden, embedder, tmp_path / "a", OPEN + HIDDEN)
    _ingest(without, embedder, tmp_path / "b", OPEN)
    reader = _experts(answerer_for(with_hidden, embedder), ())
    assert reader == _experts(answerer_for(without, embedder), ())
    # The board, who may read them, does see Cy's hidden documents count.
    board = _experts(answerer_for(with_hidden, embedder), ("board",))
    assert board != reader and max(board, key=lambda p: sum(board[p].values())) == "p-cy"


@pytest.fixture
def runtime(tmp_path, embedder):
    rt = Runtime.open(backends.settings(tmp_path / "data", embedder="hashing-2048"))
    _ingest(rt.store, rt.embedder, tmp_path / "c", OPEN + HIDDEN)
    return rt


def test_page_counts_only_what_the_reader_may_read(runtime, client):
    client.cookies.set("whoknows_key", KeyRing(runtime.store).add("reader")[1])
    assert "Search 2 articles" in client.get("/").text
    client.cookies.set("whoknows_key", KeyRing(runtime.store).add("reader", ("board",))[1])
    assert "Search 7 articles" in client.get("/").text


def test_readyz_says_nothing_about_the_store(runtime, client):
    # Which store and how far behind it the indexes are, in write transactions: no counts.
    assert client.get("/readyz").json() == {"ready": True, "store": backends.ENGINE,
                                            "generations_behind": 0, "queue": "ok"}


@pytest.mark.parametrize("group", ["board", "BOARD"])
def test_restricted_and_missing_documents_answer_the_same_404(runtime, client, group):
    secret = KeyRing(runtime.store).add("reader")[1]
    headers = {"Authorization": f"Bearer {secret}"}
    hidden = client.get("/api/documents/s1", headers=headers)
    missing = client.get("/api/documents/s1-nope", headers=headers)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"] == missing.json()["detail"]
    assert hidden.json()["error"].replace("s1", "X") == missing.json()["error"].replace(
        "s1-nope", "X")
    # Groups compare without case, as in search.
    member = KeyRing(runtime.store).add("reader", (group,))[1]
    assert client.get("/api/documents/s1",
                      headers={"Authorization": f"Bearer {member}"}).status_code == 200


def test_open_mode_on_loopback_reads_restricted_documents(runtime):
    with TestClient(create_app(runtime=runtime, warm=False, worker=False)) as c:
        assert c.get("/api/documents/s1").status_code == 200  # open on loopback: admin
