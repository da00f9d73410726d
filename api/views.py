"""What the HTML pages show, gathered from the search layer in-process.

Each function takes the server state and the caller, reads under the server lock,
and applies the same rules as the JSON API: the caller's access groups trim
documents everywhere, and people who opted out (``visible: false``) never appear.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from api.deps import Caller
from api.folders import SourceRule
from api.learning import after_search
from api.runtime import Runtime
from api.state import ServerState
from indexer.errors import NotFound
from indexer.records import KINDS, Document, Filters, Person
from indexer.store import Store
from ingest.people import parse_person
from search.answers import people_know
from search.filters import check_filters
from search.markup import renders_markdown
from search.mentoring.mentors import MentorCatalog
from search.mentoring.mentors import find_mentors as mentors_for
from search.recommendations import reading_list

PAGE_SIZE = 10
EXPERTS_SHOWN = 6
MAX_PAGE = 1000  # the API allows offsets up to 10,000
SIMILAR_SHOWN = 5
# Why colleagues were not considered as mentors (search.mentoring.rules.RULES), short.
LEFT_OUT = {"self": "the employee", "manager_chain": "in their manager chain or reports",
            "unavailable": "not available to mentor", "capacity": "with no place left",
            "past_pair": "their mentor now or before"}


@dataclass(frozen=True)
class SearchForm:
    """The search page's query string: what a bookmark holds."""

    q: str = ""
    kinds: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    page: int = 1

    def filters(self) -> Filters:
        return Filters(kinds=self.kinds, departments=self.departments,
                       locations=self.locations, languages=self.languages)

    def params(self, **changes: Any) -> dict[str, Any]:
        """Query parameters for a link to this search, with ``changes`` applied."""
        form = replace(self, **changes)
        return {"q": form.q, "kind": list(form.kinds), "department": list(form.departments),
                "location": list(form.locations), "language": list(form.languages),
                "page": form.page if form.page > 1 else None}

    @property
    def filtered(self) -> bool:
        return bool(self.kinds or self.departments or self.locations or self.languages)


def page_number(raw: str | None) -> int:
    """A lenient page number: anything that is not one means the first page."""
    try:
        return min(max(int(raw or 1), 1), MAX_PAGE)
    except ValueError:
        return 1


def clean(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in values if v and v.strip()))


# -- the search page ---------------------------------------------------------

def facets(store: Store, caller: Caller) -> dict[str, list[str]]:
    """The values the filters offer: only what the caller could find."""
    return {"kind": list(KINDS), "department": store.departments(),
            "location": store.locations(), "language": store.languages(caller.filters())}


def my_language(accept_language: str | None, available: list[str]) -> str | None:
    """The reader's language that documents are written in: the first of the browser's
    languages (``Accept-Language``, by preference) that ``available`` holds."""
    wanted = []
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        code = tag.strip().split("-")[0].lower()
        if code and code != "*" and quality > 0:
            wanted.append((-quality, len(wanted), code))
    have = {a.lower() for a in available}
    return next((code for _, _, code in sorted(wanted) if code in have), None)


def topics(store: Store, limit: int = 8) -> list[str]:
    """Skills that several visible people list: good first searches on any corpus."""
    counts: dict[str, int] = {}
    for p in store.get_people().values():
        if p.visible:
            for s in p.skills:
                counts[s.name] = counts.get(s.name, 0) + 1
    ranked = sorted((n for n, c in counts.items() if c > 1), key=lambda n: (-counts[n], n))
    return ranked[:limit]


