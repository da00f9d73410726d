import pytest
from conftest import DATA, write

from indexer.errors import IngestError, NotFound


def corpus(root):
    write(root / "docs", "kafka.md", """
        ---
        id: kb-kafka
        title: Kafka retention
        authors: [p-ana]
        ---
        Audit topics keep data for seven years.
        """)
    write(root / "docs", "oncall.txt", "On-call handbook\nPage the secondary after 15 minutes.\n")
    write(root / "people", "people.yaml", """
        - {id: p-ana, type: person, name: Ana, skills: [{name: Kafka, level: 5}]}
        - {id: p-bo, type: person, name: Bo, email: bo@x.example}
        """)


def test_first_ingest_adds_everything(tmp_path, ingester, store):
    corpus(tmp_path)
    report = ingester.ingest([tmp_path / "docs", tmp_path / "people"])
    assert sorted(report.documents.added) == ["docs/oncall.txt", "kb-kafka"]
    assert sorted(report.people.added) == ["p-ana", "p-bo"]
    assert report.failed == []
    assert store.count("documents") == 2 and store.count("people") == 2


def test_reingesting_unchanged_input_embeds_nothing(tmp_path, ingester, embedder):
    corpus(tmp_path)
    ingester.ingest([tmp_path])
    before = embedder.texts
    report = ingester.ingest([tmp_path])
    assert embedder.texts == before
    assert len(report.documents.unchanged) == 2 and len(report.people.unchanged) == 2
    assert report.documents.added == report.documents.updated == []


def test_documents_cut_another_way_are_cut_again_once(tmp_path, store, embedder):
    from ingest.pipeline import Ingester

    corpus(tmp_path)
    Ingester(store, embedder, max_words=5, overlap=1).ingest([tmp_path])
    assert store.document_hashes()["kb-kafka"][2] == "words-5/overlap-1"
    assert len(store.get_chunks(store.chunk_ids().tolist())) == 4  # 7 words + 7 words, by 5
    before = embedder.texts
    # The chunker changed (an upgrade, or other settings): same content, cut again.
    report = Ingester(store, embedder).ingest([tmp_path])
    assert sorted(report.documents.rechunked) == sorted(store.document_hashes())  # both
    assert report.documents.unchanged == report.documents.updated == []
    assert "2 re-chunked (same content" in report.documents.summary()
    assert report.to_dict()["documents"]["rechunked"] == 2
    assert embedder.texts - before == 2 and store.count("chunks") == 2
    assert store.document_hashes()["kb-kafka"][2] == "words-180/overlap-30"
    # And only once.
    again = Ingester(store, embedder).ingest([tmp_path])
    assert len(again.documents.unchanged) == 2 and again.documents.rechunked == []
    assert embedder.texts - before == 2


def test_a_store_from_before_chunking_was_recorded_is_migrated(tmp_path, embedder):
    from indexer.store import Store
    from ingest.pipeline import Ingester

    corpus(tmp_path / "in")
    store = Store.open(tmp_path / "data")
    Ingester(store, embedder).ingest([tmp_path / "in"])
    store.db["documents"].transform(drop={"chunking"})  # the schema of earlier versions,
    store.db.execute("DROP TABLE schema_migrations")  # which had no migrations table
    store.db.close()
    reopened = Store.open(tmp_path / "data")
    assert "chunking" in reopened.db["documents"].columns_dict
    assert reopened.document_hashes()["kb-kafka"][2] is None
    report = Ingester(reopened, embedder).ingest([tmp_path / "in"])
    # Nothing is known of how they were cut, so they are cut (and embedded) again, once.
    assert sorted(report.documents.rechunked) == sorted(reopened.document_hashes())  # both
    assert reopened.count("documents") == 2 and reopened.count("chunks") == 2


def test_changed_document_replaces_its_chunks(tmp_path, ingester, store):
    corpus(tmp_path)
    ingester.ingest([tmp_path])
    write(tmp_path / "docs", "kafka.md", "---\nid: kb-kafka\ntitle: Kafka retention\n---\n"
          "Audit topics now keep data for ten years.\n")
    report = ingester.ingest([tmp_path])
    assert report.documents.updated == ["kb-kafka"]
    texts = [r["text"] for r in store.db.query("SELECT text FROM chunks WHERE doc_id='kb-kafka'")]
    assert texts == ["Audit topics now keep data for ten years."]
    if store.backend == "sqlite":  # FTS5, SQLite's reference keyword index, follows too
        assert store.keyword_search('"seven"', 5) == []


