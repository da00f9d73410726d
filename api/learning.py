"""The learning loop at the edge: who a caller is for feedback and their own profile,
and the search log written after each search (docs/feedback-and-analytics.md)."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from typing import Any

from api.deps import Caller, Forbidden
from api.settings import Settings
from api.state import ServerState
from indexer.dates import document_dates
from indexer.embedders import cosine_floor, kind_of, make_embedder
from indexer.feedback import FeedbackLog, pseudonym
from indexer.profiles import ProfileBook
from indexer.query_log import QueryLog
from indexer.records import may_read
from indexer.relationships import Relationships
from indexer.store import Store
from search.analytics import expert_load, expertise_network, search_topics, topic_coverage
from search.profile import apply_choices, excluded_topics
from search.spreading import RECENT_DAYS, spread

log = logging.getLogger("whoknows.api")
PURGE_EVERY_S = 600.0
_purged = -PURGE_EVERY_S  # when this process last deleted searches past the retention


def voter(state: ServerState, caller: Caller) -> str:
    """The caller as feedback and the search log know them: a pseudonym of their key
    (everyone is one voter on an open server, which has no keys)."""
    return pseudonym(state.runtime.store, caller.key_id or "open")


def may_edit_profile(state: ServerState, caller: Caller, person_id: str) -> None:
    """A person's profile is theirs (a key bound to them), or the LMS's and an admin's on
    their behalf; anyone else is refused."""
    if caller.can("lms"):
        return
    if caller.person is not None and caller.person == person_id:
        return
    raise Forbidden("only the person (with a key bound to them), the LMS or an admin may "
                    "see and change this profile",
                    "an admin binds a key with `whoknows keys add --role reader --person ID`")


def after_search(state: ServerState, caller: Caller, result: dict[str, Any]) -> None:
    """What every search (API and page) goes through once answered: the optional
    spreading among comparable experts, then the search log."""
    if state.runtime.settings.spread_experts and result.get("experts"):
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=RECENT_DAYS)
        counts = QueryLog(state.runtime.store).suggested(since.isoformat(timespec="seconds"))
        result["experts"] = spread(result["experts"], counts)
    record_search(state, caller, result)


def record_search(state: ServerState, caller: Caller, result: dict[str, Any]) -> None:
    """Log a search for analytics (without who asked: a pseudonym that only counts
    askers) and forget entries past the retention. A failure to log never fails a search."""
    settings = state.runtime.settings
    try:
        queries = QueryLog(state.runtime.store)
        assert state.answerer is not None
        vector = state.answerer.embed(result["corrected_query"] or result["query"])
        queries.record(result["query"], vector, float(result.get("best_similarity", 0.0)),
                       bool(result.get("weak_match")), int(result.get("total_articles") or 0),
                       [e["id"] for e in result.get("experts", [])], voter(state, caller))
        global _purged
        if time.monotonic() - _purged > PURGE_EVERY_S:  # retention, not on every search
            queries.forget_before(since(settings.query_log_days))
            _purged = time.monotonic()
    except Exception:  # noqa: BLE001 - analytics must not cost a search
        log.exception("could not log a search")


# -- the reports of the analytics API and the `whoknows analytics` commands -----------

def _cosine_floor(store: Store) -> float:
    """The floor of the model the store's query vectors come from (the common scale)."""
    name = store.get_meta("embedder")
    return _floor_of(name) if name else 0.0


@functools.lru_cache(maxsize=16)
def _floor_of(name: str) -> float:
    return cosine_floor(make_embedder(kind_of(name)))  # a constructor loads no model


def since(days: int) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat(timespec="seconds")


def searches_report(store: Store, settings: Settings, days: int) -> dict[str, Any]:
    entries = QueryLog(store).entries(since(days))
    topics = search_topics(entries, FeedbackLog(store).votes(since(days)),
                           settings.min_askers, cosine_floor=_cosine_floor(store))
    return {"days": days, "searches": len(entries), "min_askers": settings.min_askers,
            "topics": topics, "gaps": [t for t in topics if t["gap"]]}


def load_report(store: Store, days: int) -> dict[str, Any]:
    entries = QueryLog(store).entries(since(days))
    return {"days": days, "searches": len(entries),
            "people": expert_load(entries, store.get_people())}


def coverage_report(store: Store, settings: Settings, groups: tuple[str, ...] | None
                    ) -> dict[str, Any]:
    half_life = settings.evidence_half_life_days
    return {"half_life_days": half_life,
            "topics": topic_coverage(*_evidence(store, groups), half_life,
                                     dt.datetime.now(dt.UTC).date(),
                                     FeedbackLog(store).votes())}


def network_report(store: Store, by: str, groups: tuple[str, ...] | None) -> dict[str, Any]:
    tags, authors, dates, people, _ = _evidence(store, groups)
    # Relationships that happened: proposals and declined ones link no one.
    pairs = [(r.mentor, mentee, r.activated_at or r.created_at)
             for r in Relationships(store).find() if r.activated_at
             for mentee in r.mentees]
    return expertise_network(tags, authors, dates, people, by, pairs)


def _evidence(store: Store, groups: tuple[str, ...] | None) -> tuple[Any, ...]:
    """Tags of the documents ``groups`` may read, their authors, dates, the people as
    their choices leave them, and the topics each hid or opted out of."""
    labels = store.document_labels()
    tags = {d: t for d, (_, t, doc_groups) in labels.items() if may_read(doc_groups, groups)}
    choices = ProfileBook(store).choices()
    people = {pid: apply_choices(p, choices.get(pid)) for pid, p in store.get_people().items()}
    excluded = {pid: excluded_topics(c) for pid, c in choices.items()}
    return tags, store.authors_by_document(), document_dates(store), people, excluded
