import pytest
from conftest import answerer_for, write
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app
from api.runtime import Runtime
from api.settings import Settings
from ingest.pipeline import Ingester
from search.spelling import Speller

PEOPLE = """
    - {id: p-ana, type: person, name: Ana, skills: [{name: GDPR, level: 5}]}
    - {id: p-bo, type: person, name: Bo, skills: [{name: Terraform, level: 4}]}
    """
DOCS = "\n".join([
    '{"id": "d1", "title": "GDPR requests", "body": "answering a gdpr data subject request",'
    ' "authors": ["p-ana"]}',
    '{"id": "d2", "title": "Kubernetes upgrades", "body": "kubernetes cluster upgrades and'
    ' audit logs", "authors": ["p-bo"]}',
    '{"id": "d3", "title": "Audit", "body": "the audit of cars and routers; audi once"}',
])


@pytest.fixture
def corpus(tmp_path):
    write(tmp_path, "corpus/people.yaml", PEOPLE)
    write(tmp_path, "corpus/docs.jsonl", DOCS)
    return tmp_path / "corpus"


@pytest.fixture
def answerer(corpus, ingester, store, embedder):
    ingester.ingest([corpus])
    return answerer_for(store, embedder)


def test_gdrp_finds_the_gdpr_documents_and_says_so(answerer):
    result = answerer.answer("GDRP")
    assert result["query"] == "GDRP" and result["corrected_query"] == "GDPR"
    assert [a["id"] for a in result["articles"]] == ["d1"]
    assert [e["id"] for e in result["experts"]] == ["p-ana"]
    # As typed, no passage holds the word: nothing found.
    exact = answerer.answer("GDRP", exact=True)
    assert exact["corrected_query"] is None and exact["articles"] == []


@pytest.mark.parametrize("query", [
    "audit",     # in passages
    "Audi",      # in one passage only, one letter from the common "audit": still known
    "routers",   # in a passage
    "router",    # not written, but its stem is ("routers")
    "upgrade",   # likewise
    "terraform",  # a skill name only
    "kafka",     # unknown and nothing close: left as typed
])
def test_a_known_word_is_never_corrected(answerer, query):
    assert answerer.answer(query)["corrected_query"] is None


@pytest.mark.parametrize("query, corrected", [
    ("kuberentes upgrades", "kubernetes upgrades"),   # swapped letters
    ("Kubrnetes", "Kubernetes"),                      # a dropped letter, case kept
    ("GDPR auddit", "GDPR audit"),                    # a doubled letter
    ("terrafrom", "terraform"),                       # from a skill name
    ("kubrenetse clusetr", "kubernetes cluster"),     # two swaps in a long word
])
def test_words_the_corpus_does_not_know_are_corrected_from_its_own(answerer, query,
                                                                    corrected):
    assert answerer.answer(query)["corrected_query"] == corrected


@pytest.mark.parametrize("query", [
    "gdpx",         # "gdpr" is one letter away, but a changed letter in a short word
                    # makes another word, not a typo
    "cards",        # an English word: the corpus holds "cars", but not every word
    "req",          # under four letters: too many words are one letter away
    '"GDRP" data',  # quoted: as typed
    "k8ss",         # digits: a code, not a word
    "GdRP",         # mixed case: a name, as written
    "ANDD",         # "and" is under four letters: not a correction either
    "ГДПР",         # not a Latin script
])
def test_what_is_never_guessed(answerer, query):
    assert answerer.answer(query)["corrected_query"] is None


def test_the_vocabulary_follows_the_store(store, ingester, embedder, corpus):
    ingester.ingest([corpus])
    speller = Speller(store)
    assert speller.correct("terrafrom") == "terraform"
    assert speller.correct("helmm charts") is None
    first = speller.vocabulary()
    assert speller.vocabulary() is first  # built once per change of the store
    write(corpus, "more.jsonl", '{"id": "d9", "title": "Helm", "body": "helm charts"}')
    ingester.ingest([corpus])
    assert speller.correct("helmm charts") == "helm charts"


def test_the_api_the_page_and_the_cli_say_what_was_searched(tmp_path, corpus, monkeypatch):
    runtime = Runtime.open(Settings(data_dir=tmp_path / "data", embedder="hashing-2048"))
    Ingester(runtime.store, runtime.embedder).ingest([corpus])
    with TestClient(create_app(runtime=runtime)) as client:
        api = client.get("/api/search", params={"q": "GDRP"}).json()
        assert api["corrected_query"] == "GDPR" and api["articles"][0]["id"] == "d1"
        experts = client.get("/api/experts", params={"q": "GDRP", "exact": "true"}).json()
        assert experts["corrected_query"] is None and experts["experts"] == []
        page = client.get("/", params={"q": "GDRP"}, headers={"Accept": "text/html"})
        assert "Showing results for <strong>GDPR</strong>" in page.text
        # The link searches the word as typed: quoted, it is never corrected.
        assert "q=%22GDRP%22" in page.text and "Search for GDRP instead" in page.text
        quoted = client.get("/", params={"q": '"GDRP"'}, headers={"Accept": "text/html"})
        assert "Showing results for" not in quoted.text
    monkeypatch.setenv("WHOKNOWS_EMBEDDER", "hashing-2048")
    monkeypatch.setenv("WHOKNOWS_DATA_DIR", str(tmp_path / "data"))
    printed = CliRunner().invoke(app, ["search", "GDRP"])
    assert printed.exit_code == 0, printed.output
    assert "Showing results for GDPR" in printed.output and "GDPR requests" in printed.output


def test_a_restricted_document_gives_no_correction(store, ingester, tmp_path):
    # "Showing results for zanthorix" would tell a caller who may not read the board's
    # document that the word is in it: only documents open to everyone give corrections.
    write(tmp_path, "docs.jsonl", "\n".join([
        '{"id": "s1", "title": "Board", "body": "the zanthorix plan", "groups": ["board"]}',
        '{"id": "d1", "title": "Open", "body": "the quarkalon plan"}']))
    ingester.ingest([tmp_path])
    speller = Speller(store)
    assert speller.correct("zanthorx") is None
    assert speller.correct("quarkalun") == "quarkalon"