def test_sync_removes_what_disappeared_from_the_folder(tmp_path, ingester, store):
    corpus(tmp_path)
    ingester.ingest([tmp_path])
    (tmp_path / "docs" / "oncall.txt").unlink()
    report = ingester.ingest([tmp_path], sync=True)
    # A path-derived id is prefixed with the name of the folder given.
    gone = f"{tmp_path.name}/docs/oncall.txt"
    assert report.documents.removed == [gone]
    with pytest.raises(NotFound):
        store.get_document(gone)


def test_without_sync_nothing_is_removed(tmp_path, ingester, store):
    corpus(tmp_path)
    ingester.ingest([tmp_path])
    (tmp_path / "docs" / "oncall.txt").unlink()
    assert ingester.ingest([tmp_path]).documents.removed == []
    assert store.count("documents") == 2


def test_bad_files_are_reported_and_the_rest_lands(tmp_path, ingester, store):
    corpus(tmp_path)
    (tmp_path / "docs" / "corrupt.pdf").write_bytes((DATA / "corrupt.pdf").read_bytes())
    (tmp_path / "docs" / "blank.pdf").write_bytes((DATA / "blank.pdf").read_bytes())
    write(tmp_path / "docs", "image.png", "not really")
    write(tmp_path / "docs", "faq.jsonl", '{"id": "f1", "body": "first"}\n{oops\n')
    report = ingester.ingest([tmp_path])
    reasons = {(p.file.split("/")[-1], p.line): p.reason for p in report.failed}
    assert "corrupt or unreadable PDF" in reasons[("corrupt.pdf", None)]
    assert "no extractable text" in reasons[("blank.pdf", None)]
    assert "unknown extension '.png'" in reasons[("image.png", None)]
    assert "invalid JSON" in reasons[("faq.jsonl", 2)]
    assert store.count("documents") == 3  # kafka, oncall and the good FAQ line


def test_strict_fails_and_writes_nothing(tmp_path, ingester, store):
    corpus(tmp_path)
    write(tmp_path / "docs", "faq.jsonl", "{oops\n")
    with pytest.raises(IngestError, match="nothing was written"):
        ingester.ingest([tmp_path], strict=True)
    assert store.count("documents") == 0 and store.count("people") == 0


def test_a_failed_file_keeps_its_documents_under_sync(tmp_path, ingester, store):
    write(tmp_path / "docs", "faq.jsonl", '{"id": "f1", "body": "first"}\n')
    ingester.ingest([tmp_path])
    write(tmp_path / "docs", "faq.jsonl", "{broken json\n")
    report = ingester.ingest([tmp_path], sync=True)
    assert report.documents.removed == []
    assert store.get_document("f1").body == "first"


def test_duplicate_ids_are_reported(tmp_path, ingester):
    write(tmp_path, "a.md", "---\nid: same\n---\nalpha\n")
    write(tmp_path, "b.md", "---\nid: same\n---\nbeta\n")
    report = ingester.ingest([tmp_path])
    assert report.documents.added == ["same"]
    assert ["duplicate id 'same'" in p.reason for p in report.failed] == [True]


def test_a_people_file_given_with_people_is_read_as_people(tmp_path, ingester):
    write(tmp_path, "team.yaml", "- {id: p-x, name: Xi, skills: [Rust:4]}\n")
    report = ingester.ingest([tmp_path], people_paths=[tmp_path / "team.yaml"])
    assert report.people.added == ["p-x"] and report.failed == []


def test_missing_path_is_reported(tmp_path, ingester):
    report = ingester.ingest([tmp_path / "nope"])
    assert [p.reason for p in report.failed] == ["no such file or folder"]


def test_a_long_document_is_chunked_past_the_model_window(tmp_path, ingester, store):
    body = " ".join(f"filler{i}" for i in range(600)) + " the zebra-crossing-protocol rule."
    write(tmp_path, "long.md", f"# Long\n\n{body}\n")
    ingester.ingest([tmp_path])
    hits = [r for r in store.db.query("SELECT ordinal, text FROM chunks") if "zebra" in r["text"]]
    assert len(hits) == 1
    assert hits[0]["ordinal"] >= 3


