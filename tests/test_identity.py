"""Who an author is: ids, emails, aliases, unique display names and tool accounts
resolve to one person through one rule (``indexer.identity``), on every path."""

import numpy as np
import pytest
from conftest import write

from indexer.identity import identity_key, resolve
from indexer.records import Chunk, Document, Person
from indexer.store import Store
from search.experts import ExpertRanker, ExpertWeights
from search.retrieval import DocScore


def person(pid, name, **kw):
    return Person(id=pid, name=name, **kw)


def test_ids_emails_aliases_and_a_unique_name_resolve():
    found = resolve([person("p-jane", "Jane Doe", email="Jane@Acme.com",
                            aliases=("jdoe", "J. Doe")),
                     person("p-omar", "Omar Haddad")])
    for author in ("p-jane", "P-JANE", "jane@acme.com", "JDOE", " j.  doe ", "jane doe"):
        assert found.person_of(author) == "p-jane", author
    assert found.person_of("Omar Haddad") == "p-omar"
    assert found.person_of("J. Smith") is None


def test_two_people_of_one_name_are_never_merged_by_name():
    found = resolve([person("p-a", "Alex Kim"), person("p-b", "Alex Kim")])
    assert found.keys[identity_key("Alex Kim")] is None  # ambiguous, not a guess
    assert found.person_of("p-a") == "p-a" and found.person_of("p-b") == "p-b"


def test_an_email_two_records_claim_resolves_to_nobody():
    found = resolve([person("p-a", "A", email="team@acme.com"),
                     person("p-b", "B", email="team@acme.com")])
    assert found.person_of("team@acme.com") is None


def test_a_tool_account_merges_into_the_person_by_email_or_alias():
    by_email = person("slack-U1", "jane", email="jane@acme.com", system="slack",
                      aliases=("U1",))
    by_alias = person("se-42", "JD", system="stackexchange")
    stranger = person("slack-U9", "zed", system="slack", aliases=("U9",))
    found = resolve([person("p-jane", "Jane Doe", email="jane@acme.com", aliases=("se-42",)),
                     by_email, by_alias, stranger])
    assert found.merged == {"slack-U1": "p-jane", "se-42": "p-jane"}
    assert {found.person_of(a) for a in ("slack-U1", "U1", "se-42", "jd")} == {"p-jane"}
    assert found.person_of("slack-U9") == "slack-U9"  # nobody claims it: its own person


def test_a_person_a_key_is_shared_with_an_account_of_someone_else_keeps_it():
    found = resolve([person("p-jane", "Jane", aliases=("ops",)),
                     person("slack-U7", "ops bot", system="slack", aliases=("ops",))])
    assert found.person_of("ops") == "p-jane"


def doc(doc_id, authors, weights=()):
    return Document(id=doc_id, title=doc_id, body=f"text of {doc_id}", authors=authors,
                    author_weights=weights)


def put(store, *docs, dim=4):
    for d in docs:
        store.write_document(d, [Chunk(d.id, 0, d.body)], np.ones((1, dim), np.float32))


def test_the_store_resolves_in_either_order_and_lists_a_merged_account_once():
    store = Store.memory()
    store.write_person(person("slack-U1", "jane", email="jane@acme.com", system="slack"), None)
    put(store, doc("t1", ("slack-U1",)), doc("m1", ("Jane Doe",)), doc("x1", ("J. Smith",)))
    assert store.authors_by_document(["t1"]) == {"t1": ["slack-U1"]}
    # The company's people file comes later: the account is hers from now on.
    store.write_person(person("p-jane", "Jane Doe", email="jane@acme.com"), None)
    assert store.authors_by_document(["t1", "m1"]) == {"t1": ["p-jane"], "m1": ["p-jane"]}
    assert sorted(store.get_people()) == ["p-jane"]
    assert store.count_visible_people() == 1
    with pytest.raises(Exception, match="no person"):
        store.get_person("slack-U1", shown=True)
    assert [d["id"] for d in store.documents_of(store.get_person("p-jane"))] == ["m1", "t1"]
    assert store.unmatched_authors() == (1, [("J. Smith", 1, False)])


def test_an_opted_out_person_is_hidden_under_every_name(tmp_path):
    store = Store.memory()
    store.write_person(person("p-jane", "Jane Doe", email="jane@acme.com", visible=False),
                       None)
    store.write_person(person("slack-U1", "jane", email="jane@acme.com", system="slack"), None)
    put(store, doc("t1", ("slack-U1", "Jane Doe", "jane@acme.com", "Omar")))
    assert store.get_documents(["t1"])["t1"].authors == ("Omar",)


def test_ambiguous_names_are_listed_as_such():
    store = Store.memory()
    store.write_person(person("p-a", "Alex Kim"), None)
    store.write_person(person("p-b", "Alex Kim"), None)
    put(store, doc("d1", ("Alex Kim",)), doc("d2", ("alex kim",)))
    assert store.unmatched_authors() == (1, [("Alex Kim", 2, True)])


def test_an_askers_weight_zero_earns_no_vote(embedder):
    store = Store.memory()
    for pid in ("asker", "answerer"):
        store.write_person(person(pid, pid), None)
    put(store, doc("q1", ("asker", "answerer"), (0.0, 1.0)), dim=embedder.dim)
    ranker = ExpertRanker(store, embedder, ExpertWeights(evidence=1.0, focus=0.0,
                                                         profile=0.0, activity=0.0))
    hits = ranker.rank("x", [DocScore("q1", 1.0, dense=0.9)], embedder.embed(["x"])[0],
                       limit=10, rank_all=True)
    scores = {h.id: h.score for h in hits}
    assert scores["answerer"] == 1.0 and scores.get("asker", 0.0) == 0.0


def test_people_files_carry_aliases(tmp_path, ingester, store):
    write(tmp_path, "people.yaml", "- {id: p-li, type: person, name: Li Wei, "
                                   "aliases: [U024BE7LH, wei.li@old.example]}\n")
    write(tmp_path, "notes.jsonl",
          '{"id": "n1", "body": "notes", "authors": ["U024BE7LH"]}\n'
          '{"id": "n2", "body": "more", "authors": ["wei.li@old.example"]}')
    ingester.ingest([tmp_path])
    assert store.get_person("p-li").aliases == ("U024BE7LH", "wei.li@old.example")
    assert store.authors_by_document() == {"n1": ["p-li"], "n2": ["p-li"]}


def test_a_store_from_before_identities_is_upgraded_in_place(tmp_path):
    import sqlite3
    db = sqlite3.connect(tmp_path / "whoknows.db")
    db.executescript("""
        CREATE TABLE authorship (doc_id TEXT, author TEXT, PRIMARY KEY (doc_id, author));
        CREATE TABLE people (id TEXT PRIMARY KEY, name TEXT, email TEXT, title TEXT,
          department TEXT, location TEXT, timezone TEXT, languages TEXT, manager_id TEXT,
          seniority FLOAT, skills TEXT, goals TEXT, bio TEXT, mentoring_available INTEGER,
          mentoring_capacity INTEGER, visible INTEGER, source TEXT, content_hash TEXT,
          vector BLOB);
        INSERT INTO people (id, name, email, visible) VALUES ('p-a', 'Ann', 'Ann@x.org', 1);
        INSERT INTO authorship VALUES ('d1', 'ann@X.org');""")
    db.commit()
    db.close()
    store = Store.open(tmp_path)
    assert store.authorship() == {"d1": [("p-a", 1.0)]}
