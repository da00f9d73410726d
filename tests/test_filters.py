"""Unknown filter values are refused, listing the valid ones, on every path that filters:
the JSON API, the search page, the CLI and its batch lines."""

import json

import pytest
from conftest import write
from typer.testing import CliRunner

from api.cli import app, main
from api.runtime import Runtime
from api.settings import Settings
from indexer.keys import KeyRing
from ingest.pipeline import Ingester
from search.filters import one_of

PEOPLE = """
    - {id: p-ana, type: person, name: Ana, department: Data, location: Lisbon,
       skills: [{name: Kafka, level: 5}]}
    - {id: p-bo, type: person, name: Bo, visible: false, department: Skunkworks,
       location: Atlantis, skills: [{name: Kafka, level: 5}]}
    - {id: p-cy, type: person, name: Cy, department: Security, location: Berlin}
    """
DOCS = "\n".join([
    '{"id": "d1", "title": "Kafka retention", "body": "kafka retention for audit",'
    ' "authors": ["p-ana"], "tags": ["Kafka", "audit"], "language": "en"}',
    '{"id": "l1", "kind": "lesson", "title": "Kafka lag lesson", "body": "kafka consumer lag",'
    ' "authors": ["p-ana"], "tags": ["kafka"], "language": "de"}',
    '{"id": "s1", "title": "Kafka pentest", "body": "kafka pentest findings secret",'
    ' "authors": ["p-cy"], "tags": ["pentest"], "language": "fi", "groups": ["security"]}'])


def corpus(root):
    write(root, "people.yaml", PEOPLE)
    write(root, "docs.jsonl", DOCS)
    return root


@pytest.fixture
def runtime(tmp_path):
    rt = Runtime.open(Settings(data_dir=tmp_path / "data", embedder="hashing-2048"))
    Ingester(rt.store, rt.embedder).ingest([corpus(tmp_path / "corpus")])
    return rt


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


# -- the JSON API ----------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/search", "/api/experts"])
@pytest.mark.parametrize("field, value, listed", [
    ("kind", "blog", "use one of article, lesson"),
    ("department", "Marketing", "use one of Data, Security"),  # Skunkworks: opted out
    ("location", "Paris", "use one of Berlin, Lisbon"),  # Atlantis: opted out
    ("language", "xx", "use one of de, en, fi"),  # open mode reads everything
    ("tag", "rust", "use one of audit, Kafka, pentest"),  # Kafka and kafka are one
], ids=["kind", "department", "location", "language", "tag"])
def test_unknown_value_is_a_4xx_listing_the_valid_ones(client, path, field, value, listed):
    r = client.get(path, params={"q": "kafka", field: value})
    assert r.status_code == 400
    assert r.json() == {"error": f"no {field} {value!r}", "detail": listed}


@pytest.mark.parametrize("field, value", [
    ("kind", "LESSON"), ("department", "data"), ("location", "LISBON"), ("language", "DE"),
    ("tag", "AUDIT")])
def test_known_values_pass_whatever_their_case(client, field, value):
    r = client.get("/api/search", params={"q": "kafka", field: value})
    assert r.status_code == 200, r.json()


def test_a_near_miss_suggests_the_value_meant(client):
    r = client.get("/api/search", params={"q": "kafka", "tag": "kafak"})
    assert r.json()["detail"] == "did you mean 'Kafka'? use one of audit, Kafka, pentest"


def test_every_value_of_a_filter_is_checked(client):
    r = client.get("/api/search", params={"q": "kafka", "kind": ["lesson", "blog"]})
    assert r.status_code == 400 and r.json()["error"] == "no kind 'blog'"


def test_a_restricted_documents_tag_is_unknown_without_its_group(runtime, client):
    ring = KeyRing(runtime.store)
    _, reader = ring.add("reader")
    _, security = ring.add("reader", groups=("Security",))  # groups compare without case
    for field, value in (("tag", "pentest"), ("language", "fi")):
        refused = client.get("/api/search", params={"q": "kafka", field: value},
                             headers=bearer(reader))
        assert refused.status_code == 400 and value not in refused.json()["detail"]
        allowed = client.get("/api/search", params={"q": "kafka", field: value},
                             headers=bearer(security))
        assert allowed.status_code == 200
        assert [a["id"] for a in allowed.json()["articles"]] == ["s1"]
    # ... and a reader's list of valid tags does not name it either.
    other = client.get("/api/experts", params={"q": "kafka", "tag": "rust"},
                       headers=bearer(reader)).json()
    assert other["detail"] == "use one of audit, Kafka"


def test_an_opted_out_persons_values_are_not_listed_nor_accepted(client):
    for field, value in (("department", "Skunkworks"), ("location", "Atlantis")):
        r = client.get("/api/experts", params={"q": "kafka", field: value})
        assert r.status_code == 400 and value not in r.json()["detail"]


