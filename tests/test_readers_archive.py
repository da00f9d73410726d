"""Zip reader: members read as a folder's files, limits against bombs and zip slip,
sources that name the zip, and --sync across a zip's members."""

import random
import stat
import tempfile
import zipfile

import pytest
from conftest import write

from indexer.errors import IngestError, NotFound
from indexer.records import Document, Person
from ingest.pipeline import source_file
from ingest.readers import archive, read_file
from ingest.readers.base import Problem

NOTES = {"oncall.md": "# On-call\n\nPage the secondary after 15 minutes.\n",
         "notes/kafka.md": "# Kafka retention\n\nAudit topics keep data for seven years.\n"}


def make_zip(path, members, compression=zipfile.ZIP_DEFLATED):
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """Where zips are unpacked, watched: empty again after every read."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_members_are_read_with_the_zip_in_their_ids_and_sources(tmp_path, scratch):
    path = make_zip(tmp_path / "bundle.zip", {
        **NOTES, "empty/": "", ".hidden.md": "# Hidden\n\nnot read\n",
        "__MACOSX/notes/._kafka.md": "resource fork"})
    result = read_file(path, "docs/bundle.zip")
    assert [(d.id, d.title, d.source) for d in result.documents] == [
        ("docs/bundle.zip/notes/kafka.md", "Kafka retention", f"{path}#notes/kafka.md"),
        ("docs/bundle.zip/oncall.md", "On-call", f"{path}#oncall.md")]
    assert result.problems == []
    assert list(scratch.iterdir()) == []  # the unpacked files are gone


def test_unsupported_and_failing_members_are_reported_and_the_rest_read(tmp_path, scratch):
    path = make_zip(tmp_path / "bundle.zip", {
        **NOTES, "image.png": "not really", "blank.md": "   \n", "faq.jsonl": '{"body": "x"}\n{'})
    result = read_file(path, "bundle.zip")
    assert [d.id for d in result.documents] == [
        "bundle.zip/faq.jsonl#1", "bundle.zip/notes/kafka.md", "bundle.zip/oncall.md"]
    assert [str(p) for p in result.problems] == [
        f"{path}/blank.md: no extractable text (the file is empty or holds only images)",
        f"{path}/faq.jsonl:2: invalid JSON: Expecting property name enclosed in double "
        "quotes",
        f"{path}/image.png: unknown extension '.png': skipped"]


def test_zip_slip_and_links_are_refused_and_nothing_is_written_outside(tmp_path, scratch):
    outside = tmp_path / "abs-evil.md"
    link = zipfile.ZipInfo("link.md")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    path = make_zip(tmp_path / "bundle.zip", {
        **NOTES, "../evil.md": "# Evil\n\nescaped\n", str(outside): "# Evil\n\nescaped\n",
        "a/../../evil2.md": "# Evil\n\nescaped\n"})
    with zipfile.ZipFile(path, "a") as z:
        z.writestr(link, "/etc/passwd")
    result = read_file(path, "bundle.zip")
    assert len(result.documents) == 2
    refused = "a path outside the zip's folder (absolute, or with '..'): not unpacked"
    assert [str(p) for p in result.problems] == [
        f"{path}/../evil.md: {refused}", f"{path}/{outside}: {refused}",
        f"{path}/a/../../evil2.md: {refused}", f"{path}/link.md: a symbolic link: not unpacked"]
    assert not outside.exists() and list(scratch.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle.zip", "scratch"]


def test_a_zip_bomb_is_refused_before_anything_is_unpacked(tmp_path, scratch):
    path = make_zip(tmp_path / "bomb.zip", {"zeros.txt": bytes(4 << 20)})  # ~1000 to 1
    with pytest.raises(IngestError, match=r"packed \d[\d,]* to 1 \(at most 200 to 1"):
        read_file(path, "bomb.zip")
    assert list(scratch.iterdir()) == []


def test_a_bomb_among_other_members_is_refused_by_its_own_ratio(tmp_path, scratch):
    noise = random.Random(0).randbytes(40_000)  # incompressible: the zip as a whole passes
    path = make_zip(tmp_path / "mixed.zip", {**NOTES, "noise.bin": noise,
                                             "zeros.txt": bytes(2 << 20)})
    result = read_file(path, "mixed.zip")
    assert len(result.documents) == 2
    [bomb] = [p for p in result.problems if p.file.endswith("zeros.txt")]
    assert bomb.reason.startswith("packed ")
    assert bomb.reason.endswith(" to 1 (at most 200 to 1 is unpacked; a zip bomb looks like "
                                "this): not unpacked")


def test_too_many_members_or_bytes_are_refused(tmp_path, scratch, monkeypatch):
    path = make_zip(tmp_path / "many.zip", {f"n{i}.md": f"# Note {i}\n" for i in range(5)})
    monkeypatch.setattr(archive, "MAX_MEMBERS", 4)
    with pytest.raises(IngestError, match=r"holds 5 files \(at most 4 are read\)"):
        read_file(path, "many.zip")
    monkeypatch.setattr(archive, "MAX_MEMBERS", 5)
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 40)
    with pytest.raises(IngestError, match=r"would unpack to 0.0 MB \(at most 0 MB"):
        read_file(path, "many.zip")


def test_unpacking_counts_what_it_writes_whatever_the_headers_say(tmp_path, scratch,
                                                                  monkeypatch):
    path = make_zip(tmp_path / "big.zip", {"a.md": "# A\n\n" + "words " * 1000})
    monkeypatch.setattr(archive, "check_zip", lambda *args, **kwargs: None)  # a check missed
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 1000)
    with pytest.raises(IngestError, match="the zip unpacks to more than 0 MB"):
        read_file(path, "big.zip")


def test_a_member_larger_than_its_header_says_is_not_unpacked(tmp_path, scratch):
    path = make_zip(tmp_path / "liar.zip", {**NOTES, "liar.md": "# Liar\n\n" + "x" * 5000},
                    zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    entry = data.rindex(b"PK\x01\x02")  # the central directory entry of the last member
    data[entry + 24:entry + 28] = (10).to_bytes(4, "little")  # "10 bytes unpacked"
    path.write_bytes(bytes(data))
    result = read_file(path, "liar.zip")
    assert len(result.documents) == 2
    assert [(p.file, p.reason) for p in result.problems] == [
        (f"{path}/liar.md", "corrupt member, not unpacked: Bad CRC-32 for file 'liar.md'")]


def test_a_truncated_zip_is_an_ingest_error(tmp_path):
    path = make_zip(tmp_path / "cut.zip", NOTES)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(IngestError, match="corrupt or unreadable zip"):
        read_file(path, "cut.zip")


def test_an_empty_zip_is_an_ingest_error(tmp_path):
    with pytest.raises(IngestError, match="nothing to read in the zip"):
        read_file(make_zip(tmp_path / "empty.zip", {"folder/": ""}), "empty.zip")


def test_a_zip_in_a_zip_is_read_and_one_deeper_is_not(tmp_path, scratch):
    innermost = make_zip(tmp_path / "z" / "innermost.zip", NOTES).read_bytes()
    inner = make_zip(tmp_path / "z" / "inner.zip", {
        "deep.md": "# Deep\n\nInside the inner zip.\n", "innermost.zip": innermost}).read_bytes()
    path = make_zip(tmp_path / "outer.zip", {"inner.zip": inner, **NOTES})
    result = read_file(path, "outer.zip")
    assert [(d.id, d.source) for d in result.documents] == [
        ("outer.zip/inner.zip/deep.md", f"{path}#inner.zip#deep.md"),
        ("outer.zip/notes/kafka.md", f"{path}#notes/kafka.md"),
        ("outer.zip/oncall.md", f"{path}#oncall.md")]
    assert [str(p) for p in result.problems] == [
        f"{path}/inner.zip/innermost.zip: a zip nested more than 1 deep: not read"]
    assert list(scratch.iterdir()) == []


def test_an_export_in_the_zips_top_folder_is_read_as_that_export(tmp_path, scratch,
                                                                monkeypatch):
    calls = []

    def detect(folder):
        return "slack" if (folder / "users.json").is_file() else None

    def read_export(folder, file_id, tool):
        calls.append((folder.name, file_id, tool))
        yield Person(id="U1", name="Ana", source=str(folder / "users.json"), system="slack")
        yield Document(id=f"{file_id}#t1", title="Thread", body="Kafka",
                       source=str(folder / "general" / "2025-03-03.json"))
        yield Problem(str(folder / "general" / "2025-03-04.json"), "invalid JSON", 3)

    monkeypatch.setattr(archive.exports, "detect", detect)
    monkeypatch.setattr(archive.exports, "read_export", read_export)
    path = make_zip(tmp_path / "slack.zip", {"export/users.json": "[]",
                                             "export/general/2025-03-03.json": "[]"})
    result = read_file(path, "in/slack.zip")
    assert calls == [("export", "in/slack.zip", "slack")]
    assert [p.source for p in result.people] == [f"{path}#export/users.json"]
    assert [d.source for d in result.documents] == [f"{path}#export/general/2025-03-03.json"]
    assert [str(p) for p in result.problems] == [
        f"{path}/export/general/2025-03-04.json:3: invalid JSON"]


def test_source_file_traces_a_member_to_its_zip(tmp_path):
    zip_path = make_zip(tmp_path / "a#b" / "bundle.zip", NOTES)
    assert source_file(f"{zip_path}#notes/kafka.md") == str(zip_path)
    assert source_file(f"{zip_path}#inner.zip#deep.md") == str(zip_path)
    gone = f"{tmp_path}/gone.zip#x.md"  # the zip was deleted: the source is its own file
    assert source_file(gone) == gone
    assert source_file(str(tmp_path / "plain#1.md")) == str(tmp_path / "plain#1.md")


def test_sync_removes_a_member_gone_from_the_zip_and_keeps_a_failed_zips(
        tmp_path, ingester, store):
    root = tmp_path / "docs"
    write(root, "plain.md", "# Plain\n\nOutside any zip.\n")
    bundle = make_zip(root / "bundle.zip", NOTES)
    first = ingester.ingest([root])
    assert sorted(first.documents.added) == [
        "docs/bundle.zip/notes/kafka.md", "docs/bundle.zip/oncall.md", "docs/plain.md"]
    assert store.get_document("docs/bundle.zip/oncall.md").source == f"{bundle}#oncall.md"

    make_zip(bundle, {"oncall.md": NOTES["oncall.md"]})
    report = ingester.ingest([root], sync=True)
    assert report.documents.removed == ["docs/bundle.zip/notes/kafka.md"]
    assert sorted(report.documents.unchanged) == ["docs/bundle.zip/oncall.md", "docs/plain.md"]
    with pytest.raises(NotFound):
        store.get_document("docs/bundle.zip/notes/kafka.md")

    bundle.write_bytes(bundle.read_bytes()[:100])  # now unreadable: its documents stay
    report = ingester.ingest([root], sync=True)
    assert report.documents.removed == []
    assert [p.file for p in report.failed] == [str(bundle)]
    assert store.get_document("docs/bundle.zip/oncall.md").title == "On-call"
