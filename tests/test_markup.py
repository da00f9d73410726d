"""Markdown in snippets (plain text) and on document pages (safe HTML); undated files."""

import os
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import DATA, ingested, write
from fastapi.testclient import TestClient
from pypdf import PdfReader, PdfWriter

from api.app import create_app
from indexer.records import Filters, Person
from ingest.readers import read_file
from search.markup import markdown_text, safe_link
from search.snippets import make_snippet

HTML = {"accept": "text/html"}


@pytest.mark.parametrize("markdown, text", [
    ("**bold** and *em* and `code`", "bold and em and code"),
    ("see [the guide](https://x.example/a_b) now", "see the guide now"),
    ("![a diagram](d.png) here", "a diagram here"),
    ("## Rollback plan", "Rollback plan"),
    ("- one\n- two\n* three", "one two three"),
    ("3. three\n4. four", "3. three 4. four"),  # an ordered list's numbers are content
    ("> quoted advice", "quoted advice"),
    ("| tool | owner |\n|---|---|\n| helm | ops |", "tool owner helm ops"),
    ("```bash\nkubectl drain node\n```", "kubectl drain node"),
    ("<b>bold</b> <div>block</div> ~~old~~", "bold block old"),
    ("<div>\n<script>alert(1)</script><p>kept</p>\n</div>", "kept"),
    ("Title\n=====\n\nbody", "Title body"),
    ("AT&amp;T", "AT&T"),
])
def test_snippet_shows_no_markdown_markup(markdown, text):
    assert " ".join(markdown_text(markdown).split()) == text
    snippet, _ = make_snippet(markdown, "anything")
    assert snippet == text


@pytest.mark.parametrize("plain", [
    "a*b*c and 2*3*4 and int *p = *q;",  # * inside words is never emphasis
    "__init__.py, _loaded_at, /srv/my_file_name.txt, x_y_z",  # _ is never emphasis
    r"C:\Users\me\.ssh and \*",  # a backslash escapes nothing
    "std::vector<int> v; #include <stdio.h>",  # not an HTML element: stays
    "1986. A good year",
    "a plain sentence with no markup at all",
])
def test_snippet_leaves_plain_text_alone(plain):
    assert markdown_text(plain).strip() == plain


def test_snippet_highlights_fall_on_the_plain_text():
    snippet, spans = make_snippet("Use **kafka** `retention` rules", "kafka retention")
    assert snippet == "Use kafka retention rules"
    assert [snippet[s:e] for s, e in spans] == ["kafka", "retention"]


def test_a_long_body_is_read_from_the_paragraph_of_its_first_hit():
    body = "filler words here\n\n" * 3000 + "the **kafka** retention rule\n\n" + "more\n\n" * 10
    snippet, spans = make_snippet(body, "kafka")
    assert "**" not in snippet and snippet.startswith("… ")
    assert [snippet[s:e] for s, e in spans] == ["kafka"]


@pytest.mark.parametrize("url, ok", [
    ("https://x.example/a", True), ("http://x", True), ("mailto:a@x.example", True),
    ("guide.md", True), ("#part", True), ("/documents/d1", True),
    ("javascript:alert(1)", False), ("JavaScript:alert(1)", False),
    ("data:text/html,<script>", False), ("data:image/png;base64,AA", False),
    ("vbscript:x", False), ("file:///etc/passwd", False), ("ftp://x", False),
])
def test_links_go_only_to_http_mailto_or_relative_addresses(url, ok):
    assert safe_link(url) is ok


# -- pages ----------------------------------------------------------------------

@pytest.fixture
def corpus(tmp_path) -> Path:
    root = tmp_path / "corpus"
    write(root, "guide.md", """
        ---
        id: md1
        title: Upgrade guide
        updated_at: 2025-03-14
        ---
        # Upgrade guide

        Drain each **node** before the `kubectl` upgrade.

        ## Steps

        1. Cordon
        2. Drain

        | tool | owner |
        |------|-------|
        | helm | ops   |

        ```bash
        kubectl drain node-1
        ```

        See [the runbook](https://runbooks.example/upgrade) or [ops](ops.md).
        """)
    write(root, "hostile.md", """
        ---
        id: evil
        ---
        # Hostile upgrade

        <script>alert("body")</script>

        Text <img src=x onerror="alert(2)"> and <a href="javascript:alert(3)">a</a>.

        [click](javascript:alert(4)) [data](data:text/html,<script>alert(5)</script>)
        ![pic](javascript:alert(6)) <svg onload=alert(7)>

        <div onmouseover="alert(8)">upgrade</div>
        """)
    write(root, "plain.txt", "Plain upgrade notes\n\n**not markdown** stays as typed.\n")
    write(root, "nodate.html", "<html><head><title>Undated page</title></head>"
                               "<body><p>An undated upgrade page.</p></body></html>")
    pdf = PdfWriter()
    for page in PdfReader(DATA / "handbook.pdf").pages:
        pdf.add_page(page)
    pdf.add_metadata({"/Title": "Undated handbook"})  # no /CreationDate
    with open(root / "nodate.pdf", "wb") as out:
        pdf.write(out)
    old = 946684800  # 2000-01-01: a file's mtime is not its date
    for name in ("hostile.md", "plain.txt", "nodate.html", "nodate.pdf"):
        os.utime(root / name, (old, old))
    return root


