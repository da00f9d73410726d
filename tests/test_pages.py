"""The web pages without a browser: escaping, access rules, keys, files, error pages."""

import re
import shutil
from pathlib import Path

import pytest
from conftest import DATA, ingested, write
from fastapi.testclient import TestClient

from api.app import create_app
from api.web import body_blocks, highlight
from indexer.keys import KeyRing

HTML = {"accept": "text/html"}


@pytest.fixture
def corpus(tmp_path) -> Path:
    root = tmp_path / "corpus"
    write(root, "people.yaml", """
        - {id: p-ana, type: person, name: Ana Lima, department: Data, location: Lisbon,
           title: Staff Engineer, skills: [{name: Kafka, level: 5}],
           mentoring: {available: true, capacity: 2}}
        - {id: p-bo, type: person, name: Bo Hidden, visible: false, location: Lisbon,
           skills: [{name: Kafka, level: 5}], mentoring: {available: true, capacity: 2}}
        - {id: p-cy, type: person, name: Cy Stone, department: Security, location: Berlin,
           skills: [{name: Kafka, level: 3}], mentoring: {available: true, capacity: 1}}
        - {id: p-dee, type: person, name: Dee Park, department: Data, location: Berlin,
           manager_id: p-ana, goals: [kafka retention], skills: [{name: SQL, level: 4}]}
        """)
    write(root, "retention.md", """
        ---
        id: d1
        title: Kafka retention <b>for</b> audit
        authors: [p-ana, p-bo]
        language: en
        updated_at: 2025-03-14
        ---
        # Kafka retention <b>for</b> audit

        Keep kafka audit topics 7 years. <script>alert("x")</script> kafka retention rules.
        """)
    write(root, "records.jsonl", "\n".join([
        '{"id": "d2", "title": "Kafka lag", "body": "kafka consumer lag", "authors": ["p-cy"],'
        ' "language": "de"}',
        '{"id": "s1", "title": "Kafka pentest", "body": "kafka pentest findings secret",'
        ' "authors": ["p-cy"], "groups": ["security"]}']))
    write(root, "secret.md", "---\nid: s2\ntitle: Kafka audit secret\ngroups: [security]\n"
          "authors: [p-cy]\n---\nkafka pentest secret appendix\n")
    shutil.copy(DATA / "handbook.pdf", root / "handbook.pdf")
    return root


@pytest.fixture
def runtime(tmp_path, corpus):
    return ingested(tmp_path, corpus)


@pytest.fixture
def client(runtime):
    with TestClient(create_app(runtime=runtime), headers=HTML) as c:
        c.app.state.whoknows.warm_up()
        yield c


def people_part(html: str) -> str:
    """The "people who know" part of a results page."""
    return html.split('id="people"', 1)[1]


def keyed(runtime, role="reader", groups=()):
    return KeyRing(runtime.store).add(role, groups=groups)[1]


