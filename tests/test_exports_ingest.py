"""Exports of team tools through ``whoknows ingest``: found at any depth and read as one
unit, their accounts resolved to the company's people, and every promise of ingest
kept (summary, nothing embedded again, --sync, --strict, --source, broken files)."""

import json

import pytest
from conftest import write
from test_cli import cli  # noqa: F401 - the fixture
from test_exports_slack_stackexchange import msg, slack_export

from indexer.errors import IngestError
from ingest.pipeline import find_files

DAY1, DAY2 = "1710400000", "1710490000"
USERS = [{"id": "U1", "name": "ana", "profile": {"real_name": "ana", "email": "Ana@acme.com"}},
         {"id": "U2", "name": "bo", "profile": {"real_name": "Bo Berg"}},
         {"id": "U3", "name": "cy", "profile": {"real_name": "Cy"}}]


@pytest.fixture
def company(tmp_path):
    """A folder with the people file, a note, and a Slack export two levels down."""
    root = tmp_path / "knowledge"
    write(root, "people.yaml", "- {id: p-ana, type: person, name: Ana Lima, "
                               "email: ana@acme.com}\n"
                               "- {id: p-bo, type: person, name: Bo Berg, aliases: [U2]}\n")
    write(root, "notes/kafka.md", "---\nid: kb-kafka\nauthors: [Ana Lima, J. Smith]\n---\n"
                                  "Kafka retention for audit topics is seven years.\n")
    (root / "exports").mkdir()
    slack_export(root / "exports" / "slack", {
        "general/2024-03-14": [
            msg("U3", "How do we reset a stuck kafka consumer group offset?", f"{DAY1}.000100",
                f"{DAY1}.000100", reply_count=2),
            msg("U1", "Stop the consumers, then kafka-consumer-groups --reset-offsets.",
                f"{DAY1}.000200", f"{DAY1}.000100"),
        ],
        "general/2024-03-15": [
            msg("U2", "And check the lag dashboard afterwards.", f"{DAY2}.000100",
                f"{DAY1}.000100"),
            msg("U2", "Reminder: the quarterly planning review moves to Thursday at ten.",
                f"{DAY2}.000300"),
        ],
    }, users=USERS)
    return root


def test_an_export_at_any_depth_is_one_source(company):
    files, problems = find_files([company])
    exports = [(f.file_id, f.export) for f in files if f.export]
    assert exports == [("knowledge/exports/slack", "slack")] and problems == []
    assert not any("exports/slack/" in f.file_id for f in files)  # its files are not walked


def test_slack_answers_count_for_the_people_who_gave_them(cli, company):  # noqa: F811
    result = cli("ingest", str(company), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["documents"]["added"] == 3 and report["failed"] == []
    assert report["merged_accounts"] == 2  # Ana's and Bo's Slack accounts
    # Ana by email and by name, Bo through his alias; Cy, who asked, is a Slack account
    # of nobody in the people file: a person of their own. J. Smith is nobody.
    assert report["unmatched_authors"] == {
        "count": 1, "top": [{"author": "J. Smith", "documents": 1, "ambiguous": False}]}
    experts = json.loads(cli("experts", "reset a kafka consumer group offset", "--json").output)
    names = [e["name"] for e in experts["experts"]]
    assert names[:2] == ["Ana Lima", "Bo Berg"] and "Cy" not in names
    summary = cli("ingest", str(company))
    assert "3 unchanged" in summary.output and "passages embedded: 0" in summary.output
    assert "1 author in the store matched no person (top: 'J. Smith' ×1)" in summary.output


def test_sync_removes_a_thread_gone_from_a_newer_export(cli, company):  # noqa: F811
    assert cli("ingest", str(company)).exit_code == 0
    (company / "exports/slack/general/2024-03-15.json").write_text(json.dumps([]))
    result = cli("ingest", str(company), "--sync", "--json")
    report = json.loads(result.output)
    assert report["documents"]["removed"] == 1  # the reminder; the thread lost a reply
    assert report["documents"]["updated"] == 1


def test_a_broken_file_of_an_export_is_named_and_the_rest_lands(cli, company):  # noqa: F811
    (company / "exports/slack/general/2024-03-15.json").write_text("[{broken")
    report = json.loads(cli("ingest", str(company), "--json").output)
    assert [f["file"].endswith("2024-03-15.json") for f in report["failed"]] == [True]
    assert report["documents"]["added"] == 2
    strict = cli("ingest", str(company), "--strict")
    assert strict.exit_code != 0 and isinstance(strict.exception, IngestError)


def test_source_names_the_tool_of_a_folder_and_is_checked(cli, tmp_path):  # noqa: F811
    folder = tmp_path / "dump"
    write(folder, "Posts.xml", '<?xml version="1.0"?><posts>'
          '<row Id="1" PostTypeId="1" Title="Flash a ROM" Body="&lt;p&gt;How?&lt;/p&gt;" '
          'OwnerUserId="5" Tags="|rom|" CreationDate="2019-01-02T03:04:05.678"/>'
          '<row Id="2" PostTypeId="2" ParentId="1" Score="3" Body="&lt;p&gt;Use fastboot '
          'flash.&lt;/p&gt;" OwnerUserId="6" CreationDate="2019-01-03T03:04:05.678"/>'
          '</posts>')
    report = json.loads(cli("ingest", str(folder), "--source", "stackexchange", "--json")
                        .output)
    assert report["documents"]["added"] == 2 and report["people"]["added"] == 2
    wrong = cli("ingest", str(folder), "--source", "jira")
    assert wrong.exit_code != 0 and "use one of confluence" in str(wrong.exception.hint)
