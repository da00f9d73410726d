"""`whoknows migrate --to TARGET`: a store copied between SQLite and PostgreSQL, whole,
resumably, and searching the same (indexer/copying.py)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import answerer_for, write
from typer.testing import CliRunner

from api.cli import app
from api.runtime import Runtime
from api.settings import Settings
from indexer import copying
from indexer.copying import PROGRESS_TABLE, copy_store
from indexer.errors import Conflict, StoreUnavailable, WhoknowsError
from indexer.feedback import FeedbackLog
from indexer.keys import KeyRing
from indexer.profiles import ProfileBook
from indexer.query_log import QueryLog
from indexer.records import Chunk, Document
from indexer.relationships import Relationships
from indexer.store import Store, open_store
from ingest.pipeline import Ingester

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ["kafka retention audit", "closing enterprise deals", "onboarding checklist"]
AT = "2024-05-01T10:00:00+00:00"


@pytest.fixture
def corpus(tmp_path) -> Path:
    root = tmp_path / "corpus"
    write(root, "people.csv", "id,name,department,skills\np-ana,Ana,Data,Kafka:5\n"
          "p-bo,Bo,Sales,Negotiation:4\np-cy,Cy,People,Onboarding:3\n")
    for n in range(12):  # enough rows that small batches take several commits
        write(root, f"kafka-{n}.md", f"---\nid: kb-kafka-{n}\ntitle: Kafka retention {n}\n"
              f"authors: [p-ana, Ana]\ntags: [kafka]\n---\nAudit topics keep kafka data "
              f"for {n} years.\n\nRetention is set per topic, part {n}.\n")
    write(root, "deals.md", "---\nid: kb-deals\ntitle: Closing deals\nauthors: [p-bo]\n---\n"
          "Negotiation tips for enterprise deals.\n")
    write(root, "onboarding.md", "---\nid: kb-onboard\ntitle: Onboarding\nauthors: [p-cy]\n"
          "---\nThe onboarding checklist for new hires.\n")
    return root


@pytest.fixture
def source(tmp_path, corpus, embedder) -> Store:
    """A data folder with something in every table: documents, people, a deleted
    document (gaps in ids, a change log with removals), keys, feedback, the query
    log, profile choices and a mentoring relationship with its goals."""
    store = Store.open(tmp_path / "source")
    Ingester(store, embedder).ingest([corpus], [corpus / "people.csv"])
    store.delete_document("kb-kafka-3")
    KeyRing(store).add("reader", ("staff",), name="laptop", person_id="p-ana")
    vector = embedder.embed(["kafka"])[0]
    FeedbackLog(store).add("kafka", vector, "helped", "kb-kafka-1", "voter-1", at=AT)
    QueryLog(store).record("kafka", vector, 0.8, False, 3, ["p-ana"], at=AT)
    ProfileBook(store).choose("p-bo", "learn", "kafka", 2)
    mentoring = Relationships(store)
    rel = mentoring.create("mentoring", "p-ana", ["p-bo"], [("p-bo", "learn kafka")],
                           "test", "p-ana", AT, capacity=2)
    mentoring.add_checkin(rel.id, "2024-05-02", "went well", [], "p-ana", AT)
    return store


def tables(store: Store) -> dict[str, list[tuple]]:
    """Every copied table's rows, in insertion (rowid) order."""
    out = {}
    for name in copying._tables(store):
        columns = sorted(copying._columns(store.db, name))
        out[name] = store.db.execute(f"SELECT {copying._names(columns)} FROM \"{name}\" "
                                     "ORDER BY rowid").fetchall()
    return out


def answers(store: Store, embedder) -> list[dict]:
    answerer = answerer_for(store, embedder)
    return [answerer.answer(q) for q in QUERIES]


