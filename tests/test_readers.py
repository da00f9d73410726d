import pytest
from conftest import DATA, write

from indexer.errors import IngestError, InvalidRecord
from ingest.documents import parse_document
from ingest.people import parse_person, parse_skills
from ingest.readers import read_file


def test_markdown_front_matter_gives_the_fields(tmp_path):
    path = write(tmp_path, "a.md", """
        ---
        id: kb-1
        title: Kafka retention
        authors: [p-ana, bo@example.com]
        tags: [kafka, audit]
        updated_at: 2025-03-14
        groups: [engineering]
        ---
        # Kafka retention
        Audit topics keep data for seven years.
        """)
    [doc] = read_file(path, "docs/a.md").documents
    assert (doc.id, doc.title, doc.kind) == ("kb-1", "Kafka retention", "article")
    assert doc.authors == ("p-ana", "bo@example.com")
    assert doc.tags == ("kafka", "audit") and doc.groups == ("engineering",)
    assert doc.updated_at == "2025-03-14"
    assert "seven years" in doc.body and "authors:" not in doc.body


def test_markdown_without_front_matter_gets_the_path_id_and_heading_title(tmp_path):
    path = write(tmp_path, "notes.md", "# On-call tips\n\nPage the secondary after 15 minutes.\n")
    [doc] = read_file(path, "docs/notes.md").documents
    assert doc.id == "docs/notes.md" and doc.title == "On-call tips"


def test_markdown_lesson_from_front_matter(tmp_path):
    path = write(tmp_path, "l.md", """
        ---
        id: ll-1
        kind: lesson
        project: Checkout
        contributors: [p-li]
        ---
        ## Context
        Retries amplified the outage.
        """)
    [doc] = read_file(path, "l.md").documents
    assert doc.kind == "lesson" and doc.authors == ("p-li",)
    assert doc.body.startswith("Project: Checkout") and doc.extra["project"] == "Checkout"


def test_bad_front_matter_is_an_ingest_error(tmp_path):
    path = write(tmp_path, "bad.md", "---\ntitle: [unclosed\n---\nbody\n")
    with pytest.raises(IngestError, match="front matter"):
        read_file(path, "bad.md")


def test_html_reads_meta_and_drops_scripts_and_navigation(tmp_path):
    path = write(tmp_path, "p.html", """
        <html lang="de"><head><title>Yard API</title>
        <meta name="id" content="kb-yard"><meta name="authors" content="p-a, p-b">
        <meta name="keywords" content="yard, api"><meta name="date" content="2024-05-01">
        <script>var secret = "tracking";</script></head>
        <body><nav>Home | About</nav><h1>Yard API</h1><p>Gate events arrive every second.</p>
        </body></html>
        """)
    [doc] = read_file(path, "p.html").documents
    assert (doc.id, doc.title, doc.language) == ("kb-yard", "Yard API", "de")
    assert doc.authors == ("p-a", "p-b") and doc.tags == ("yard", "api")
    assert doc.updated_at == "2024-05-01"
    assert "Gate events" in doc.body
    assert "secret" not in doc.body and "About" not in doc.body


def test_pdf_text_and_info_fields(tmp_path):
    [doc] = read_file(DATA / "handbook.pdf", "data/handbook.pdf").documents
    assert doc.title == "Warehouse safety handbook"
    assert doc.authors == ("p-ana", "bo@example.com") and doc.tags == ("safety", "warehouse")
    assert "forty minutes" in doc.body  # text from the second page


@pytest.mark.parametrize("name, message", [("corrupt.pdf", "corrupt or unreadable PDF"),
                                           ("blank.pdf", "no extractable text")])
def test_unusable_pdfs_are_ingest_errors(name, message):
    with pytest.raises(IngestError, match=message):
        read_file(DATA / name, name)


def test_empty_text_file_is_an_ingest_error(tmp_path):
    with pytest.raises(IngestError, match="no extractable text"):
        read_file(write(tmp_path, "e.txt", "   \n"), "e.txt")


def test_unknown_extension(tmp_path):
    with pytest.raises(IngestError, match="unknown extension '.xyz'"):
        read_file(write(tmp_path, "x.xyz", "x"), "x.xyz")


def test_jsonl_bad_line_is_reported_with_its_number_and_the_rest_read(tmp_path):
    path = write(tmp_path, "d.jsonl", '{"id": "a", "title": "A", "body": "alpha"}\n'
                 '{"id": "b", "title": \n'
                 '{"id": "c", "type": "person", "name": "Cy"}\n')
    result = read_file(path, "d.jsonl")
    assert [d.id for d in result.documents] == ["a"]
    assert [p.id for p in result.people] == ["c"]
    [problem] = result.problems
    assert problem.line == 2 and "invalid JSON" in problem.reason


def test_records_without_ids_get_positional_ids(tmp_path):
    path = write(tmp_path, "d.json", '[{"title": "A", "body": "alpha"}, {"body": "beta"}]')
    assert [d.id for d in read_file(path, "x/d.json").documents] == ["x/d.json#1", "x/d.json#2"]


def test_csv_people_with_skills_and_a_short_row(tmp_path):
    path = write(tmp_path, "people.csv", """
        id,name,email,department,skills,languages,mentoring_available,mentoring_capacity,visible
        p-a,Ana,ana@x.example,Data,Kafka:5:6;Python:4,pt;en,true,2,true
        p-b,Bo
        p-c,Cy,,Sales,Negotiation:4,en,no,0,false
        """)
    result = read_file(path, "people.csv", people=True)
    ana, cy = result.people
    assert ana.skills[0].name == "Kafka" and ana.skills[0].level == 5 and ana.skills[0].years == 6
    assert ana.languages == ("pt", "en") and ana.mentoring_capacity == 2
    assert cy.visible is False and cy.mentoring_available is False
    assert [(p.line, "columns" in p.reason) for p in result.problems] == [(3, True)]


def test_yaml_lesson_records(tmp_path):
    path = write(tmp_path, "lessons.yaml", """
        - id: ll-1
          kind: lesson
          title: Retries amplified the outage
          context: The retry storm doubled load.
          lesson: Unbounded retries turn partial outages into full ones.
          recommendation: Use backoff with jitter.
          contributors: [p-a]
        """)
    [doc] = read_file(path, "lessons.yaml").documents
    assert doc.kind == "lesson" and doc.authors == ("p-a",)
    assert "Lesson: Unbounded retries" in doc.body and "Recommendation:" in doc.body


def test_person_records_validate_levels():
    with pytest.raises(InvalidRecord, match="levels run from 1 to 5"):
        parse_skills([{"name": "Kafka", "level": 9}])
    with pytest.raises(InvalidRecord, match="needs a name"):
        parse_person({"id": "x"})
    person = parse_person({"id": "x", "name": "X", "mentoring": {"available": True}})
    assert person.mentoring_capacity == 1 and person.visible


def test_document_with_a_name_but_no_text_hints_at_people():
    with pytest.raises(InvalidRecord) as info:
        parse_document({"id": "p-1", "name": "Ana"}, None, None)
    assert "--people" in info.value.hint