def test_search_page_shows_articles_and_people(client):
    r = client.get("/", params={"q": "kafka retention"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'href="/documents/d1?q=kafka+retention#hit"' in r.text
    assert 'href="/people/p-ana"' in r.text and "Available as mentor" in r.text
    assert "Bo Hidden" not in r.text  # opted out: not as expert, not as author
    assert "1 person not listed" in r.text
    count, words = re.search(r"· (\d+) (person who knows|people who know)\s", r.text).groups()
    assert (count == "1") == (words == "person who knows")  # "1 person who knows"
    assert "default-src 'self'" in r.headers["content-security-policy"]


def test_the_home_page_offers_filters_and_topics(client):
    r = client.get("/")
    assert r.status_code == 200 and "Ask the company what it knows" in r.text
    assert '<option value="Lisbon">' in r.text and '<option value="Berlin">' in r.text
    assert 'href="/?q=Kafka"' in r.text  # a skill several people list


def test_escaping_of_snippets_titles_and_the_query(client):
    r = client.get("/", params={"q": 'kafka retention "><script>alert(1)</script>'})
    assert "<script>alert" not in r.text
    assert "&lt;script&gt;alert(" in r.text  # the snippet's and the query's, as text
    assert "Kafka retention &lt;b&gt;for&lt;/b&gt; audit" in r.text
    assert "<mark>kafka</mark>" in r.text
    doc = client.get("/documents/d1", params={"q": "kafka"}).text
    assert "<script>alert" not in doc and '<mark id="hit">' in doc


@pytest.mark.parametrize("text, spans, html", [
    ("a <b> c", [(2, 5)], "a <mark>&lt;b&gt;</mark> c"),
    ("kafka & lag", [(0, 5), (8, 11)], "<mark>kafka</mark> &amp; <mark>lag</mark>"),
    ("kafka", [(0, 5), (2, 4)], "<mark>kafka</mark>"),  # overlapping: skipped
    ("kafka", [(3, 99)], "kafka"),  # out of range: skipped, never sliced past the end
    ("kafka", [(2, 2)], "kafka"),  # empty
    ("x<y", [], "x&lt;y"),
])
def test_highlight_escapes_everything(text, spans, html):
    assert str(highlight(text, spans)) == html


def test_document_body_blocks():
    wrapped = "a hard-wrapped line of prose that goes on for a while\nand ends here"
    body = ("# Title\n\nIntro <i>kafka</i>.\n\n## Part\n\n- one\n  more\n- two kafka\n\n"
            f"1. first\n\n```bash\nls <x>\n```\n\n{wrapped}\n\nshort\nlines")
    blocks = body_blocks(body, "Title", "kafka")
    assert [b.tag for b in blocks] == ["paragraph", "heading", "list", "ol", "code",
                                       "paragraph", "paragraph"]
    assert str(blocks[4].html) == "ls &lt;x&gt;"
    assert str(blocks[5].html) == wrapped.replace("\n", " ")  # reflowed to the screen
    assert str(blocks[6].html) == "short\nlines"  # kept
    assert str(blocks[0].html) == 'Intro &lt;i&gt;<mark id="hit">kafka</mark>&lt;/i&gt;.'
    assert [str(i) for i in blocks[2].html] == ["one more", "two <mark>kafka</mark>"]


def test_filters_are_in_the_url(client):
    lessons = client.get("/", params={"q": "kafka", "language": "de"}).text
    assert 'href="/documents/d2' in lessons and 'href="/documents/d1' not in lessons
    berlin = client.get("/", params={"q": "kafka", "location": "Berlin"}).text
    # Location narrows the people only: Ana is in Lisbon, Cy in Berlin.
    experts = people_part(berlin)
    assert 'href="/people/p-cy"' in experts and 'href="/people/p-ana"' not in experts
    assert 'href="/documents/d1' in berlin
    assert 'Clear filters' in berlin


def test_the_api_takes_location_too(client):
    r = client.get("/api/experts", params={"q": "kafka", "location": "berlin"},
                   headers={"accept": "application/json"})
    assert [e["id"] for e in r.json()["experts"]] == ["p-cy"]  # Ana is in Lisbon


def test_paging(client):
    r = client.get("/", params={"q": "kafka", "page": "7"})
    assert r.status_code == 200 and "Go to the first page" in r.text
    assert client.get("/", params={"q": "kafka", "page": "x"}).status_code == 200


def test_a_weak_match_is_said_above_the_results(client):
    # "kafka" alone is shared with the passages; six unrelated words keep every cosine < 0.3.
    weak = client.get("/", params={"q": "kafka zebra okapi tapir lemur quokka narwhal"})
    assert "Kafka lag" in weak.text and "is clearly about" in weak.text
    assert "People nearest to it" in weak.text and "People who know" not in weak.text
    close = client.get("/", params={"q": "kafka retention"})
    assert "Kafka retention" in close.text and "is clearly about" not in close.text
    assert "People who know" in close.text and "People nearest to it" not in close.text
    # Nothing written is about SQL, but Dee declares it: she knows it, though the
    # articles found only touch on it (search.answers.people_know).
    sql = client.get("/", params={"q": "sql"}).text
    assert "is clearly about" in sql and 'href="/people/p-dee"' in people_part(sql)
    assert "People who know" in sql and "1 person who knows" in sql
    api = client.get("/api/search", params={"q": "kafka zebra okapi tapir lemur quokka narwhal"})
    assert api.json()["weak_match"] is True
    assert client.get("/api/search", params={"q": "kafka retention"}).json()["weak_match"] is False


def test_no_results_says_what_to_do(client):
    r = client.get("/", params={"q": "kafka", "kind": "lesson"})
    assert "Search again without filters" in r.text


@pytest.mark.parametrize("path", ["/people/nobody", "/people/p-bo", "/documents/nope",
                                  "/source/nope", "/no/such/page"])
def test_missing_pages_are_html_404s(client, path):
    r = client.get(path)
    assert r.status_code == 404 and "<h1>" in r.text and "Search instead" in r.text


def test_the_api_still_answers_json(client):
    r = client.get("/api/documents/nope")
    assert r.status_code == 404 and set(r.json()) == {"error", "detail"}
    assert client.get("/api/nope", headers={"accept": "application/json"}).json()
    assert not any(not p.startswith(("/api/", "/healthz", "/readyz"))
                   for p in client.get("/openapi.json").json()["paths"])


def test_person_page(client):
    r = client.get("/people/p-ana")
    assert r.status_code == 200 and "Ana Lima" in r.text and "level 5 of 5" in r.text
    assert 'href="/documents/d1"' in r.text
    assert "Similar experts" in r.text and 'href="/people/p-cy"' in r.text
    assert 'href="/people/p-bo"' not in r.text


def test_source_files_only_from_the_stored_path(client, corpus):
    md = client.get("/source/d1")
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/plain")
    assert md.headers["content-security-policy"] == "sandbox"
    pdf = client.get("/source/corpus/handbook.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    # A file of several records may hold others' records: never served.
    assert client.get("/source/d2").status_code == 404
    assert "Read from <code>records.jsonl</code>" in client.get("/documents/d2").text
    assert client.get("/source/..%2F..%2Fetc%2Fpasswd").status_code == 404
    (corpus / "retention.md").unlink()
    assert client.get("/source/d1").status_code == 404
    assert 'href="/source/d1"' not in client.get("/documents/d1").text


def test_mentors_for_an_employee_and_for_goals(client):
    r = client.get("/mentors", params={"employee": "Dee Park"})
    assert r.status_code == 200 and "Mentors for" in r.text
    # Ana is Dee's manager: left out; Bo opted out; Cy is free and knows Kafka.
    assert 'href="/people/p-cy"' in r.text and "kafka retention" in r.text
    assert 'href="/people/p-ana"' not in r.text and "Bo Hidden" not in r.text
    goals = client.get("/mentors", params={"goals": "kafka, audit"})
    assert 'href="/people/p-ana"' in goals.text
    assert "No one matches" in client.get("/mentors", params={"employee": "zz"}).text
    assert "Bo Hidden" not in client.get("/mentors").text


def test_pages_ask_for_a_key_when_the_server_has_keys(runtime, client):
    secret = keyed(runtime)
    r = client.get("/", params={"q": "kafka"})
    assert r.status_code == 401 and 'action="/key"' in r.text
    assert 'name="next" value="/?q=kafka"' in r.text
    bad = client.post("/key", data={"key": "wk_nope_nope", "next": "/"})
    assert bad.status_code == 401 and "unknown or revoked" in bad.text
    ok = client.post("/key", data={"key": secret, "next": "/?q=kafka"}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/?q=kafka"
    cookie = ok.headers["set-cookie"]
    assert cookie.startswith("whoknows_key=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert client.get("/", params={"q": "kafka"}).status_code == 200
    # The JSON API takes Bearer keys only: the cookie opens nothing there.
    assert client.get("/api/search", params={"q": "kafka"}).status_code == 401
    client.post("/key/forget")
    assert client.get("/").status_code == 401


@pytest.mark.parametrize("target, landed", [
    ("//evil.example/x", "/"), ("https://evil.example", "/"), ("/\\evil.example", "/"),
    ("/people/p-ana", "/people/p-ana")])
def test_the_key_form_redirects_only_here(runtime, client, target, landed):
    r = client.post("/key", data={"key": keyed(runtime), "next": target},
                    follow_redirects=False)
    assert r.headers["location"] == landed


def test_the_key_form_refuses_other_sites(runtime, client):
    r = client.post("/key", data={"key": keyed(runtime)},
                    headers={"origin": "https://evil.example"})
    assert r.status_code == 403 and "set-cookie" not in r.headers


def test_groups_trim_every_page(runtime, client):
    client.cookies.set("whoknows_key", keyed(runtime))
    page = client.get("/", params={"q": "kafka pentest secret"}).text
    assert "Kafka pentest" not in page and "Kafka audit secret" not in page
    assert "pentest findings" not in page
    for path in ("/documents/s1", "/documents/s2", "/source/s2"):
        assert client.get(path).status_code == 404
    assert "Kafka pentest" not in client.get("/people/p-cy").text
    client.cookies.set("whoknows_key", keyed(runtime, groups=("security",)))
    page = client.get("/", params={"q": "kafka pentest secret"}).text
    assert 'href="/documents/s1' in page and "Restricted to security" in client.get(
        "/documents/s1").text
    assert client.get("/source/s2").status_code == 200


def test_a_reader_cannot_pick_an_employee(runtime, client):
    client.cookies.set("whoknows_key", keyed(runtime))
    r = client.get("/mentors", params={"employee": "Dee Park"})
    assert r.status_code == 403 and "lms" in r.text and "Dee Park" not in r.text.split(
        "</form>")[-1]
    assert client.get("/mentors", params={"goals": "kafka"}).status_code == 200
    client.cookies.set("whoknows_key", keyed(runtime, role="lms"))
    assert "Mentors for" in client.get("/mentors", params={"employee": "p-dee"}).text


def test_static_files(client):
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/static/../app.py").status_code == 404


def test_only_in_my_language_follows_the_browser(client):
    german = client.get("/", params={"q": "kafka"},
                        headers={"accept-language": "fr-CH, de;q=0.9, en;q=0.5"}).text
    assert 'name="language" value="de"' in german and "Only in my language (German)" in german
    assert '<span class="lang">German</span>' in german  # each result says its language
    english = client.get("/", params={"q": "kafka"}, headers={"accept-language": "en-GB"}).text
    assert "Only in my language (English)" in english
    none = client.get("/", params={"q": "kafka"}, headers={"accept-language": "ja"}).text
    assert "Only in my language" not in none  # no document is in Japanese
    mine = client.get("/", params={"q": "kafka", "language": "de"},
                      headers={"accept-language": "de"}).text
    assert 'value="de" checked' in mine
    assert 'href="/documents/d2' in mine and 'href="/documents/d1' not in mine


def test_my_language_reads_preferences():
    from api.views import my_language
    assert my_language("pt-BR;q=0.4, de;q=0.8", ["en", "de", "pt"]) == "de"
    assert my_language("*, xx", ["en"]) is None
    assert my_language(None, ["en"]) is None
    assert my_language("en;q=0, de", ["en", "de"]) == "de"
