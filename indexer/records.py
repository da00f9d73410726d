"""Record types shared by every layer: what is stored and what a search returns."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("article", "lesson")


@dataclass(frozen=True)
class Skill:
    name: str
    level: int = 3
    years: float | None = None


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    email: str | None = None
    title: str | None = None
    department: str | None = None
    location: str | None = None
    timezone: str | None = None
    languages: tuple[str, ...] = ()
    manager_id: str | None = None
    seniority: float | None = None
    skills: tuple[Skill, ...] = ()
    goals: tuple[str, ...] = ()
    bio: str | None = None
    mentoring_available: bool = False
    mentoring_capacity: int = 0
    visible: bool = True
    source: str | None = None
    # Other names the person's authorship may carry: a Slack or Stack Exchange user id,
    # another email, a display name. ``indexer.identity`` resolves authors through them.
    aliases: tuple[str, ...] = ()
    # The tool an account record was read from ("slack", "stackexchange"), None for a
    # person from a people file. An account that a person claims (same email, or named
    # among the person's aliases) is that person, not somebody else.
    system: str | None = None

    def offers_mentoring(self) -> bool:
        """Available to mentor and not opted out: the "unavailable" rule of mentoring."""
        return self.visible and self.mentoring_available

    def in_mentor_pool(self) -> bool:
        """Offers mentoring and has a place: who a cohort or the expertise map counts as
        a mentor. The one definition of the mentor pool."""
        return self.offers_mentoring() and self.mentoring_capacity > 0

    def profile_text(self) -> str:
        """The text the profile signal is matched against: title, skills, bio."""
        skills = ", ".join(s.name for s in sorted(self.skills, key=lambda s: -s.level))
        parts = [self.title or "", f"Skills: {skills}" if skills else "", self.bio or ""]
        return ". ".join(p for p in parts if p)

    def content_hash(self) -> str:
        return _hash(_without_empty(asdict(self) | {"source": None}, ("aliases", "system")))


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    body: str
    kind: str = "article"
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    language: str | None = None
    updated_at: str | None = None
    groups: tuple[str, ...] = ()
    source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # How much the document counts as evidence for each of ``authors`` (same order);
    # empty: 1 for each. An answer counts more than the question it answers, which
    # may count 0 (its asker is listed, and is no expert on their own question).
    author_weights: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.author_weights and len(self.author_weights) != len(self.authors):
            raise ValueError(f"{len(self.author_weights)} author weights for "
                             f"{len(self.authors)} authors")

    def weight_of(self) -> dict[str, float]:
        """author -> evidence weight."""
        weights = self.author_weights or (1.0,) * len(self.authors)
        return dict(zip(self.authors, weights, strict=True))

    def content_hash(self) -> str:
        # The source path is not content: moving a file must not re-embed it.
        return _hash(_without_empty(asdict(self) | {"source": None}, ("author_weights",)))


@dataclass(frozen=True)
class Chunk:
    """A passage of a document; ``start`` is its character offset in the body."""

    doc_id: str
    ordinal: int
    text: str
    start: int = 0


@dataclass
class ArticleHit:
    id: str
    title: str
    kind: str
    score: float
    snippet: str
    source: str | None = None
    updated_at: str | None = None
    tags: list[str] = field(default_factory=list)
    language: str | None = None
    authors: list[str] = field(default_factory=list)
    dense_score: float = 0.0
    keyword_score: float = 0.0
    highlights: list[tuple[int, int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Evidence:
    """One document that voted for an expert, and how much its vote counted."""

    id: str
    title: str
    kind: str
    contribution: float
    snippet: str
    rank: int = 0  # the document's position in the results for the query, from 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ExpertHit:
    id: str
    name: str
    score: float
    title: str | None = None
    department: str | None = None
    location: str | None = None
    mentoring_available: bool = False
    signals: dict[str, float] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)
    skills: list[dict[str, Any]] = field(default_factory=list)
    why: str = ""
    top_results: int = 0  # how many of the top 10 results this person wrote

    def shares(self) -> dict[str, float]:
        """Each signal's share of the score (they sum to 1 when the score is positive)."""
        total = sum(self.signals.values())
        return {k: (v / total if total > 0 else 0.0) for k, v in self.signals.items()}

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["shares"] = self.shares()
        return d


def _without_empty(data: dict[str, Any], added: tuple[str, ...]) -> dict[str, Any]:
    """``data`` without the fields in ``added`` that are empty: a field added in a later
    version changes no hash while it is not used, so nothing is embedded again."""
    return {k: v for k, v in data.items() if k not in added or v}


def _hash(data: dict[str, Any]) -> str:
    payload = json.dumps(data, sort_keys=True, default=str).encode()
    return hashlib.sha256(payload).hexdigest()


def may_read(doc_groups: Iterable[str], caller_groups: Iterable[str] | None) -> bool:
    """The access rule, in Python: a caller with ``None`` reads everything; a document
    without groups is open to all; otherwise they must share a group, compared without
    case. ``indexer.store.document_filter_sql`` is the same rule in SQL."""
    if caller_groups is None:
        return True
    mine = {g.casefold() for g in doc_groups}
    return not mine or bool(mine & {g.casefold() for g in caller_groups})


@dataclass(frozen=True)
class Filters:
    """What a search may return. Empty fields filter nothing.

    ``groups`` is the caller's access: ``None`` reads everything (local CLI use),
    a tuple reads documents with no groups or sharing one of them. ``departments``
    selects people and the documents they wrote; ``locations`` selects people only
    (a document has no place).
    """

    kinds: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    updated_after: str | None = None
    updated_before: str | None = None
    groups: tuple[str, ...] | None = None
    locations: tuple[str, ...] = ()

    def restricts_documents(self) -> bool:
        return bool(self.kinds or self.tags or self.departments or self.languages
                    or self.updated_after or self.updated_before or self.groups is not None)


# The documents anyone may read (those without access groups): what a rule that serves
# every caller alike may draw on (spelling corrections, the case of a question's words).
OPEN_TO_EVERYONE = Filters(groups=())
