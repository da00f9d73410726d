"""Stop words: English's always, and the detected language's, leave a text's keyword
terms; another language's never do (French "ai", German "hat" are English words too)."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.keywords import KeywordIndex
from indexer.records import Chunk, Document
from indexer.stopwords import STOPLISTS, listed_languages, stop_words
from indexer.store import Store
from search.snippets import highlight_spans
from search.text import terms

GERMAN_QUESTION = "Wer kennt sich mit Tourenplanung aus?"


@pytest.mark.parametrize(("text", "want"), [
    (GERMAN_QUESTION, ["tourenplanung"]),
    ("¿Quién sabe de optimización de rutas para las furgonetas?",
     ["optimización", "rutas", "furgonetas"]),
    ("Quem conhece a política de retenção de dados dos clientes?",
     ["política", "retenção", "dados", "clientes"]),
    ("Qui connaît la politique de sécurité des données personnelles ?",
     ["politique", "sécurité", "données", "personnelles"]),
    ("who knows about the kafka consumer lag", ["kafka", "consumer", "lag"]),
])
def test_a_question_loses_its_own_languages_stop_words(text, want):
    assert terms(text) == want


@pytest.mark.parametrize("text", [
    "AI governance policy for the EU offices",  # French: ai, eu
    "man pages and bin packing on red hat",  # German: man, bin, hat
    "the war room runs the incident",  # German: war
])
def test_an_english_text_keeps_words_that_other_languages_stop(text):
    kept = terms(text)
    assert {"ai", "eu", "man", "bin", "hat", "war"} & set(text.lower().split()) <= set(kept)


def test_a_text_too_short_to_tell_loses_only_englishs():
    assert terms("mit") == ["mit"]  # no language told: German's list does not apply
    assert terms("the mit") == ["mit"]


def test_the_lists():
    assert listed_languages()[0] == "en"
    assert {"de", "es", "fr", "pt", "it", "nl", "ru", "sv"} <= set(listed_languages())
    for language in listed_languages():
        words = stop_words(language)
        assert stop_words("en") <= words
        assert all(w == w.lower() and " " not in w for w in words)
    assert {"sich", "mit", "aus", "wer", "kennt"} <= stop_words("de")
    assert "sich" not in stop_words("en")
    assert stop_words("zh") == stop_words(None) == stop_words("en")  # no list of its own
    assert (STOPLISTS / "LICENSE").is_file()


def test_a_german_question_ranks_by_its_subject_not_its_function_words():
    """In a mostly English index, "sich" and "mit" are rare, so they weighed more than the
    subject, and a German note about something else matched through them alone."""
    store = Store.memory()
    texts = {
        "routes-de": "Die Tourenplanung berechnet jede Nacht die Routen der Lieferwagen.",
        "canteen-de": "Wir treffen uns mit dem Team in der Kantine und unterhalten uns.",
        **{f"{i}-en": f"Release note {i}: the service was deployed with a new config."
           for i in range(20)},
    }
    for doc_id, text in texts.items():
        doc = Document(id=doc_id, title=doc_id, body=text, language=doc_id[-2:])
        store.write_document(doc, [Chunk(doc_id, 0, text)], np.zeros((1, 4), np.float32))
    index = KeywordIndex.build(store)
    hits = index.search(terms(GERMAN_QUESTION), 10)
    assert list(index.documents_of(c for c, _ in hits).values()) == ["routes-de"]


def test_highlights_skip_the_questions_function_words():
    text = "Wer sich mit der Tourenplanung auskennt, hilft beim Umbau."
    highlighted = [text[a:b] for a, b in highlight_spans(text, GERMAN_QUESTION)]
    assert highlighted == ["Tourenplanung"]


def test_a_text_holding_no_other_languages_stop_word_is_not_detected(monkeypatch):
    import search.text
    asked: list[str] = []
    monkeypatch.setattr(search.text, "likely_language",
                        lambda t: asked.append(t) or ("de", 1.0))
    search.text._guess.cache_clear()
    assert terms("kafka consumer lag") == ["kafka", "consumer", "lag"] and asked == []
    assert terms("kafka mit lag") == ["kafka", "lag"] and asked == ["kafka mit lag"]
    search.text._guess.cache_clear()


@pytest.mark.parametrize(("guess", "text", "want"), [
    (("pt", 0.83), "Quem sabe de previsão de demanda?", ["previsão", "demanda"]),
    (("pt", 0.83), "previsão de demanda", ["previsão", "de", "demanda"]),  # one: not enough
    (("fr", 0.92), "kafka pentest secret appendix", ["kafka", "pentest", "secret", "appendix"]),
    (("de", 0.45), "wer kennt sich mit kafka aus", ["wer", "kennt", "sich", "mit", "kafka",
                                                     "aus"]),  # under LEANING
    (("de", 1.0), "Tourenplanung mit Kafka", ["tourenplanung", "kafka"]),  # sure: one is enough
])
def test_a_guess_lingua_is_not_sure_of_needs_the_words_to_agree(monkeypatch, guess, text, want):
    import search.text
    monkeypatch.setattr(search.text, "likely_language", lambda t: guess)
    search.text._guess.cache_clear()
    assert terms(text) == want
    search.text._guess.cache_clear()


def test_a_documents_known_language_is_not_detected_again(monkeypatch):
    import search.text
    from search.text import document_terms
    monkeypatch.setattr(search.text, "likely_language", lambda t: pytest.fail("detected"))
    text = "Die Tourenplanung berechnet mit dem Solver die Routen."
    assert document_terms(text, "de") == ["tourenplanung", "berechnet", "solver", "routen"]
    assert "mit" in document_terms(text, None)  # not told: English's words only
