"""Keyword search in every language: passages are cut in their document's language, a
query word in each language the index holds; an English index is cut as before."""

from __future__ import annotations

import numpy as np
import pytest

from indexer import tokenizer
from indexer.indexes import DerivedIndexes
from indexer.keywords import INDEX_FILE, KeywordIndex
from indexer.language import MIN_HELD
from indexer.records import Chunk, Document
from indexer.store import Store
from indexer.tokenizer import query_tokens, tokens
from search.spelling import Speller
from search.text import terms

GERMAN = "Die Tourenplanung berechnet jede Nacht die Routen der Lieferwagen."
CHINESE = "车辆路线优化方法可以降低物流成本。"
ENGLISH = "Route planning computes the routes of the delivery vans every night."


def write(store: Store, doc_id: str, text: str, language: str | None) -> None:
    doc = Document(id=doc_id, title=doc_id, body=text, language=language)
    store.write_document(doc, [Chunk(doc_id, 0, text)], np.zeros((1, 4), np.float32))


def found(index: KeywordIndex, store: Store, query: str) -> list[str]:
    """The documents of the passages a query finds (its words as search cuts them)."""
    hits = index.search(terms(query), 10)
    return list(index.documents_of(c for c, _ in hits).values())


@pytest.fixture
def store() -> Store:
    store = Store.memory()
    write(store, "de", GERMAN, "de")
    write(store, "zh", CHINESE, "zh")
    write(store, "en", ENGLISH, "en")
    return store


@pytest.mark.parametrize(("language", "text", "want"), [
    ("de", "Tourenplanungen Tourenplanung", ["tourenplan", "tourenplan"]),
    ("de", "Größe GRÖSSE", ["gross", "gross"]),  # stemmed, then folded
    ("es", "naciones nación nacion", ["nacion", "nacion", "nacion"]),
    ("ar", "المدرسة مدرسة", ["مدرس", "مدرس"]),
    ("ru", "маршруты маршрутов", ["маршрут", "маршрут"]),
    ("hi", "भाषाओं भाषा", ["भाष", "भाष"]),  # not cut at its vowel signs
    ("vi", "Đường đi", ["đuong", "đi"]),  # no stemmer: folded only
    ("pt-BR", "relatórios", ["relatori"]),
    ("en", "routers routing", ["router", "rout"]),
    (None, "routers routing", ["router", "rout"]),  # unknown: as English
])
def test_words_are_stemmed_by_their_language(language, text, want):
    assert tokens(text, language) == want


def test_scripts_without_spaces_are_cut_in_pairs_in_every_language():
    for language in ("zh", "ja", "en", None):
        assert tokens("路线优化 Python编程 车", language) == [
            "路线", "线优", "优化", "python", "编程", "车"]
    assert tokens("ภาษาไทย", "th")[:2] == ["ภา", "าษ"]


def test_a_query_word_stands_for_its_terms_in_each_language():
    assert query_tokens("Tourenplanungen", ["porter", "german"]) == [
        "tourenplanungen", "tourenplan"]
    assert query_tokens("routes", ["porter", "german"]) == ["rout"]  # one term, once


def test_a_german_word_finds_its_inflected_form(store):
    index = KeywordIndex.build(store)
    assert found(index, store, "Tourenplanungen") == ["de"]


def test_a_chinese_query_finds_a_chinese_passage_through_pairs(store):
    index = KeywordIndex.build(store)
    assert found(index, store, "路线优化") == ["zh"]
    assert found(index, store, "优化方法") == ["zh"]


def test_an_english_index_cuts_queries_as_before():
    store = Store.memory()
    write(store, "a", ENGLISH, "en")
    write(store, "b", "Routers and routing tables.", None)
    index = KeywordIndex.build(store)
    assert index.query_analyzers() == ["porter"]
    assert index._rows("routing") == [index.vocab["rout"]]


def test_the_query_languages_follow_the_live_passages(store):
    index = KeywordIndex.build(store)
    assert set(index.query_analyzers()) == {"german", "plain", "porter"}  # zh: no stemmer
    store.delete_document("de")
    index.sync(store)
    assert set(index.query_analyzers()) == {"plain", "porter"}