def test_sqlite_to_postgresql_and_back_is_the_same_store(source, pg_url, tmp_path, embedder):
    expected = tables(source)
    before = embedder.texts
    expected_answers = answers(source, embedder)
    per_search = embedder.texts - before  # what answering embeds (the queries)
    report = copy_store(source, pg_url)
    assert not report.resumed
    assert {t.name: t.copied for t in report.tables} == {k: len(v) for k, v in expected.items()}
    assert "chunks_fts" not in expected and "mentoring_events" in expected

    postgres = open_store(pg_url)
    copy_store(postgres, tmp_path / "laptop")
    back = open_store(tmp_path / "laptop")
    for copy in (postgres, back):
        assert PROGRESS_TABLE not in copy.db.table_names()
        assert tables(copy) == expected
        ids, vectors = next(copy.iter_vectors())
        assert ids.tolist() == next(source.iter_vectors())[0].tolist()
        assert vectors.tobytes() == next(source.iter_vectors())[1].tobytes()
        assert copy.get_meta("next_chunk_id") == source.get_meta("next_chunk_id")
        # the derived indexes come from the stored vectors: only the queries are embedded
        before = embedder.texts
        assert answers(copy, embedder) == expected_answers
        # kb-kafka-1 first among twelve alike: the reader's verdict, copied, lifts it
        assert [a["articles"][0]["id"] for a in expected_answers] == [
            "kb-kafka-1", "kb-deals", "kb-onboard"]
        assert embedder.texts - before == per_search
    # FTS5, rebuilt from the passages on the laptop copy, ranks as the source's
    assert back.keyword_search("kafka", 50) == source.keyword_search("kafka", 50)
    assert back.count("chunks_fts") == source.count("chunks")


def test_a_copy_goes_on_as_a_store(source, pg_url, embedder):
    """Ids go on after the copied ones: a passage gets next_chunk_id and the change log's
    triggers record it; PostgreSQL's own sequences continue past the copied rows."""
    copy_store(source, pg_url)
    copy = open_store(pg_url)
    generation, next_id = copy.generation, int(source.get_meta("next_chunk_id"))
    copy.write_document(Document(id="kb-new", title="New", body="new words"),
                        [Chunk("kb-new", 0, "new words")], embedder.embed(["new words"]))
    assert copy.chunk_ids().max() == next_id
    changes = copy.changes_since(generation)
    assert changes is not None and changes.added.tolist() == [next_id]
    mentoring = Relationships(copy)
    (rel,) = mentoring.find()
    # one check-in and one goal were copied: the next ones are 2
    assert mentoring.add_checkin(rel.id, "2024-05-03", "again", [], "p-ana", AT) == 2
    assert mentoring.add_goal(rel.id, "p-bo", "negotiate", "p-ana", AT) == 2
    events = [r[0] for r in copy.db.execute("SELECT seq FROM mentoring_events ORDER BY seq")]
    assert events == list(range(1, len(events) + 1))


@pytest.mark.parametrize("kind", ["postgresql", "folder"])
def test_an_interrupted_copy_resumes_to_exactly_the_source(source, pg_url, tmp_path, kind):
    """Stopped between commits (by the progress callback) and inside one (by a failing
    insert), each time run again: the result is the source, no row twice."""
    target = pg_url if kind == "postgresql" else str(tmp_path / "copy")
    expected = tables(source)
    seen = []

    def stop_after(n: int):
        def progress(done: int, total: int, table: str) -> None:
            seen.append((table, done))
            if len(seen) == n:
                raise KeyboardInterrupt
        return progress

    with pytest.raises(KeyboardInterrupt):
        copy_store(source, target, stop_after(9), batch=7)
    assert ("chunks", 7) in seen  # stopped part way through the passages
    with pytest.raises(Conflict, match="unfinished copy"):  # no server or worker opens it
        Runtime.open(Settings(data_dir=tmp_path / "replica", embedder="hashing-2048",
                              database_url=target if kind == "postgresql" else None)
                     .with_overrides(None if kind == "postgresql" else Path(target)))
    inserts = copying._insert
    calls = []

    def failing(*args):
        calls.append(args)
        if len(calls) == 4:
            raise OSError("disk full")
        inserts(*args)

    copying._insert = failing
    try:
        with pytest.raises(OSError):
            copy_store(source, target, batch=7)
    finally:
        copying._insert = inserts
    seen.clear()
    report = copy_store(source, target, lambda d, t, w: seen.append((w, d)), batch=7)
    assert report.resumed and sum(t.before for t in report.tables) > 0
    copy = open_store(target)
    assert PROGRESS_TABLE not in copy.db.table_names()
    assert tables(copy) == expected


def test_a_copy_killed_mid_batch_resumes(source, tmp_path):
    """kill -9 in the middle of a copy (after a committed batch, inside the next
    transaction): run again, the copy is the source."""
    target = tmp_path / "copy"
    script = textwrap.dedent(f"""
        import os, signal
        from indexer import copying
        from indexer.store import Store
        inserts, calls = copying._insert, []
        def killing(*args):
            inserts(*args)
            calls.append(1)
            if len(calls) == 5:
                os.kill(os.getpid(), signal.SIGKILL)
        copying._insert = killing
        copying.copy_store(Store.open({str(Path(source.where).parent)!r}), {str(target)!r}, batch=5)
    """)
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == -signal.SIGKILL, run.stderr
    assert PROGRESS_TABLE in open_store(target).db.table_names()
    report = copy_store(source, target, batch=5)
    assert report.resumed
    assert tables(open_store(target)) == tables(source)