@pytest.fixture
def runtime(tmp_path, corpus):
    return ingested(tmp_path, corpus)


@pytest.fixture
def client(runtime):
    with TestClient(create_app(runtime=runtime), headers=HTML) as c:
        c.app.state.whoknows.warm_up()
        yield c


def ids(runtime) -> dict[str, str]:
    """file name -> document id."""
    rows = runtime.store.db.query("SELECT id, source FROM documents")
    return {Path(r["source"]).name: r["id"] for r in rows}


def test_document_page_renders_markdown_as_html(client):
    page = client.get("/documents/md1", params={"q": "drain"}).text
    body = page.split('<div class="body markdown"', 1)[1]
    assert body.count("Upgrade guide") == 0  # the title heading is the page's h1 already
    assert "<h3>Steps</h3>" in body
    assert "<strong>node</strong>" in body and "<code>kubectl</code>" in body
    assert "<ol>" in body and "<li>Cordon</li>" in body
    assert "<th>tool</th>" in body and "<td>helm</td>" in body
    assert '<pre><code>kubectl <mark>drain</mark> node-1\n</code></pre>' in body
    assert '<a href="https://runbooks.example/upgrade">the runbook</a>' in body
    assert '<a href="ops.md">ops</a>' in body
    assert '<mark id="hit">Drain</mark>' in body  # the first hit is anchored
    for markup in ("**", "`", "| tool", "## "):
        assert markup not in body


def test_a_text_file_keeps_todays_rendering(client, runtime):
    page = client.get(f"/documents/{ids(runtime)['plain.txt']}").text
    assert '<div class="body markdown"' not in page
    assert "**not markdown** stays as typed." in page


class _Executable(HTMLParser):
    """What in a page could run: script elements (but the page's own), on* handlers,
    script URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("iframe", "object", "embed") or (
                tag == "script" and attrs != [("src", "/static/app.js"), ("defer", None)]):
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag} {name}")
            if name in ("href", "src", "action") and value and \
                    value.strip().lower().startswith(("javascript:", "data:", "vbscript:")):
                self.found.append(f"{tag} {name}={value}")


def test_script_in_a_markdown_document_never_runs(client):
    r = client.get("/documents/evil", params={"q": "upgrade"})
    assert r.status_code == 200
    parser = _Executable()
    parser.feed(r.text)
    assert parser.found == []
    assert "&lt;script&gt;alert(&#34;body&#34;)&lt;/script&gt;" in r.text  # shown as text
    assert "default-src 'self'" in r.headers["content-security-policy"]  # and still the CSP


def test_undated_file_has_no_date(client, runtime):
    named = ids(runtime)
    dates = {"md1": "2025-03-14", "evil": None, named["plain.txt"]: None,
             named["nodate.html"]: None, named["nodate.pdf"]: None}
    for doc_id, date in dates.items():
        api = client.get(f"/api/documents/{doc_id}", headers={"accept": "application/json"})
        assert api.json()["updated_at"] == date, doc_id
        page = client.get(f"/documents/{doc_id}").text
        assert ("<time" in page) is bool(date), doc_id
    assert read_file(DATA / "handbook.pdf", "h").documents[0].updated_at == "2026-11-24"


def test_undated_documents_sort_last_and_fall_outside_date_ranges(runtime):
    store, plain = runtime.store, ids(runtime)["plain.txt"]
    person = Person(id="p-x", name="X")
    store.write_person(person, None)
    with store.db.conn:
        store.db.conn.executemany(
            "INSERT INTO authorship (doc_id, author, author_key) VALUES (?, 'p-x', 'p-x')",
            [("md1",), ("evil",), (plain,)])
    # Newest first, the undated after them (by id): SQLite sorts NULL lowest.
    assert [d["id"] for d in store.documents_of(person)] == ["md1", *sorted(["evil", plain])]
    dated = store.documents_of(person, Filters(updated_after="2025-01-01"))
    assert [d["id"] for d in dated] == ["md1"]
    assert store.documents_of(person, Filters(updated_before="2024-01-01")) == []
