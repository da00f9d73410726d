import pytest
from conftest import write

from api.runtime import Runtime
from api.settings import Settings
from indexer.keys import KeyRing
from ingest.pipeline import Ingester


@pytest.fixture
def runtime(tmp_path):
    rt = Runtime.open(Settings(data_dir=tmp_path / "data", embedder="hashing-2048"))
    root = tmp_path / "corpus"
    write(root, "people.yaml", """
        - {id: p-ana, type: person, name: Ana, email: ana@x.example, department: Data,
           skills: [{name: Kafka, level: 5}]}
        - {id: p-bo, type: person, name: Bo, visible: false, skills: [{name: Kafka, level: 5}]}
        - {id: p-cy, type: person, name: Cy, department: Security}
        """)
    write(root, "docs.jsonl", "\n".join([
        '{"id": "d1", "title": "Kafka retention", "body": "kafka retention for audit",'
        ' "authors": ["p-ana"]}',
        '{"id": "d2", "title": "Kafka lag", "body": "kafka consumer lag", "authors": ["p-bo"]}',
        '{"id": "s1", "title": "Kafka pentest", "body": "kafka pentest findings secret",'
        ' "authors": ["p-cy"], "groups": ["security"]}']))
    Ingester(rt.store, rt.embedder).ingest([root])
    return rt


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def test_open_mode_search(client):
    r = client.get("/api/search", params={"q": "kafka retention"})
    assert r.status_code == 200
    body = r.json()
    assert body["articles"][0]["id"] == "d1"
    assert [e["id"] for e in body["experts"]][0] == "p-ana"
    assert "p-bo" not in {e["id"] for e in body["experts"]}


def test_health_and_ready(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {  # no counts without a key
        "ready": True, "store": "sqlite", "generations_behind": 0, "queue": "ok"}


@pytest.mark.parametrize("params, status, words", [
    ({"q": "   "}, 422, "query.q: must not be blank"),
    ({"q": ""}, 422, "query.q: must not be empty"),
    ({}, 422, "query.q: is required"),
    ({"q": "kafka", "limit": 0}, 422, "limit"),
    ({"q": "kafka", "updated_after": "soon"}, 422, "updated_after: must be a date written YYYY"),
    ({"q": "kafka", "updated_after": "2025-13-45"}, 422, "not a real date"),
    ({"q": "kafka", "updated_before": "1e-9"}, 422, "updated_before"),
])
def test_bad_search_input_is_a_json_4xx(client, params, status, words):
    r = client.get("/api/search", params=params)
    assert r.status_code == status
    body = r.json()
    assert set(body) == {"error", "detail"}
    assert words in body["error"] + (body["detail"] or "")


def test_keys_roles_and_groups(runtime, client):
    ring = KeyRing(runtime.store)
    _, reader = ring.add("reader", name="search box")
    _, security = ring.add("reader", groups=("security",))
    assert client.get("/api/search", params={"q": "kafka"}).status_code == 401
    assert client.get("/api/search", params={"q": "kafka"},
                      headers=bearer("wk_nope_nope")).status_code == 401
    plain = client.get("/api/search", params={"q": "kafka pentest secret", "limit": 50},
                       headers=bearer(reader)).json()
    # The restricted document leaks nowhere: not as an article, not as evidence.
    assert "s1" not in {a["id"] for a in plain["articles"]}
    assert "s1" not in {ev["id"] for e in plain["experts"] for ev in e["evidence"]}
    assert client.get("/api/documents/s1", headers=bearer(reader)).status_code == 404
    cleared = client.get("/api/search", params={"q": "kafka pentest secret"},
                         headers=bearer(security)).json()
    assert cleared["articles"][0]["id"] == "s1"
    assert client.get("/api/documents/s1", headers=bearer(security)).status_code == 200


def test_revoked_key_is_refused(runtime, client):
    ring = KeyRing(runtime.store)
    key, secret = ring.add("reader")
    ring.add("admin")
    assert client.get("/api/experts", params={"q": "kafka"},
                      headers=bearer(secret)).status_code == 200
    ring.revoke(key.id)
    r = client.get("/api/experts", params={"q": "kafka"}, headers=bearer(secret))
    assert r.status_code == 401 and "revoked" in r.json()["error"]


def test_people_endpoint_hides_opted_out_people(client):
    ana = client.get("/api/people/p-ana").json()  # open mode reads as admin
    assert ana["skills"] == [{"name": "Kafka", "level": 5, "years": None}]
    assert [d["id"] for d in ana["documents"]] == ["d1"]
    assert client.get("/api/people/nobody").status_code == 404


def test_people_endpoint_for_a_reader(runtime, client):
    _, reader = KeyRing(runtime.store).add("reader")
    assert client.get("/api/people/p-bo", headers=bearer(reader)).status_code == 404
    cy = client.get("/api/people/p-cy", headers=bearer(reader)).json()
    assert cy["documents"] == []  # the restricted pentest is not listed


def test_openapi_is_served(client):
    schema = client.get("/openapi.json").json()
    assert "/api/search" in schema["paths"] and "/api/people/{person_id}" in schema["paths"]
