"""Killing an ingest at any moment leaves the last committed state readable and consistent.

Seconds of kills: with the fault-injection set (``make chaos``, in CI)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import write

from indexer.indexes import DerivedIndexes
from indexer.store import Store


@pytest.mark.chaos
def test_killed_ingest_leaves_a_consistent_store(tmp_path):
    corpus = tmp_path / "corpus"
    for i in range(400):
        write(corpus, f"d{i:03}.md", f"# Note {i}\n\n" + " ".join(
            f"word{(i * 7 + j) % 997}" for j in range(400)) + "\n")
    data = tmp_path / "data"
    env = {**os.environ, "WHOKNOWS_EMBEDDER": "hashing-2048", "WHOKNOWS_DATA_DIR": str(data)}
    cmd = [sys.executable, "-c", "from api.cli import main; main()", "ingest", str(corpus)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Kill it once some documents are committed but (very likely) before it finishes.
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if (data / "whoknows.db").exists() and _documents(data) >= 20:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    store = Store.open(data)
    docs = store.count("documents")
    # Every stored document has its chunks and FTS rows; no orphans either way.
    orphans = store.db.execute("SELECT count(*) FROM documents d WHERE NOT EXISTS "
                               "(SELECT 1 FROM chunks c WHERE c.doc_id = d.id)").fetchone()[0]
    fts = store.db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0]
    assert orphans == 0 and fts == store.count("chunks")
    index = DerivedIndexes.load(store, 2048, data).vectors
    assert len(index) == store.count("chunks")

    # Running again finishes the job: what was committed is unchanged, the rest is added.
    done = subprocess.run([*cmd, "--json"], env=env, capture_output=True, text=True, check=True)
    report = json.loads(done.stdout)["documents"]
    assert report["unchanged"] == docs and report["added"] == 400 - docs


def _documents(data) -> int:
    try:
        return Store.open(data).count("documents")
    except Exception:
        return 0
