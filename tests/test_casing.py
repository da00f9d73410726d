"""A question typed in lowercase takes the corpus's case before a model that reads case
embeds it (search/casing.py)."""

import pytest
from conftest import CountingEmbedder, write

from indexer.indexes import DerivedIndexes
from search.casing import truecased
from search.retrieval import Searcher


class CasedEmbedder(CountingEmbedder):
    """The hashing embedder as a model that reads case would be used: it records the
    questions it is given."""

    reads_case = True

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def embed_queries(self, texts):
        self.asked += list(texts)
        return self.embed(texts)


@pytest.fixture
def indexes(tmp_path, store, ingester, embedder):
    write(tmp_path, "docs.jsonl", "\n".join([
        # GDPR three times inside a sentence, never "gdpr"; "Data" only opens sentences,
        # and "vaultex" is written both ways.
        '{"id": "d1", "title": "Requests", "body": "Our GDPR guide. Requests under GDPR take '
        'a month, GDPR says. Data is kept. We keep data for a year."}',
        '{"id": "d2", "title": "Streams", "body": "We run Kafka. Ask the Kafka team (Kafka '
        'lag) about Vaultex, Vaultex and Vaultex, or vaultex."}',
        # Seen twice only, Quibbo may be a name that borrows the word.
        '{"id": "d3", "title": "Names", "body": "Ask Team Quibbo or Quibbo Labs."}',
        # Zorp in prose three times; in lowercase only in code: a code block's language,
        # a service, a path, a file.
        '{"id": "d4", "title": "Zorp", "body": "We write Zorp daily. Tune Zorp queries, '
        'and Zorp indexes.\\n```zorp\\nSELECT 1\\n```\\nSee zorp-gateway and /zorp/out '
        'and schema.zorp or `zorp run`."}',
        # Only a restricted document writes Zebra: it shapes nobody's question.
        '{"id": "s1", "title": "Board", "body": "Project ZEBRA is secret: ZEBRA, ZEBRA.",'
        ' "groups": ["board"]}',
    ]))
    ingester.ingest([tmp_path])
    return DerivedIndexes.build(store, embedder.dim)


def test_a_lowercase_word_takes_the_case_the_corpus_writes_it_in(indexes, store):
    assert truecased("gdpr and kafka", indexes.keywords, store) == "GDPR and kafka"
    # Kafka is an English word too (the writer): it stays as typed, like every English word.
    # Capitalised only where a sentence starts, "data" is a lowercase word.
    assert truecased("data requests", indexes.keywords, store) == "data requests"
    # A word typed with a capital is the user's; a word seen twice or written both ways
    # stays as typed, and so does a word nobody wrote.
    assert truecased("Gdpr quibbo vaultex zorgle", indexes.keywords, store) == (
        "Gdpr quibbo vaultex zorgle")


def test_a_word_in_code_is_not_a_lowercase_reading(indexes, store):
    assert truecased("zorp tuning", indexes.keywords, store) == "Zorp tuning"


def test_in_code_tells_code_from_prose():
    import re

    from search.casing import in_code

    def found(text):
        return in_code(text, re.search(r"(?<![^\W_])sql(?![^\W_])", text))

    for text in ("```sql", "the sql-based tools", "/sql/", "load schema.sql now", "`sql`",
                 "my_sql", "$sql"):
        assert found(text), text
    for text in ("we write sql daily", "written in sql.", "sql, then", "(sql)", "sql"):
        assert not found(text), text


def test_restricted_documents_shape_no_question(indexes, store):
    assert truecased("zebra project", indexes.keywords, store) == "zebra project"


def test_only_a_model_that_reads_case_gets_the_corpus_case(indexes, store, embedder):
    cased = CasedEmbedder()
    Searcher(store, indexes, cased).embed_query("who knows gdpr")
    assert cased.asked == ["who knows GDPR"]
    # MiniLM (like the hashing embedder) lowercases every text: its question is as typed.
    plain = Searcher(store, indexes, embedder)
    assert plain.embed_query("who knows gdpr").tolist() == embedder.embed(
        ["who knows gdpr"])[0].tolist()