def test_the_search_page_shows_the_message_not_a_500(client):
    r = client.get("/", params={"q": "kafka", "kind": "blog"}, headers={"accept": "text/html"})
    assert r.status_code == 400
    assert "No kind &#39;blog&#39;" in r.text and "Use one of article, lesson." in r.text


def test_long_lists_are_cut_at_twenty():
    values = [f"t{i:02}" for i in range(25)]
    assert one_of(values) == ", ".join(values[:20]) + " and 5 more"
    assert one_of(["b", "A", "c"]) == "A, b, c"


# -- the CLI and its batch lines ------------------------------------------------------

@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("WHOKNOWS_EMBEDDER", "hashing-2048")
    monkeypatch.setenv("WHOKNOWS_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()

    def run(*args):
        return runner.invoke(app, list(args), catch_exceptions=True)
    root = corpus(tmp_path / "corpus")
    assert run("ingest", str(root), "--people", str(root / "people.yaml")).exit_code == 0
    return run


def whoknows(monkeypatch, capsys, *args):
    """``whoknows args``: (exit code, stdout, stderr), as a shell sees them."""
    monkeypatch.setattr("sys.argv", ["whoknows", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


@pytest.mark.parametrize("command", ["search", "experts"])
@pytest.mark.parametrize("option, value, listed", [
    ("--kind", "blog", "article, lesson"),
    ("--department", "Skunkworks", "Data, Security"),
    ("--location", "Atlantis", "Berlin, Lisbon"),
    ("--language", "xx", "de, en, fi"),  # the CLI reads everything
    ("--tag", "rust", "audit, Kafka, pentest"),
])
def test_cli_exits_non_zero_listing_the_valid_values(cli, monkeypatch, capsys, command,
                                                     option, value, listed):
    code, out, err = whoknows(monkeypatch, capsys, command, "kafka", option, value)
    assert code == 2 and out == ""
    assert f"no {option[2:]} '{value}'" in err and f"use one of {listed}" in err
    assert "close in meaning" not in err


def test_batch_line_applies_its_filters_and_limit(cli, tmp_path):
    queries = write(tmp_path, "q.jsonl", '{"id": "all", "text": "kafka"}\n'
                    '{"id": "lessons", "text": "kafka", "kind": "lesson"}\n'
                    '{"id": "tagged", "text": "kafka", "tag": ["audit"], "limit": 1}\n')
    result = cli("search", "--queries", str(queries), "--limit", "5")
    assert result.exit_code == 0, result.output
    answers = {x["query_id"]: [a["id"] for a in x["articles"]]
               for x in map(json.loads, result.output.splitlines())}
    assert sorted(answers["all"]) == ["d1", "l1", "s1"]
    assert answers["lessons"] == ["l1"] and answers["tagged"] == ["d1"]


def test_batch_line_takes_the_command_lines_filters_unless_it_sets_its_own(cli, tmp_path):
    queries = write(tmp_path, "q.jsonl", '{"id": "q1", "text": "kafka"}\n'
                    '{"id": "q2", "text": "kafka", "kind": "article"}\n')
    result = cli("search", "--queries", str(queries), "--kind", "lesson")
    answers = [sorted(a["id"] for a in json.loads(x)["articles"])
               for x in result.output.splitlines()]
    assert answers == [["l1"], ["d1", "s1"]]


@pytest.mark.parametrize("line, words", [
    ('{"id": "q3", "text": "kafka", "knd": "lesson"}',
     "line 3: unknown field 'knd' (use one of department, experts, id, kind, language, "
     "limit, location, offset, tag, text, updated_after, updated_before)"),
    ('{"id": "q3", "text": "kafka", "kind": "blog"}',
     "line 3: no kind 'blog' (use one of article, lesson)"),
    ('{"id": "q3", "text": "kafka", "limit": "ten"}', "line 3: limit must be a whole number"),
    ('{"id": "q3", "text": "kafka", "tag": [1]}', "line 3: tag must be a string or a list"),
    ('{"id": "q3", "text": "kafka", "updated_after": "soon"}', "line 3: --updated-after must"),
])
def test_batch_line_with_a_bad_field_is_refused_with_its_line_number(cli, tmp_path, line,
                                                                      words):
    queries = write(tmp_path, "q.jsonl", '{"id": "q1", "text": "kafka"}\n\n' + line + "\n")
    result = cli("search", "--queries", str(queries))
    assert result.exit_code != 0
    assert result.output == ""  # checked before the first answer
    assert words in str(result.exception)


def test_experts_batch_lines_take_only_the_experts_options(cli, tmp_path):
    queries = write(tmp_path, "q.jsonl", '{"id": "q1", "text": "kafka", "offset": 10}\n')
    result = cli("experts", "--queries", str(queries))
    assert result.exit_code != 0 and "unknown field 'offset'" in str(result.exception)