def test_the_query_languages_are_capped_by_passages(monkeypatch):
    monkeypatch.setattr("indexer.keywords.MAX_QUERY_LANGUAGES", 2)
    store = Store.memory()
    for i, language in enumerate(["de", "de", "de", "fr", "fr", "es"]):
        write(store, f"d{i}", GERMAN, language)
    assert KeywordIndex.build(store).query_analyzers() == ["german", "french"]


def test_a_language_the_index_does_not_hold_cuts_words_for_its_own_passages_only():
    """One passage taken for Dutch among English ones: the Dutch cut of "weekend" is
    "week", which must not find the English passage about the week (a held language's
    cut would count everywhere)."""
    store = Store.memory()
    write(store, "release", "Releases go out on the weekend.", "en")
    write(store, "week", "Plan the week ahead on Monday.", "en")
    for i in range(MIN_HELD):
        write(store, f"filler-{i}", f"Coffee and tea in kitchen {i}.", "en")
    write(store, "nl", "Het weekend was rustig.", "nl")
    index = KeywordIndex.build(store)
    assert set(index.query_analyzers()) == {"porter", "dutch"}
    assert tokenizer.analyzed("weekend", "dutch") == ["week"]
    assert sorted(found(index, store, "weekend")) == ["nl", "release"]


def test_a_held_language_cuts_words_for_every_passage():
    """German held (five passages): "Routen" cut the German way is "rout", which finds
    the English passage's "routes" too."""
    store = Store.memory()
    write(store, "en", ENGLISH, "en")
    for i in range(MIN_HELD):
        write(store, f"de-{i}", f"Der Kaffee in der Küche {i} ist heiß.", "de")
    assert found(KeywordIndex.build(store), store, "Routen") == ["en"]


def test_spelling_leaves_a_word_known_in_another_language(store):
    index = KeywordIndex.build(store)
    assert Speller(store, lambda: index).correct("Tourenplanungen") is None


def test_a_saved_index_follows_its_passages_languages(tmp_path, store):
    KeywordIndex.build(store).save(tmp_path)
    loaded = KeywordIndex.read(tmp_path / INDEX_FILE)
    assert [loaded.language_names[i] for i in loaded.languages] == ["de", "zh", "en"]
    assert found(loaded, store, "Tourenplanungen") == ["de"]


def test_an_index_saved_by_an_older_tokenizer_is_rebuilt(tmp_path):
    store = Store.open(tmp_path)
    write(store, "de", GERMAN, "de")
    index = KeywordIndex.build(store)
    index.save(tmp_path)
    with np.load(tmp_path / INDEX_FILE) as saved:  # as saved before languages: no marker
        old = {k: saved[k] for k in saved.files
               if k not in ("tokenizer", "languages", "language_names")}
    old["terms"] = np.asarray(["tourenplanung" if t == "tourenplan" else t
                               for t in old["terms"].tolist()])  # Porter's term
    np.savez(tmp_path / INDEX_FILE, **old)
    loaded = DerivedIndexes.load(store, 4, tmp_path).keywords
    assert "tourenplan" in loaded.vocab and found(loaded, store, "Tourenplanungen") == ["de"]
    with np.load(tmp_path / INDEX_FILE) as saved:
        assert int(saved["tokenizer"]) == tokenizer.VERSION  # saved again, rebuilt


def test_an_index_of_another_tokenizer_version_is_rebuilt(tmp_path, monkeypatch):
    store = Store.open(tmp_path)
    write(store, "de", GERMAN, "de")
    KeywordIndex.build(store).save(tmp_path)
    monkeypatch.setattr(tokenizer, "VERSION", tokenizer.VERSION + 1)
    with pytest.raises(KeyError):
        KeywordIndex.read(tmp_path / INDEX_FILE)
    DerivedIndexes.load(store, 4, tmp_path)
    with np.load(tmp_path / INDEX_FILE) as saved:
        assert int(saved["tokenizer"]) == tokenizer.VERSION
