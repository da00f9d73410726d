"""Every path asked the same questions: is an opted-out person ever shown, does a
restricted document ever reach a caller without its group, and are groups compared
without case? In keyed mode (a reader without the group, a reader with it spelt in
another case, an lms key, an admin key) and in open mode.

A route that is neither asked here nor exempted with a reason fails
``test_every_route_is_asked``, so a new route cannot forget a rule.
"""

from __future__ import annotations

import backends
import pytest
from conftest import write
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from indexer.keys import KeyRing
from ingest.pipeline import Ingester

HIDDEN = ("p-hid", "Hidden Hugo", "hugo@example.org")  # opted out: never shown
SECRET = ("s1", "Quokka ledger")                      # restricted to the Finance group

PEOPLE = """
    - {id: p-ana, type: person, name: Ana Alves, department: Data, location: Oslo,
       skills: [{name: Kafka, level: 5}], mentoring: {available: true, capacity: 2}}
    - {id: p-hid, type: person, name: Hidden Hugo, email: hugo@example.org, visible: false,
       department: Data, location: Oslo, skills: [{name: Kafka, level: 5}],
       mentoring: {available: true, capacity: 3}}
    - {id: p-fin, type: person, name: Fiona Finch, department: Finance, location: Oslo,
       skills: [{name: Accounting, level: 4}], mentoring: {available: true, capacity: 1}}
    - {id: p-new, type: person, name: Nina New, department: Sales, location: Oslo,
       goals: [kafka consumer lag]}
    """
DOCS = "\n".join([
    '{"id": "d1", "title": "Kafka consumer lag", "body": "kafka consumer lag runbook",'
    ' "authors": ["p-ana"], "tags": ["kafka"]}',
    '{"id": "d2", "title": "Kafka partitions", "body": "kafka consumer lag partitions",'
    ' "authors": ["p-hid", "p-ana"], "tags": ["kafka"]}',
    '{"id": "d3", "title": "Kafka retention", "body": "kafka consumer lag retention",'
    ' "authors": ["hugo@example.org"], "tags": ["kafka"]}',
    '{"id": "s1", "title": "Quokka ledger", "body": "kafka consumer lag quokka ledger",'
    ' "authors": ["p-fin"], "groups": ["Finance"], "tags": ["kafka", "ledger"]}',
])


def company(root, people: str = PEOPLE) -> Runtime:
    """The company above, ingested into a data folder under ``root``."""
    rt = Runtime.open(backends.settings(root / "data", embedder="hashing-2048"))
    write(root / "corpus", "people.yaml", people)
    write(root / "corpus", "docs.jsonl", DOCS)
    Ingester(rt.store, rt.embedder).ingest([root / "corpus"])
    return rt


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    return company(tmp_path_factory.mktemp("rules"))


@pytest.fixture(scope="module")
def keys(runtime):
    ring = KeyRing(runtime.store)
    return {"reader": ring.add("reader")[1], "member": ring.add("reader", ("FINANCE",))[1],
            "lms": ring.add("lms")[1], "admin": ring.add("admin")[1]}


@pytest.fixture(scope="module")
def keyed(runtime, keys):
    with TestClient(create_app(runtime=runtime, worker=False)) as client:
        client.app.state.whoknows.warm_up()
        yield client


@pytest.fixture(scope="module")
def open_client(tmp_path_factory):
    """The same company in a folder without keys: open mode, on loopback."""
    rt = company(tmp_path_factory.mktemp("rules-open"))
    with TestClient(create_app(runtime=rt, worker=False)) as client:
        client.app.state.whoknows.warm_up()
        yield client