def test_a_target_with_another_store_is_refused(source, pg_url, tmp_path, corpus, embedder):
    other = Store.open(tmp_path / "other")
    Ingester(other, embedder).ingest([corpus / "deals.md"])
    copy_store(other, pg_url)
    with pytest.raises(Conflict, match="already holds a store"):
        copy_store(source, pg_url)
    # the unfinished copy of another store: told by the source named in store_copy
    with pytest.raises(KeyboardInterrupt):
        copy_store(other, tmp_path / "half", _interrupt, batch=1)
    with pytest.raises(Conflict, match="unfinished copy of another store"):
        copy_store(source, tmp_path / "half")
    # nor is an unfinished copy a source
    with pytest.raises(Conflict, match="is itself an unfinished copy"):
        copy_store(Store.open(tmp_path / "half"), tmp_path / "third")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("x")
    with pytest.raises(Conflict, match="not empty"):
        copy_store(source, tmp_path / "notes")


def test_two_copies_at_once_into_one_target_are_refused(source, tmp_path):
    """A second run that copies a batch while the first holds its place: the first
    stops rather than copy that batch again."""
    target = tmp_path / "copy"
    nested = []

    def second_run(done: int, total: int, table: str) -> None:
        if table == "chunks" and done and not nested:
            nested.append(1)
            with pytest.raises(KeyboardInterrupt):
                copy_store(source, target, _interrupt_later(), batch=5)

    with pytest.raises(Conflict, match="another whoknows migrate is copying"):
        copy_store(source, target, second_run, batch=5)
    copy_store(source, target, batch=5)
    assert tables(open_store(target)) == tables(source)


def _interrupt_later():
    seen = []

    def progress(done: int, total: int, table: str) -> None:
        seen.append(table)
        if seen.count("chunks") == 2:  # its first chunks batch is committed
            raise KeyboardInterrupt
    return progress


def test_a_store_only_created_counts_as_empty(source, pg_url):
    open_store(pg_url)  # `whoknows --database-url URL status` creates the schema
    copy_store(source, pg_url)
    assert tables(open_store(pg_url)) == tables(source)


def test_a_source_that_changed_since_the_copy_began_is_refused(source, pg_url, embedder):
    with pytest.raises(KeyboardInterrupt):
        copy_store(source, pg_url, _interrupt, batch=5)
    source.delete_document("kb-deals")
    with pytest.raises(Conflict, match="changed since the copy"):
        copy_store(source, pg_url)


def test_clear_errors_for_a_target_out_of_reach(source, tmp_path):
    with pytest.raises(StoreUnavailable, match="unreachable"):
        copy_store(source, "postgresql://whoknows@127.0.0.1:1/nothing")
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(WhoknowsError, match="not writable"):
            copy_store(source, locked / "copy")
    (tmp_path / "file").write_text("")
    with pytest.raises(WhoknowsError, match="cannot create the folder"):
        copy_store(source, tmp_path / "file" / "copy")


def test_the_command_copies_with_progress(source, pg_url, tmp_path, monkeypatch):
    monkeypatch.setenv("WHOKNOWS_DATA_DIR", str(Path(source.where).parent))
    # set, so that the value --database-url writes is undone after the test
    monkeypatch.setenv("WHOKNOWS_DATABASE_URL", "")
    runner = CliRunner()
    result = runner.invoke(app, ["migrate", "--to", pg_url, "--batch", "10"])
    assert result.exit_code == 0, result.output
    chunks = source.count("chunks")
    assert re.search(rf"\n  chunks +{chunks} of {chunks} rows\n", result.output)
    assert "copied " in result.output and "rows/s" in result.output
    # and back to a folder, the source named before the command
    back = tmp_path / "laptop"
    result = runner.invoke(app, ["--database-url", pg_url, "migrate", "--to", str(back),
                                 "--json"])
    assert result.exit_code == 0, result.output
    assert tables(open_store(back)) == tables(source)
    again = runner.invoke(app, ["--database-url", pg_url, "migrate", "--to", str(back)])
    assert isinstance(again.exception, Conflict)


def _interrupt(done: int, total: int, table: str) -> None:
    if table == "chunks" and done:
        raise KeyboardInterrupt
