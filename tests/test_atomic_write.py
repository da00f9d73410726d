"""Index files are replaced whole or not at all, and a writer killed between write and
rename leaves no temporary file behind for ever."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import unit

from indexer.files import atomic_write, remove_leftovers
from indexer.indexes import DerivedIndexes
from indexer.keywords import INDEX_FILE as KEYWORDS_FILE
from indexer.records import Chunk, Document
from indexer.store import Store
from indexer.vectors import INDEX_FILE, MANIFEST_FILE


@pytest.fixture(scope="module")
def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def data(tmp_path):
    """A data folder with a store of two passages and both indexes saved."""
    store = Store.open(tmp_path)
    store.write_document(Document(id="d1", title="Kafka", body="kafka retention"),
                         [Chunk(doc_id="d1", ordinal=0, text="kafka retention")],
                         np.stack([unit([1, 0, 0, 0])]))
    DerivedIndexes.load(store, 4, tmp_path)
    return tmp_path, store


def test_atomic_write_replaces_the_whole_file(tmp_path):
    target = tmp_path / "f.json"
    target.write_text("old")
    with atomic_write(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["f.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_tmp(tmp_path):
    target = tmp_path / "f.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["f.json"]


@pytest.mark.parametrize("index", ["vectors", "keywords"])
def test_a_crash_between_write_and_rename_leaves_no_tmp_after_the_next_load(data, index):
    folder, store = data
    # A real writer process, killed where os.replace would have renamed its file.
    script = textwrap.dedent(f"""
        import os
        from indexer.keywords import KeywordIndex
        from indexer.store import Store
        from indexer.vectors import VectorIndex
        store = Store.open({str(folder)!r})
        os.replace = lambda *a: os._exit(9)
        if {index!r} == "vectors":
            VectorIndex.build(store, 4).save({str(folder)!r})
        else:
            KeywordIndex.build(store).save({str(folder)!r})
    """)
    crashed = subprocess.run([sys.executable, "-c", script], cwd=os.getcwd())
    assert crashed.returncode == 9
    assert len(list(folder.glob("*.tmp"))) == 1  # what the crash left
    if index == "vectors":
        assert len(DerivedIndexes.load(store, 4, folder).vectors) == 1
    else:
        assert len(DerivedIndexes.load(store, 4, folder).keywords.ids) == 1
    assert list(folder.glob("*.tmp")) == []


@pytest.mark.parametrize("name", [
    f"{INDEX_FILE}.{{pid}}.0a1b2c3d.tmp", f"{MANIFEST_FILE}.{{pid}}.0a1b2c3d.tmp",
    f"{INDEX_FILE}.{{pid}}.tmp",  # the name earlier versions wrote
])
def test_tmp_files_of_dead_writers_are_removed_and_of_live_ones_kept(data, name, dead_pid):
    folder, store = data
    dead = folder / name.format(pid=dead_pid)
    live = folder / name.format(pid=os.getpid())  # a save in progress in this process
    dead.write_bytes(b"half")
    live.write_bytes(b"half")
    DerivedIndexes.load(store, 4, folder)
    assert not dead.exists() and live.exists()


def test_a_keywords_tmp_of_a_dead_writer_is_removed_at_load(data, dead_pid):
    folder, store = data
    dead = folder / f"{KEYWORDS_FILE}.{dead_pid}.0a1b2c3d.tmp"
    dead.write_bytes(b"half")
    DerivedIndexes.load(store, 4, folder)
    assert not dead.exists()


def test_a_token_of_decimal_digits_is_not_read_as_the_pid(data, dead_pid):
    """A token is 8 hex digits; about 1 in 43 has no letter. CI once kept such a file
    (``keywords.npz.29721.11971156.tmp``) because its name parsed as target
    ``keywords.npz.29721`` written by pid 11971156."""
    folder, store = data
    dead = folder / f"{KEYWORDS_FILE}.{dead_pid}.11971156.tmp"
    live = folder / f"{KEYWORDS_FILE}.{os.getpid()}.11971156.tmp"
    dead.write_bytes(b"half")
    live.write_bytes(b"half")
    DerivedIndexes.load(store, 4, folder)
    assert not dead.exists() and live.exists()


def test_only_the_named_indexes_temporary_files_are_touched(tmp_path, dead_pid):
    others = [f"notes.{dead_pid}.tmp", f"{INDEX_FILE}.bak", f"{INDEX_FILE}.x{dead_pid}.tmp",
              f"my{INDEX_FILE}.{dead_pid}.tmp"]
    for name in others:
        (tmp_path / name).write_text("keep")
    assert remove_leftovers(tmp_path, [INDEX_FILE, MANIFEST_FILE]) == []
    assert sorted(os.listdir(tmp_path)) == sorted(others)