MENTEE = {"name": "Someone", "goals": ["kafka consumer lag"]}
# (method, path, body, the role it needs): every route that shows people or documents.
ASKED = [
    ("GET", "/api/search?q=kafka+consumer+lag+quokka+ledger", None, "reader"),
    ("GET", "/api/experts?q=kafka+consumer+lag+quokka+ledger", None, "reader"),
    ("GET", "/api/people/p-ana", None, "reader"),
    ("GET", "/api/people/p-fin", None, "reader"),
    ("GET", "/api/documents/d2", None, "reader"),
    ("GET", "/api/recommendations/p-new", None, "lms"),
    ("POST", "/api/recommendations", MENTEE, "reader"),
    ("GET", "/api/mentoring/mentors/p-new?limit=10", None, "lms"),
    ("POST", "/api/mentoring/mentors", {"profile": MENTEE, "limit": 10}, "reader"),
    ("POST", "/api/mentoring/match", {"mentees": ["p-new"]}, "lms"),
    ("GET", "/api/analytics/expertise", None, "admin"),
    ("GET", "/api/mentoring/relationships", None, "reader"),
    ("GET", "/api/mentoring/changes", None, "lms"),
    ("GET", "/api/mentoring/report?min_group_size=5", None, "lms"),
    ("GET", "/mentoring", None, "reader"),
    ("GET", "/mentoring/report", None, "lms"),
    ("GET", "/mentoring/report.csv", None, "lms"),
    ("GET", "/?q=kafka+consumer+lag+quokka+ledger", None, "reader"),
    ("GET", "/", None, "reader"),
    ("GET", "/people/p-ana", None, "reader"),
    ("GET", "/people/p-fin", None, "reader"),
    ("GET", "/documents/d2", None, "reader"),
    ("GET", "/mentors?employee=p-new", None, "lms"),
    ("GET", "/mentors?goals=kafka+consumer+lag", None, "reader"),
    ("GET", "/api/profile/p-fin", None, "lms"),
    ("GET", "/profile?person=p-fin", None, "lms"),
    ("GET", "/api/analytics/searches", None, "admin"),
    ("GET", "/api/analytics/load", None, "admin"),
    ("GET", "/api/analytics/coverage", None, "admin"),
    ("GET", "/api/analytics/network", None, "admin"),
    ("GET", "/analytics", None, "admin"),
]
# Ids that answer exactly as a missing one: an opted-out person, a restricted document.
NOT_FOUND = [("/api/people/p-hid", "reader"), ("/people/p-hid", "reader"),
             ("/api/documents/s1", "reader"), ("/documents/s1", "reader"),
             ("/source/s1", "reader")]
EXEMPT = {  # routes that show neither people nor documents, and why
    "/openapi.json": "the schema", "/healthz": "liveness", "/readyz": "readiness, no counts",
    "/docs": "the API docs", "/key": "the key form", "/key/forget": "forgets the cookie",
    "/static": "page assets", "/static/swagger": "API docs assets",
    "/api/admin/documents": "uploads (admin writes)", "/api/admin/people": "uploads",
    "/api/admin/documents/{doc_id:path}": "deletes", "/api/admin/people/{person_id}": "deletes",
    "/api/admin/reindex": "a job", "/api/admin/reembed": "a job", "/api/admin/jobs": "jobs",
    "/api/admin/jobs/{job_id}": "a job",
    # Mentoring relationships: writes, and one by id; who may read which (opted-out
    # members, notes) is asked in tests/test_mentoring_relationships*.py.
    **dict.fromkeys(["/api/mentoring/proposals", "/api/mentoring/relationships/{rel_id}",
                     "/api/mentoring/relationships/{rel_id}/state",
                     "/api/mentoring/relationships/{rel_id}/mentor",
                     "/api/mentoring/relationships/{rel_id}/goals",
                     "/api/mentoring/relationships/{rel_id}/goals/{goal_id}/milestones",
                     "/api/mentoring/relationships/{rel_id}/milestones/{milestone_id}/done",
                     "/api/mentoring/relationships/{rel_id}/checkins",
                     "/api/mentoring/relationships/{rel_id}/outcome"],
                    "relationship writes and one by id"),
    "/mentoring/request": "a form that proposes a relationship (a write)",
    "/api/mentoring/people/{person_id}/confirmed-skills": "an opted-out person answers "
    "404 (tests/test_mentoring_relationships_api.py)",
    # The learning loop (tests/test_learning_api.py): verdicts and profile choices are
    # writes (a verdict on a document the caller cannot read answers 404); /me is the
    # caller's own profile, which they see even when they opted out.
    **dict.fromkeys(["/api/feedback", "/feedback", "/api/profile/{person_id}/choices",
                     "/api/profile/{person_id}/choices/{kind}",
                     "/api/profile/{person_id}/opt-out", "/profile/choices",
                     "/api/profile/me"], "learning-loop writes, or the caller's own profile"),
}


def call(client, method, path, body, key=None, page=False):
    client.cookies.clear()
    headers = {}
    if key and page:
        client.cookies.set("whoknows_key", key)
    elif key:
        headers["Authorization"] = f"Bearer {key}"
    return client.request(method, path, json=body, headers=headers)


def _callers(keys, role):
    """The keys that may call a route needing ``role``: (name, secret)."""
    order = ["reader", "lms", "admin"]
    chosen = [(n, keys[n]) for n in ("reader", "lms", "admin")
              if order.index(n) >= order.index(role)]
    if role == "reader":
        chosen.append(("member", keys["member"]))
    return chosen


