"""`whoknows profile` and `whoknows analytics`: what an admin scripts."""

import json

from conftest import write
from typer.testing import CliRunner

from api.cli import app


def test_profile_and_analytics_commands(tmp_path, monkeypatch):
    monkeypatch.setenv("WHOKNOWS_EMBEDDER", "hashing-2048")
    monkeypatch.setenv("WHOKNOWS_DATA_DIR", str(tmp_path / "data"))
    root = tmp_path / "corpus"
    write(root, "people.csv", "id,name,department,skills\np-ana,Ana,Data,Kafka:5\n")
    write(root, "kafka.md", "---\nid: kb-kafka\ntitle: Kafka retention\nauthors: [p-ana]\n"
          "tags: [kafka, audit]\nupdated: 2025-03-01\n---\nAudit topics keep kafka data.\n")
    runner = CliRunner()

    def run(*args):
        result = runner.invoke(app, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    run("ingest", str(root), "--people", str(root / "people.csv"))
    run("profile", "choose", "p-ana", "hide", "audit")
    run("profile", "choose", "p-ana", "learn", "rust")
    shown = json.loads(run("profile", "show", "p-ana", "--json"))
    states = {s["name"]: s["state"] for s in shown["skills"]}
    assert states["audit"] == "hidden" and states["Kafka"] == "declared"
    assert shown["learn"] == ["rust"]
    coverage = json.loads(run("analytics", "coverage", "--json"))
    by_topic = {t["topic"]: t["risk"] for t in coverage["topics"]}
    assert by_topic == {"audit": "none", "kafka": "one"}  # she hid audit
    run("profile", "opt-out", "p-ana")
    assert json.loads(run("profile", "show", "p-ana", "--json"))["opted_out"] is True
    assert "0 searches in 30 days" in run("analytics", "searches")