def search(state: ServerState, caller: Caller, form: SearchForm) -> dict[str, Any]:
    """Articles (one page) and experts for the form, decorated for display."""
    answerer = state.current()
    filters = caller.filters(form.filters())
    with state.lock:
        check_filters(state.runtime.store, filters)  # an unknown value: the error page
        result = answerer.answer(
            form.q, limit=PAGE_SIZE, offset=(form.page - 1) * PAGE_SIZE,
            experts=EXPERTS_SHOWN, filters=filters)
        store = state.runtime.store
        docs = store.get_documents(a["id"] for a in result["articles"])
        authors = _authors(store, [a["id"] for a in result["articles"]])
        servable = servable_sources(state.runtime, [d.source for d in docs.values()])
    after_search(state, caller, result)  # spreading (optional) and the search log
    for article in result["articles"]:
        doc = docs.get(article["id"])
        article["people"], article["unlisted"] = authors.get(article["id"], ([], 0))
        article["source_name"] = Path(doc.source).name if doc and doc.source else None
        article["source_ok"] = bool(doc and doc.source in servable)
    total = result.get("total_articles", 0)
    result["pages"] = max(1, -(-total // PAGE_SIZE))
    result["people_know"] = people_know(result)
    return result


def _authors(store: Store, doc_ids: list[str]) -> dict[str, tuple[list[Person], int]]:
    """doc id -> (its visible authors, how many others are not listed)."""
    by_doc = store.authors_by_document(doc_ids) if doc_ids else {}
    people = store.get_people({p for ps in by_doc.values() for p in ps})
    out = {}
    for doc_id, ids in by_doc.items():
        shown = [people[p] for p in ids if p in people and people[p].visible]
        out[doc_id] = (shown, len(ids) - len(shown))
    return out


# -- documents and their files -----------------------------------------------

def document(state: ServerState, caller: Caller, doc_id: str) -> dict[str, Any]:
    with state.lock:
        store = state.runtime.store
        doc = _readable_document(store, caller, doc_id)
        people, unlisted = _authors(store, [doc.id]).get(doc.id, ([], 0))
        servable = servable_sources(state.runtime, [doc.source])
    return {"doc": doc, "people": people, "unlisted": unlisted,
            "source_name": Path(doc.source).name if doc.source else None,
            "source_ok": doc.source in servable,
            "markdown": renders_markdown(doc.source, doc.body)}


def _readable_document(store: Store, caller: Caller, doc_id: str) -> Document:
    return store.get_document(doc_id, caller.groups)


def servable_sources(runtime: Runtime, sources: list[str | None]) -> set[str]:
    """The stored source paths that may be served as files: still there, holding only
    that one document, and in a folder the operator meant the server to read
    (api.folders.SourceRule: uploads, reindex roots, folders ingested at the command
    line). A file of many records (lessons.yaml, people.csv) is never served, since it
    may hold records the caller may not read. Call with the store's lock held."""
    single = runtime.store.single_document_sources(s for s in sources if s)
    if not single:
        return set()
    rule = SourceRule.of(runtime)
    return {s for s in single if rule.serves(s) and Path(s).is_file()}


def source_file(state: ServerState, caller: Caller, doc_id: str) -> Path:
    """The file a document was read from, as a real path; only its stored path, never
    one from the URL, and only where ``servable_sources`` allows."""
    with state.lock:
        store = state.runtime.store
        doc = _readable_document(store, caller, doc_id)
        ok = doc.source in servable_sources(state.runtime, [doc.source])
    if not ok or doc.source is None:
        raise NotFound(f"the source file of {doc_id!r} is not available",
                       "it was moved or deleted, or it holds several records; "
                       "the document page shows the text")
    return Path(doc.source).resolve()


# -- people --------------------------------------------------------------------

def person(state: ServerState, caller: Caller, person_id: str) -> dict[str, Any]:
    with state.lock:
        store = state.runtime.store
        try:
            found = store.get_person(person_id, shown=True)  # opted out: not even a profile
        except NotFound as exc:
            raise NotFound(f"no person with id {person_id!r}",
                           "search for a topic to find the people who know about it") from exc
        documents = store.documents_of(found, caller.filters(), limit=100)
        people = store.get_people()
        similar = similar_people(store, found, people)
    manager = people.get(found.manager_id or "")
    return {"person": found, "documents": documents, "similar": similar,
            "manager": manager if manager and manager.visible else None,
            "skills": sorted(found.skills, key=lambda s: (-s.level, s.name.lower())),
            "can_pick_mentee": can_pick_mentee(caller)}


@dataclass
class Similar:
    person: Person
    score: float
    shared: list[str] = field(default_factory=list)


def similar_people(store: Store, person: Person, people: dict[str, Person],
                   limit: int = SIMILAR_SHOWN) -> list[Similar]:
    """Visible people who know the same things: the cosine of their profile vectors
    (title, skills, bio), plus 0.1 per shared skill at level 5 (less at lower levels,
    counting the lower of the two levels), so shared expertise outweighs a similar title."""
    ids, vectors = store.profile_vectors()
    if person.id not in ids:
        return []
    sims = vectors @ vectors[ids.index(person.id)]
    mine = {s.name.lower(): s.level for s in person.skills}
    found = []
    for i, pid in enumerate(ids):
        other = people.get(pid)
        if other is None or other.id == person.id or not other.visible:
            continue
        shared = sorted((s for s in other.skills if s.name.lower() in mine),
                        key=lambda s: -min(s.level, mine[s.name.lower()]))
        overlap = sum(min(s.level, mine[s.name.lower()]) for s in shared) / 5
        found.append(Similar(other, float(sims[i]) + 0.1 * overlap, [s.name for s in shared]))
    found.sort(key=lambda s: (-s.score, s.person.id))
    return found[:limit]


# -- mentors ---------------------------------------------------------------------

def can_pick_mentee(caller: Caller) -> bool:
    """Mentors for a named employee need the lms role, as GET /api/recommendations/{id}."""
    return caller.can("lms")


def mentees(state: ServerState) -> list[Person]:
    """The employees one may pick (people who opted out are not listed)."""
    with state.lock:
        people = state.runtime.store.get_people()
    return sorted((p for p in people.values() if p.visible), key=lambda p: p.name.lower())


def resolve(candidates: list[Person], text: str) -> list[Person]:
    """The employees ``text`` names: an id, a full name, or else part of a name."""
    wanted = text.strip().lower()
    for rule in (lambda p: p.id.lower() == wanted, lambda p: p.name.lower() == wanted,
                 lambda p: wanted in p.name.lower()):
        found = [p for p in candidates if rule(p)]
        if found:
            return found
    return []


def goals_profile(text: str, state: ServerState | None = None,
                  caller: Caller | None = None) -> Person:
    """Someone described by what they want to learn (comma or line separated): the
    caller's own person with these goals when their key stands for one (so the rules of
    mentoring know their manager chain), else nobody in particular."""
    # The same bounds as POST /api/recommendations: 20 goals of at most 200 characters.
    goals = [g.strip()[:200] for g in text.replace("\n", ",").split(",") if g.strip()][:20]
    if state is not None and caller is not None and caller.person:
        own = state.runtime.store.get_people([caller.person]).get(caller.person)
        if own is not None:
            return replace(own, goals=tuple(goals))
    return parse_person({"id": "inline", "name": "you", "goals": goals})


def find_mentors(state: ServerState, caller: Caller, mentee: Person,
                 catalog: MentorCatalog) -> dict[str, Any]:
    """Mentors for ``mentee``, each with the topics they cover and how, and reading for
    the same topics. The one place the pages ask for mentors: search.mentoring.mentors,
    the same answer as GET /api/mentoring/mentors/{id} (its hard rules, its reasons)."""
    answerer = state.current()
    with state.lock:
        people = catalog.people()
        if people.get(mentee.id) != mentee:
            people.pop(mentee.id, None)  # a profile typed in stands for that id here
        result = mentors_for(catalog, mentee, filters=caller.filters(), people=people)
        topics = [t["topic"] for t in result["topics"]]
        result["reading"] = reading_list(answerer, mentee, topics, caller.filters())
    result["left_out"] = [f"{n} {LEFT_OUT.get(rule, rule.replace('_', ' '))}"
                          for rule, n in result.get("excluded", {}).items()]
    return result