@pytest.mark.parametrize("method, path, body, role", ASKED, ids=[a[1] for a in ASKED])
def test_no_path_shows_an_opted_out_person_or_a_restricted_document(
        keyed, open_client, keys, method, path, body, role):
    page = not path.startswith("/api/")
    for name, key in _callers(keys, role):
        r = call(keyed, method, path, body, key, page)
        assert r.status_code == 200, (name, r.status_code, r.text[:300])
        for word in HIDDEN:
            assert word not in r.text, f"{path} shows {word!r} to {name}"
        if name in ("reader", "lms"):
            for word in SECRET:
                assert word not in r.text, f"{path} shows {word!r} to {name}"
    r = call(open_client, method, path, body)
    assert r.status_code == 200, r.text[:300]
    for word in HIDDEN:
        assert word not in r.text, f"{path} shows {word!r} in open mode"


@pytest.mark.parametrize("path", ["/api/search?q=quokka+ledger", "/?q=quokka+ledger",
                                  "/api/documents/s1", "/documents/s1"])
def test_groups_compare_without_case_on_every_path(keyed, keys, path):
    r = call(keyed, "GET", path, None, keys["member"], page=not path.startswith("/api/"))
    assert r.status_code == 200 and "Quokka ledger" in r.text  # FINANCE reads Finance


@pytest.mark.parametrize("path, role", NOT_FOUND)
def test_hidden_things_answer_as_missing_ones(keyed, open_client, keys, path, role):
    page = not path.startswith("/api/")
    missing = path.replace("p-hid", "p-nobody").replace("s1", "s-nothing")
    for client, key in ((keyed, keys[role]),) + (((open_client, None),)
                                                    if "p-hid" in path else ()):
        hidden, absent = call(client, "GET", path, None, key, page), \
            call(client, "GET", missing, None, key, page)
        assert hidden.status_code == absent.status_code == 404
        # The same answer, but for the id the caller typed.
        typed = "p-hid" if "p-hid" in path else "s1"
        absent_text = absent.text.replace(missing.rsplit("/", 1)[1], typed)
        assert hidden.text == absent_text
        for word in (*HIDDEN[1:], *SECRET[1:]):
            assert word not in hidden.text


def test_an_opt_out_is_seen_by_a_running_server_without_restart(tmp_path):
    rt = company(tmp_path, PEOPLE.replace("visible: false,", ""))
    with TestClient(create_app(runtime=rt, worker=False)) as client:
        client.app.state.whoknows.warm_up()

        def shown() -> set[str]:
            experts = client.get("/api/experts", params={"q": "kafka consumer lag"}).json()
            mentors = client.post("/api/mentoring/mentors",
                                  json={"profile": MENTEE, "limit": 10}).json()
            return ({e["id"] for e in experts["experts"]}
                    | {m["id"] for m in mentors["mentors"]})

        assert "p-hid" in shown()
        write(tmp_path / "corpus", "people.yaml", PEOPLE)  # Hugo opts out
        Ingester(rt.store, rt.embedder).ingest([tmp_path / "corpus"])
        assert "p-hid" not in shown()
        rt.store.delete_person("p-ana")  # and Ana leaves
        assert "p-ana" not in shown()


def _routes(app) -> set[str]:
    found: set[str] = set()

    def walk(routes) -> None:
        for route in routes:
            if hasattr(route, "path"):
                found.add(route.path)
            elif hasattr(route, "original_router"):  # FastAPI's included router
                walk(route.original_router.routes)

    walk(app.router.routes)
    return found


def test_every_route_is_asked(keyed):
    asked = {p.split("?")[0] for _, p, _, _ in ASKED} | {p for p, _ in NOT_FOUND}
    templates = {"/api/people/{person_id}": "/api/people/p-ana",
                 "/api/documents/{doc_id:path}": "/api/documents/d2",
                 "/api/recommendations/{employee_id}": "/api/recommendations/p-new",
                 "/api/mentoring/mentors/{employee_id}": "/api/mentoring/mentors/p-new",
                 "/people/{person_id}": "/people/p-ana",
                 "/documents/{doc_id:path}": "/documents/d2",
                 "/source/{doc_id:path}": "/source/s1",
                 "/api/profile/{person_id}": "/api/profile/p-fin"}
    for route in _routes(keyed.app):
        if route in EXEMPT:
            continue
        assert templates.get(route, route) in asked, (
            f"{route} is neither asked the rules in this file nor exempted with a reason")