def test_passages_fit_the_model_window_in_word_pieces(tmp_path, store, embedder):
    from indexer.embedders.minilm_torch import model_token_counter
    from ingest.pipeline import Ingester, passage_text

    # Words of many pieces (about 5 each): 180 of them would be some 900 pieces.
    body = " ".join(f"immunohistochemical-{i}/pCREB1" for i in range(400))
    title = "Phosphorylated CREB1 staining in murine hippocampal slices"
    write(tmp_path, "dense.json", f'{{"id": "d1", "title": "{title}", "body": "{body}"}}')
    tokens = model_token_counter(None)  # the packaged MiniLM tokenizer (no model loaded)
    Ingester(store, embedder, tokens=tokens).ingest([tmp_path])
    chunks = store.get_chunks(store.chunk_ids().tolist())
    texts = [c["text"] for c in sorted(chunks.values(), key=lambda c: c["ordinal"])]
    sizes = [tokens.count(passage_text(title, t)) + 2 for t in texts]  # + [CLS], [SEP]
    assert len(texts) > 8 and max(sizes) <= tokens.max_tokens == 256
    assert min(sizes) > 128 or sizes.index(min(sizes)) == len(sizes) - 1  # none cut short
    # Every word is in a passage: the first and the last and one from the middle.
    assert texts[0].startswith("immunohistochemical-0/") and texts[-1].endswith("-399/pCREB1")
    assert any("immunohistochemical-200/" in t for t in texts)


def big_jsonl(root, n: int):
    lines = [f'{{"id": "d{i}", "title": "Doc {i}", "text": "note number {i} about topic{i % 7}"}}'
             for i in range(n)]
    lines.insert(5, "{not json")
    return write(root, "many.jsonl", "\n".join(lines) + "\n")


def test_a_large_file_streams_in_batches_with_moving_progress(tmp_path, store, embedder):
    from ingest.pipeline import Ingester

    path = big_jsonl(tmp_path, 50)
    seen = []
    report = Ingester(store, embedder, batch_passages=8).ingest(
        [path], progress=lambda done, total, what: seen.append((done, total)))
    assert len(report.documents.added) == 50 and store.count("chunks") == 50
    # Line 6 is bad; the rest of the file lands.
    assert [(p.line, p.reason) for p in report.failed] == [(6, "invalid JSON: Expecting "
                                                                "property name enclosed in "
                                                                "double quotes")]
    # 50 one-passage documents in batches of 8: 7 model calls (6 full, then 2 left).
    assert embedder.calls == 7
    dones = [d for d, _ in seen]
    assert dones == sorted(dones) and len(seen) == 7
    assert seen[-1] == (51, 51)  # 51 lines read of the 51 the file holds
    assert set(report.timings) == {"read", "embed", "write", "total"}


def test_batch_size_does_not_change_what_is_stored(tmp_path, embedder):
    from indexer.store import Store
    from ingest.pipeline import Ingester

    path = big_jsonl(tmp_path, 30)
    stores = [Store.memory(), Store.memory()]
    for store, size in zip(stores, (3, 1000), strict=True):
        Ingester(store, embedder, batch_passages=size).ingest([path])
    rows = [list(s.db.query("SELECT doc_id, ordinal, text, vector FROM chunks ORDER BY doc_id"))
            for s in stores]
    assert rows[0] == rows[1] and len(rows[0]) == 30


def test_a_failing_embedder_stops_the_run_with_committed_batches_whole(tmp_path, store,
                                                                       embedder):
    from ingest.pipeline import Ingester

    path = big_jsonl(tmp_path, 20)
    real = embedder.embed

    def flaky(texts):
        if embedder.calls >= 2:
            raise RuntimeError("model crashed")
        return real(texts)

    embedder.embed = flaky
    with pytest.raises(RuntimeError, match="model crashed"):
        Ingester(store, embedder, batch_passages=5).ingest([path])
    # Two batches of 5 were written; the third never started. Each is whole.
    assert store.count("documents") == 10 and store.count("chunks") == 10
