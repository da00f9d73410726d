"""A short question whose rarest word none of the passages that met it best holds is only
touched on (search/subject.py), for a model whose line was calibrated (search/answers.py,
``asks_subject``)."""

from __future__ import annotations

import pytest
from conftest import answerer_for, write

from indexer.indexes import DerivedIndexes
from search.subject import subject_unmet

# With the hashing embedder a cosine counts shared words: "call logs" meets the first
# passage at 2 / (sqrt(2) * 3) = 0.47, and "call handbook" or "call logs" each of the
# three call apps at 1 / (sqrt(2) * sqrt(3)) = 0.41, over MiniLM's line (0.40) and under
# clearly close (0.50); the 20 notes share "call" (0.27), so that 20 documents or more are
# found. Without the subject the three closest average 0.41 for "call handbook", over
# the line less the slack (0.385): not weak. The guide holds "handbook" among 20 words
# (0.16): further than the 10 closest documents.
DOCS = ['{"id": "logs", "body": "call logs kept desk team daily weekly monthly yearly"}',
        '{"id": "screen", "body": "call screening apps"}',
        '{"id": "block", "body": "call blocking apps"}',
        '{"id": "history", "body": "call history apps"}',
        '{"id": "guide", "body": "handbook ' + " ".join(f"page{i}" for i in range(19)) + '"}',
        *(f'{{"id": "n{i}", "body": "call note{i} text{i} lemur otter heron crane"}}'
          for i in range(20))]


@pytest.fixture
def folder(tmp_path, ingester, store):
    write(tmp_path, "docs.jsonl", "\n".join(DOCS))
    ingester.ingest([tmp_path])
    return store


def chunks_of(store, *doc_ids):
    return [c["id"] for c in store.db.query(
        f"SELECT id FROM chunks WHERE doc_id IN ({','.join('?' * len(doc_ids))})", doc_ids)]


def test_holding_names_the_passages_with_any_form_of_the_word(folder, embedder):
    keywords = DerivedIndexes.build(folder, embedder.dim).keywords
    assert sorted(keywords.holding("apps")) == sorted(chunks_of(folder, "screen", "block",
                                                                "history"))
    assert list(keywords.holding("log")) == chunks_of(folder, "logs")  # stemmed as BM25
    assert len(keywords.holding("zebra")) == 0


def test_the_rarest_word_must_be_met(folder, embedder):
    keywords = DerivedIndexes.build(folder, embedder.dim).keywords
    apps = chunks_of(folder, "screen", "block", "history")
    # "handbook" (1 passage) is rarer than "call" (24): the apps do not hold it.
    assert subject_unmet(["call", "handbook"], apps, keywords) is True
    assert subject_unmet(["call", "handbook"], chunks_of(folder, "guide"), keywords) is False
    assert subject_unmet(["call", "logs"], chunks_of(folder, "logs"), keywords) is False
    # Held by a passage of the closest documents (10 by default), or further down.
    assert subject_unmet(["call", "handbook"], [*apps, *chunks_of(folder, "guide")],
                         keywords) is False
    assert subject_unmet(["call", "handbook"], [*apps, *chunks_of(folder, "guide")],
                         keywords, documents=3) is True
    assert subject_unmet(["call", "zebra"], apps, keywords) is True  # held nowhere
    assert subject_unmet(["handbook"], apps, keywords) is True  # one word: its subject
    # No word the corpus writes (a question in another language): not asked.
    assert subject_unmet(["zebra", "okapi"], apps, keywords) is False
    # Nor is a question written without spaces: its terms are runs, not words.
    assert subject_unmet(["handbook", "街道有多宽"], apps, keywords) is False
    assert subject_unmet(["handbook", "zebra"], apps, keywords) is True
    # Three words are not asked (SHORT_QUESTION), nor is a question of none.
    assert subject_unmet(["call", "handbook", "staff"], apps, keywords) is False
    assert subject_unmet(["call", "handbook", "staff"], apps, keywords, most_words=3) is True
    assert subject_unmet([], apps, keywords) is False
    # Words held by as many passages tie: either unmet is enough.
    assert subject_unmet(["screening", "blocking"], chunks_of(folder, "screen"),
                         keywords) is True
    assert subject_unmet(["screening", "blocking"], chunks_of(folder, "screen", "block"),
                         keywords) is False


