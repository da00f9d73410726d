import json

import pytest
from conftest import write
from typer.testing import CliRunner

from api.cli import app, main


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("WHOKNOWS_EMBEDDER", "hashing-2048")
    monkeypatch.setenv("WHOKNOWS_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()

    def run(*args):
        return runner.invoke(app, list(args), catch_exceptions=True)
    return run


@pytest.fixture
def corpus(tmp_path):
    root = tmp_path / "corpus"
    write(root, "people.csv", "id,name,department,skills\np-ana,Ana,Data,Kafka:5\n"
          "p-bo,Bo,Sales,Negotiation:4\n")
    write(root, "kafka.md", "---\nid: kb-kafka\ntitle: Kafka retention\nauthors: [p-ana]\n---\n"
          "Audit topics keep kafka data for seven years.\n")
    write(root, "deals.md", "---\nid: kb-deals\ntitle: Closing deals\nauthors: [p-bo]\n---\n"
          "Negotiation tips for enterprise deals.\n")
    write(root, "bad.jsonl", '{"id": "ok", "body": "fine"}\n{broken\n')
    return root


def test_ingest_prints_a_summary_with_failures(cli, corpus):
    result = cli("ingest", str(corpus), "--people", str(corpus / "people.csv"))
    assert result.exit_code == 0, result.output
    assert "documents: 3 added, 0 updated, 0 unchanged, 0 removed" in result.output
    assert "people:    2 added" in result.output
    assert "bad.jsonl:2: invalid JSON" in result.output
    again = cli("ingest", str(corpus), "--people", str(corpus / "people.csv"))
    assert "0 added, 0 updated, 3 unchanged" in again.output
    assert "passages embedded: 0" in again.output


def test_strict_ingest_fails(cli, corpus):
    result = cli("ingest", str(corpus), "--strict")
    assert result.exit_code != 0
    assert "nothing was written" in str(result.exception)


def test_search_json_shape(cli, corpus):
    cli("ingest", str(corpus), "--people", str(corpus / "people.csv"))
    result = cli("search", "kafka retention", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["query"] == "kafka retention"
    assert data["articles"][0]["id"] == "kb-kafka"
    assert {"id", "title", "kind", "score", "snippet"} <= set(data["articles"][0])
    assert data["experts"][0]["id"] == "p-ana"
    assert {"id", "name", "score", "evidence", "skills"} <= set(data["experts"][0])


def test_a_weak_match_is_said_before_the_results(cli, corpus, tmp_path):
    cli("ingest", str(corpus), "--people", str(corpus / "people.csv"))
    weak = cli("search", "kafka zebra okapi tapir lemur quokka narwhal")
    assert "Nothing found is clearly about" in weak.output and "Kafka retention" in weak.output
    assert "People nearest to it" in weak.output and "People who know" not in weak.output
    assert json.loads(cli("search", "kafka zebra okapi tapir lemur", "--json").output)[
        "weak_match"] is True
    close = cli("search", "kafka retention").output
    assert "clearly about" not in close and "People nearest to it" not in close
    assert "People who know" in close
    # Nothing written is about GDPR, but Cy declares it: Cy knows it.
    write(tmp_path / "more", "people.csv", "id,name,department,skills\np-cy,Cy,Legal,GDPR:5\n")
    cli("ingest", "--people", str(tmp_path / "more" / "people.csv"))
    declared = json.loads(cli("search", "gdpr", "--json").output)
    assert declared["weak_match"] is True and declared["experts"][0]["id"] == "p-cy"
    shown = cli("search", "gdpr").output
    assert "Nothing found is clearly about" in shown and "People who know" in shown


def test_experts_json_and_human_output(cli, corpus):
    cli("ingest", str(corpus), "--people", str(corpus / "people.csv"))
    data = json.loads(cli("experts", "negotiation deals", "--json").output)
    assert data["articles"] == [] and data["experts"][0]["id"] == "p-bo"
    human = cli("experts", "negotiation deals").output
    assert "Bo (p-bo)" in human and "Negotiation (level 4)" in human


def test_batch_queries(cli, corpus, tmp_path):
    cli("ingest", str(corpus), "--people", str(corpus / "people.csv"))
    queries = write(tmp_path, "q.jsonl", '{"id": "q1", "text": "kafka"}\n'
                    '{"id": "q2", "text": "negotiation"}\n')
    result = cli("experts", "--queries", str(queries))
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(x["query_id"], x["experts"][0]["id"]) for x in lines] == [("q1", "p-ana"),
                                                                       ("q2", "p-bo")]


def test_blank_query_exits_non_zero_with_a_message(cli, corpus, monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["whoknows", "search", "   "])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    assert "the query is empty" in capsys.readouterr().err


def test_bad_date_filter_is_refused(cli, monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["whoknows", "search", "x", "--updated-after", "soon"])
    with pytest.raises(SystemExit):
        main()
    assert "must be a date" in capsys.readouterr().err


def test_reindex_and_status(cli, corpus):
    cli("ingest", str(corpus))
    assert "rebuilt the vector and keyword indexes: 3 passages" in cli("reindex").output
    status = json.loads(cli("status", "--json").output)
    assert status["documents"] == 3 and status["embedder"] == "hashing-2048"
    assert status["store"] == "sqlite"
    assert status["indexes_generation"] == status["generation"] and status["indexes_behind"] == 0


def test_opening_with_another_embedder_is_a_clear_error(cli, corpus, monkeypatch, capsys):
    cli("ingest", str(corpus))
    monkeypatch.setenv("WHOKNOWS_EMBEDDER", "hashing-64")
    monkeypatch.setattr("sys.argv", ["whoknows", "search", "kafka"])
    with pytest.raises(SystemExit):
        main()
    assert "was built with the embedder hashing-2048" in capsys.readouterr().err


def test_keys_add_list_revoke(cli):
    added = cli("keys", "add", "--role", "lms", "--groups", "hr,finance", "--name", "LMS")
    assert added.exit_code == 0, added.output
    secret = added.stdout.strip().splitlines()[-1]
    assert secret.startswith("wk_")
    [key] = json.loads(cli("keys", "list", "--json").output)
    assert key["role"] == "lms" and key["groups"] == ["hr", "finance"]
    assert secret not in cli("keys", "list").output
    assert cli("keys", "revoke", key["id"]).exit_code == 0
    assert json.loads(cli("keys", "list", "--json").output)[0]["revoked"] is True


def test_unknown_role_is_refused(cli):
    result = cli("keys", "add", "--role", "root")
    assert result.exit_code != 0 and "unknown role" in str(result.exception)
