"""In-process query latency at 100k chunks: query embedding + dense + BM25 + fusion +
experts, as one call of ``Answerer.answer`` (what /api/search runs). BM25 runs on the
in-memory keyword index (indexer/keywords.py); BM25 alone is also timed there and
through the store's FTS5 table (the reference it reproduces), on the same queries.

    python bench/latency_inprocess.py [--chunks 100000] [--embedder onnx-int8]

The index (built once, cached under bench/.cache/) holds ``--chunks`` passages
made from real ones: ``--pool`` passages of shuffled demo-corpus sentences are
embedded with the real model, then each is repeated with its sentences
re-shuffled and its vector jittered (cosine ~0.97 to the original), so the FAISS
index and the BM25 index have the size and the vocabulary of a real corpus of
that size without hours of embedding. Demo people are the authors. Past the ANN
threshold (50k chunks by default) the dense search runs on the IVF index.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import time

import numpy as np
import yaml
from common import CACHE, ROOT, write_results
from latency_http import QUERIES

from indexer.embedders import embed_queries, make_embedder, normalise
from indexer.indexes import DerivedIndexes
from indexer.records import Chunk, Document
from indexer.store import Store
from ingest.people import parse_person
from ingest.pipeline import passage_text
from search.answers import Answerer
from search.retrieval import CANDIDATE_CHUNKS
from search.text import MAX_TERMS, terms


def sentences() -> list[str]:
    out = []
    for path in sorted((ROOT / "corpus").rglob("*.md")):
        text = re.sub(r"\A---.*?---", "", path.read_text(), flags=re.DOTALL)
        out += [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) > 5]
    return out


def build(store: Store, kind: str, chunks: int, pool: int) -> None:
    embedder = make_embedder(kind, cache_dir=CACHE / "models")
    store.bind_embedder(embedder.name, embedder.dim)
    people = yaml.safe_load((ROOT / "corpus/people/people.yaml").read_text())
    for record in people:
        store.write_person(parse_person(record, "people.yaml"), None)
    ids = [p["id"] for p in people]
    rng, lines = random.Random(7), sentences()
    bodies = [" ".join(rng.sample(lines, 5)) for _ in range(pool)]
    titles = [b.split(".")[0][:80] for b in bodies]
    started = time.perf_counter()
    base = embedder.embed([passage_text(t, b) for t, b in zip(titles, bodies, strict=True)])
    print(f"embedded {pool} passages in {time.perf_counter() - started:.0f} s", flush=True)
    noise = np.random.default_rng(7)
    for start in range(0, chunks, 5000):
        items = []
        for i in range(start, min(chunks, start + 5000)):
            j = i % pool
            words = re.split(r"(?<=[.!?])\s+", bodies[j])
            body = " ".join(rng.sample(words, len(words))) if i >= pool else bodies[j]
            vector = base[j] + (noise.normal(size=base.shape[1]) * 0.25 / np.sqrt(
                base.shape[1]) if i >= pool else 0)
            doc = Document(id=f"g{i}", title=titles[j], body=body,
                           authors=tuple(rng.sample(ids, rng.choice([1, 2]))))
            items.append((doc, [Chunk(doc.id, 0, body)], normalise(vector[None])))
        store.write_documents(items)
    print(f"wrote {chunks} chunks", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--pool", type=int, default=5_000)
    parser.add_argument("--embedder", default="onnx-int8")
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    data = CACHE / f"inprocess-{args.chunks}-{args.embedder}"
    data.mkdir(parents=True, exist_ok=True)
    store = Store.open(data)
    if store.count("chunks") < args.chunks:
        build(store, args.embedder, args.chunks, args.pool)
    embedder = make_embedder(args.embedder, cache_dir=CACHE / "models")
    started = time.perf_counter()
    indexes = DerivedIndexes.load(store, embedder.dim, data)  # built and saved the first run
    vectors, keywords = indexes.vectors, indexes.keywords
    print(f"{vectors.kind} index of {len(vectors)} chunks and keyword index "
          f"({len(keywords.vocab)} terms) loaded in {time.perf_counter() - started:.1f} s",
          flush=True)
    answerer = Answerer(store, indexes, embedder)
    rng = random.Random(11)
    for q in QUERIES:  # warm-up: model, caches
        answerer.answer(q, limit=10, experts=5)
    total, embed, memory, fts5 = [], [], [], []
    for _ in range(args.queries):
        query = rng.choice(QUERIES)
        started = time.perf_counter()
        embed_queries(embedder, [query])
        embed.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        answerer.answer(query, limit=10, experts=5)
        total.append((time.perf_counter() - started) * 1000)
        found = terms(query)[:MAX_TERMS]
        started = time.perf_counter()
        keywords.search(found, CANDIDATE_CHUNKS)
        memory.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        # FTS5's fastest form: ranked on its own table, no joins (session 2's search path)
        store.db.execute("SELECT rowid, -bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts "
                         "MATCH ? ORDER BY bm25(chunks_fts) LIMIT ?",
                         [" OR ".join(f'"{t}"' for t in found), CANDIDATE_CHUNKS]).fetchall()
        fts5.append((time.perf_counter() - started) * 1000)

    def pct(values: list[float]) -> dict:
        q = statistics.quantiles(values, n=100)
        return {"p50_ms": round(q[49], 2), "p95_ms": round(q[94], 2)}

    results = {"chunks": len(vectors), "index": vectors.kind, "embedder": embedder.name,
               "answer": pct(total), "query_embedding_alone": pct(embed),
               "bm25_alone_in_memory": pct(memory), "bm25_alone_fts5": pct(fts5)}
    print(json.dumps(results, indent=1))
    print("wrote", write_results(f"latency-inprocess-{args.chunks}", results))


if __name__ == "__main__":
    main()