def test_a_short_question_met_only_through_its_common_word_is_weak(folder, embedder):
    from search.answers import Answerer

    plain = answerer_for(folder, embedder)
    embedder.name = "all-MiniLM-L6-v2/onnx-int8"  # calibrated, with a slack
    calibrated = Answerer(folder, plain.searcher.indexes, embedder)
    handbook = calibrated.answer("call handbook", limit=30)
    closest = sorted((a["dense_score"] for a in handbook["articles"]), reverse=True)
    assert closest[:3] == pytest.approx([0.408] * 3, abs=1e-3)
    guide = next(a for a in handbook["articles"] if a["id"] == "guide")
    assert guide["dense_score"] < closest[9]  # found, but not among the 10 closest
    assert handbook["weak_match"] is True
    logs = calibrated.answer("call logs", limit=30)
    assert logs["articles"][0]["id"] == "logs" and logs["articles"][0]["dense_score"] < 0.5
    assert logs["weak_match"] is False  # "logs" is in the passage that met it
    # The tests' hashing model was not calibrated: it does not ask.
    assert plain.answer("call handbook")["weak_match"] is False
    embedder.name = "multilingual-e5-small/onnx-int8"  # calibrated, with no slack
    e5 = Answerer(folder, plain.searcher.indexes, embedder)
    assert e5.support_slack is None and e5.answer("call handbook")["weak_match"] is True
    assert e5.answer("call logs")["weak_match"] is False



def test_words_are_not_asked_of_passages_in_another_language(tmp_path, ingester, store,
                                                             embedder):
    """e5 meets a question in one language with passages in another: a word tells
    nothing there, so the subject is asked only of passages in a language the question's
    words are written in."""
    write(tmp_path, "docs.jsonl", "\n".join([
        '{"id": "en", "body": "route planning heuristics for drivers", "language": "en"}',
        '{"id": "de", "body": "Tourenplanung mit Heuristiken", "language": "de"}',
        '{"id": "lager", "body": "Lagerverwaltung im Überblick", "language": "de"}']))
    ingester.ingest([tmp_path])
    keywords = DerivedIndexes.build(store, embedder.dim).keywords
    assert keywords.languages_of(chunks_of(store, "en", "de")) == {"en", "de"}
    question = ["tourenplanung"]  # written in German only
    assert subject_unmet(question, chunks_of(store, "lager"), keywords) is True
    assert subject_unmet(question, chunks_of(store, "de"), keywords) is False
    assert subject_unmet(question, chunks_of(store, "en"), keywords) is False  # not asked
    assert subject_unmet(question, chunks_of(store, "lager", "en"), keywords) is False
    # A question whose stop words tell its language is asked only of passages in it: a
    # Portuguese question's stem may match English words ("demanda": "demand").
    english = chunks_of(store, "en")
    assert subject_unmet(["planning", "zebra"], english, keywords) is True
    assert subject_unmet(["planning", "zebra"], english, keywords, "pt") is False
    assert subject_unmet(["planning", "zebra"], english, keywords, "en") is True


def test_only_what_the_caller_may_read_decides_the_subject(tmp_path, ingester, store,
                                                          embedder):
    """Which word is the rarest is counted over the passages the caller may read: a
    restricted document never changes a reader's answer (docs/security.md)."""
    from indexer.records import Filters
    from search.answers import Answerer

    def doc(i, words, groups=()):
        return {"id": f"{words[0]}-{i}", "body": " ".join(words), "language": "en",
                "groups": list(groups)}

    lamps = [doc(i, ["lamp", f"red{i}", f"blue{i}"]) for i in range(3)]  # 0.41 each
    near = [doc(i, ["lamp", *(f"w{i}x{k}" for k in range(10))]) for i in range(3, 10)]
    vases = [doc(i, ["vase", *(f"v{i}x{k}" for k in range(30))]) for i in range(12)]
    secret = [doc(i, ["lamp", *(f"s{i}x{k}" for k in range(40))], ["hr"])
              for i in range(10, 15)]
    write(tmp_path, "docs.jsonl", "\n".join(
        __import__("json").dumps(d) for d in [*lamps, *near, *vases, *secret]))
    ingester.ingest([tmp_path])
    plain = answerer_for(store, embedder)
    embedder.name = "all-MiniLM-L6-v2/onnx-int8"
    answerer = Answerer(store, plain.searcher.indexes, embedder)
    # A reader: "lamp" (10 passages) is rarer than "vase" (12), and the 3 closest hold it.
    reader = answerer.answer("lamp vase", filters=Filters(groups=()), limit=30)
    assert sorted(a["dense_score"] for a in reader["articles"])[-3:] == pytest.approx(
        [0.408] * 3, abs=1e-3)
    assert reader["weak_match"] is False
    # Everything counted (an admin), "lamp" is in 15 passages: "vase" is the subject,
    # and none of the 10 closest holds it.
    assert answerer.answer("lamp vase", limit=30)["weak_match"] is True
    assert answerer.answer("lamp vase", filters=Filters(groups=("HR",)))["weak_match"]
