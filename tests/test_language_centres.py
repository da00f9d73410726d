"""A question leaves its language's corner of a multilingual model's space before it
meets the passages (indexer.language_centres): the answer in another language is found
before the question's own language's passages about something else."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import CountingEmbedder, write

from indexer.indexes import DerivedIndexes
from indexer.language import MIN_HELD
from indexer.language_centres import MIN_PASSAGES, LanguageCentres
from indexer.store import Store
from ingest.pipeline import Ingester
from search.retrieval import ACROSS_LANGUAGES_DENSE_WEIGHT, DENSE_WEIGHT, Searcher

GERMAN = {"der", "die", "und", "wie", "mit", "ist"}


class Flavoured(CountingEmbedder):
    """The hashing embedder with a direction per language added to every vector, as a
    multilingual model's vectors carry their text's language."""

    def __init__(self, shifts: bool = True) -> None:
        super().__init__(256)
        self.name = "flavoured"
        self.shifts_query_language = shifts

    def embed(self, texts):
        words = super().embed(texts)
        words[:, :2] = 0.0
        words /= np.maximum(np.linalg.norm(words, axis=1, keepdims=True), 1e-9)
        for row, text in zip(words, texts, strict=True):
            row[0 if GERMAN & set(text.lower().split()) else 1] = 1.2
        return words / np.linalg.norm(words, axis=1, keepdims=True)


def corpus(tmp_path, german: int = MIN_PASSAGES + 5) -> Store:
    rows = [{"id": "answer", "title": "Consumer lag", "body": "kafka consumer lag alerts",
             "language": "en"}]
    rows += [{"id": f"en-{i}", "title": f"Note {i}", "body": f"quarterly budget item{i}",
              "language": "en"} for i in range(MIN_PASSAGES + 5)]
    rows += [{"id": f"de-{i}", "title": f"Notiz {i}",
              "body": f"die kantine und der speiseplan ist punkt{i}", "language": "de"}
             for i in range(german)]
    write(tmp_path, "docs.jsonl", "\n".join(json.dumps(r) for r in rows))
    store = Store.memory()
    Ingester(store, Flavoured()).ingest([tmp_path])
    return store


def first(store: Store, embedder: Flavoured, query: str) -> str:
    searcher = Searcher(store, DerivedIndexes.build(store, embedder.dim), embedder)
    return searcher.retrieve(query, mode="dense")[0].doc_id


def test_a_question_finds_the_answer_in_another_language(tmp_path):
    store = corpus(tmp_path)
    question = "wie ist der kafka consumer lag"
    # The model's own vector: German passages about the canteen come before the answer.
    assert first(store, Flavoured(shifts=False), question).startswith("de-")
    assert first(store, Flavoured(), question) == "answer"
    # An English question was already near English passages, and stays there.
    assert first(store, Flavoured(), "kafka consumer lag") == "answer"
    # Two languages with centres of their own: the fusion leans on the dense side.
    searcher = Searcher(store, DerivedIndexes.build(store, 256), Flavoured())
    assert searcher.fusion_weight() == ACROSS_LANGUAGES_DENSE_WEIGHT


def test_the_centres_name_the_query_language_and_move_it_towards_the_corpus(tmp_path):
    store = corpus(tmp_path)
    centres = LanguageCentres.of(store, Flavoured())
    assert centres.languages == ("de", "en") and centres.passages == 2 * MIN_PASSAGES + 11
    assert centres.from_corpus
    embedder = Flavoured()
    german, english = embedder.embed(["wie ist der kafka lag", "kafka lag"])
    assert centres.language_of(german) == "de" and centres.language_of(english) == "en"
    moved = centres.shift(german)
    assert np.linalg.norm(moved) == pytest.approx(1.0, abs=1e-6)
    assert moved[0] < german[0] and moved[1] > german[1]  # less German, more English


def test_one_language_leaves_every_query_as_the_model_gives_it(tmp_path):
    store = corpus(tmp_path, german=MIN_HELD - 1)  # too few for the corpus to hold German
    centres = LanguageCentres.of(store, Flavoured())
    assert centres.languages == ("en",)
    vector = Flavoured().embed(["wie ist der kafka lag"])[0]
    assert centres.shift(vector) is vector
    searcher = Searcher(store, DerivedIndexes.build(store, 256), Flavoured())
    assert searcher.moved(vector) is vector
    assert all(d.closest is None for d in searcher.retrieve("wie ist der kafka lag"))


def test_lines_read_the_closer_of_the_question_as_asked_and_as_moved(tmp_path):
    store = corpus(tmp_path)
    embedder = Flavoured()
    searcher = Searcher(store, DerivedIndexes.build(store, embedder.dim), embedder)
    question = "wie ist der kafka consumer lag"
    asked = embedder.embed([question])[0]
    moved = searcher.moved(asked)
    ranking = {d.doc_id: d for d in searcher.retrieve(question, mode="dense")}
    vectors = dict(zip(("answer", "de-0"), embedder.embed(
        ["Consumer lag\nkafka consumer lag alerts",
         "Notiz 0\ndie kantine und der speiseplan ist punkt0"]), strict=True))
    for doc_id, vector in vectors.items():
        assert ranking[doc_id].dense == pytest.approx(float(moved @ vector), abs=1e-5)
        assert ranking[doc_id].similarity == pytest.approx(
            max(float(moved @ vector), float(asked @ vector)), abs=1e-5)
    # Moved, the answer comes closer and the German canteen note further away; each
    # line reads the closer cosine, so neither looks less related than it did.
    assert ranking["answer"].similarity == pytest.approx(ranking["answer"].dense)
    assert ranking["de-0"].similarity > ranking["de-0"].dense


def test_a_few_passages_of_a_language_place_it_where_the_model_puts_the_reference(tmp_path):
    store = corpus(tmp_path, german=MIN_HELD)  # held, but too few for a centre of its own
    embedder = Flavoured()
    centres = LanguageCentres.of(store, embedder)
    assert centres.languages == ("de", "en") and not centres.from_corpus
    german, english = embedder.embed(["wie ist der kafka lag", "kafka lag"])
    assert centres.language_of(german) == "de" and centres.language_of(english) == "en"
    moved = centres.shift(german)
    assert moved[0] < german[0] and moved[1] > german[1]  # less German, more English
    question = "wie ist der kafka consumer lag"
    searcher = Searcher(store, DerivedIndexes.build(store, embedder.dim), embedder)
    as_asked = Searcher(store, DerivedIndexes.build(store, embedder.dim), Flavoured(False))
    # The answer in English comes closer; a passage ranks by the closer of its cosines as
    # asked and as moved, so the German notes keep theirs (a few passages in the
    # question's language are not pushed away).
    hits = {d.doc_id: d for d in searcher.retrieve(question, mode="dense")}
    asked = {d.doc_id: d for d in as_asked.retrieve(question, mode="dense")}
    assert hits["answer"].dense > asked["answer"].dense + 0.05
    asked_vector = embedder.embed([question])[0]
    note = embedder.embed(["Notiz 0\ndie kantine und der speiseplan ist punkt0"])[0]
    assert hits["de-0"].dense == pytest.approx(float(asked_vector @ note), abs=1e-5)
    # A handful of German notes does not make the fusion lean on the dense side.
    assert searcher.fusion_weight() == DENSE_WEIGHT


def test_the_centres_are_read_again_once_the_corpus_has_grown(tmp_path):
    store = corpus(tmp_path, german=MIN_HELD - 1)
    embedder = Flavoured()
    indexes = DerivedIndexes.build(store, embedder.dim)
    searcher = Searcher(store, indexes, embedder)
    assert searcher.language_centres().languages == ("en",)
    more = [{"id": f"de-more-{i}", "title": f"Mehr {i}", "body": f"die kantine ist zu{i}",
             "language": "de"} for i in range(10)]
    write(tmp_path, "more.jsonl", "\n".join(json.dumps(r) for r in more))
    Ingester(store, embedder).ingest([tmp_path / "more.jsonl"])
    indexes.catch_up()
    assert searcher.language_centres().languages == ("de", "en")
    assert not searcher.language_centres().from_corpus


GERMAN_TOPICS = ["die Kantine", "der Parkplatz", "die Reisekostenabrechnung", "der Urlaubsantrag",
                 "die Kaffeemaschine", "das Gästebüro", "die Poststelle", "der Fahrradkeller",
                 "die Telefonanlage", "das Betriebsfest", "die Bibliothek", "der Drucker",
                 "die Garderobe", "das Fitnessstudio", "die Zeiterfassung", "der Empfang",
                 "die Dienstwagen", "das Archiv", "die Schlüsselausgabe", "der Besprechungsraum",
                 "die Erste Hilfe", "das Jobticket", "die Betriebsärztin", "der Hausmeister"]
ENGLISH_TOPICS = ["the quarterly budget", "the hiring plan", "the office move", "the brand refresh",
                  "the travel policy", "the laptop refresh", "the onboarding checklist",
                  "the pricing page", "the sales kickoff", "the newsletter", "the expense tool",
                  "the holiday calendar", "the parking permits", "the coffee supplier",
                  "the board meeting", "the printer fleet", "the wellness budget",
                  "the security badge", "the desk booking", "the intranet", "the town hall",
                  "the annual report", "the mentoring pairs", "the team offsite"]


@pytest.mark.multilingual
def test_e5_names_the_questions_language_and_finds_the_answer_in_english(e5, tmp_path):
    rows = [{"id": f"de-{i}", "title": topic.split()[-1],
             "body": f"{topic.capitalize()} ist ab Montag im zweiten Stock neu geregelt; "
                     f"Fragen bitte an das Team Verwaltung.", "language": "de"}
            for i, topic in enumerate(GERMAN_TOPICS)]
    rows += [{"id": f"en-{i}", "title": topic.split()[-1].capitalize(),
              "body": f"From Monday {topic} is handled by the operations team; ask in their "
                      f"channel.", "language": "en"} for i, topic in enumerate(ENGLISH_TOPICS)]
    rows.append({"id": "answer", "title": "Kafka consumer lag on the loader",
                 "body": "The loader's Kafka consumer group fell 38 minutes behind after a "
                         "rebalance; raising max.poll.interval.ms fixed it.", "language": "en"})
    write(tmp_path, "docs.jsonl", "\n".join(json.dumps(r) for r in rows))
    model = e5["e5-int8"]
    store = Store.memory()
    Ingester(store, model).ingest([tmp_path])
    searcher = Searcher(store, DerivedIndexes.build(store, model.dim), model)
    question = "Warum hängt der Kafka-Consumer so weit hinterher?"
    asked = searcher.embed_query(question)
    centres = searcher.language_centres()
    assert centres.languages == ("de", "en")
    assert centres.language_of(asked) == "de"
    assert centres.language_of(searcher.embed_query("Why is the consumer lagging?")) == "en"
    moved = searcher.moved(asked)
    assert moved is not asked and float(moved @ asked) < 0.999
    ranking = searcher.retrieve(question)
    assert ranking[0].doc_id == "answer"
    assert ranking[0].similarity >= ranking[0].dense
