"""Request and response shapes of the mentoring and analytics endpoints (and match files)."""

from __future__ import annotations

import zoneinfo
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from indexer.records import Person, Skill
from search.mentoring.fit import FitWeights
from search.mentoring.rules import Options, valid_timezone

Text = Annotated[str, Field(min_length=1, max_length=200)]
# No ASCII white space in an id. Spelled out: "\S" means different characters to the
# JSON Schema generators (Python's re) and to pydantic's validator (Rust's regex).
Id = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^ \t\n\r\f\v]+$")]
# A name (of a skill) needs one visible character: control characters are removed from
# every field at ingest (ingest.fields.clean_text), so "\r\x98" would be no name at all.
VISIBLE = r"[^\t\n\v\f\r \x00-\x1f\x7f-\x9f]"
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=VISIBLE)]
Weight = Annotated[float, Field(ge=0, le=10)]


def _integral(value: object) -> object:
    """JSON Schema's integer includes 3.0; strict validation would refuse it."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


Int = Annotated[int, BeforeValidator(_integral)]
Capacity = Annotated[int, Field(ge=0, le=50), BeforeValidator(_integral)]
Gap = Annotated[float, Field(ge=-80, le=80)]


def _zone(value: str) -> str:
    if not valid_timezone(value):
        raise ValueError(f"unknown time zone {value!r}; use an IANA name like Europe/Berlin")
    return value


# The schema lists the zones this machine knows, so it says exactly what is accepted;
# the check keeps the error short (not a list of 600 names).
_ZONES = sorted(zoneinfo.available_timezones())
TimeZone = Annotated[str, AfterValidator(_zone), WithJsonSchema(
    {"type": "string", "description": "IANA time zone name, e.g. Europe/Berlin"}
    | ({"enum": _ZONES} if _ZONES else {}))]


class Strict(BaseModel):
    # A misspelt option is an error, not ignored; false is not 0, "1" is not 1.
    model_config = ConfigDict(extra="forbid", strict=True)


class SkillIn(Strict):
    name: Name
    level: Int = Field(3, ge=1, le=5)


class ProfileIn(Strict):
    """Someone not (yet) indexed, as a mentee or a mentor."""

    id: Id = "inline"
    name: Name = "new employee"
    department: Text | None = None
    location: Text | None = None
    timezone: TimeZone | None = Field(None, description="IANA name, e.g. Europe/Berlin")
    languages: list[Text] = Field(default_factory=list, max_length=20)
    manager_id: Id | None = None
    seniority: Annotated[float, Field(ge=0, le=80)] | None = Field(
        None, description="Years of experience")
    skills: list[SkillIn] = Field(default_factory=list, max_length=100)
    goals: list[Text] = Field(default_factory=list, max_length=20)
    mentoring_available: bool | None = Field(
        None, description="Default: true for a mentor, false for a mentee")
    mentoring_capacity: Capacity | None = Field(
        None, description="Default: 1 for a mentor")

    def to_person(self, available: bool = False) -> Person:
        """The profile as a person record (``available``: the default for a mentor)."""
        capacity = self.mentoring_capacity
        return Person(
            id=self.id, name=self.name, department=self.department,
            location=self.location, timezone=self.timezone,
            languages=tuple(x.casefold() for x in self.languages),
            manager_id=self.manager_id, seniority=self.seniority,
            skills=tuple(Skill(s.name, s.level) for s in self.skills),
            goals=tuple(self.goals),
            mentoring_available=available if self.mentoring_available is None
            else self.mentoring_available,
            mentoring_capacity=(1 if available else 0) if capacity is None else capacity)


class ConstraintsIn(Strict):
    """Hard constraints: a pair that breaks one is never chosen."""

    cross_functional: bool = Field(False, description="Another department only")
    min_seniority_gap: Gap | None = Field(
        None, description="Years the mentor has more than the mentee, at least (reverse: fewer)")
    max_seniority_gap: Gap | None = None
    shared_language: bool = False
    max_timezone_hours: Annotated[float, Field(ge=0, le=24)] | None = None
    same_location: bool = False


class WeightsIn(Strict):
    """Fit weights: skills and documents make the coverage; the rest are bonuses."""

    skills: Weight = 0.6
    documents: Weight = 0.4
    gaps: Weight = Field(0.5, ge=0, le=10, description="A skill gap counts this much of a goal")
    shared_language: Weight = 0.0
    timezone: Weight = 0.0
    same_location: Weight = 0.0
    cross_department: Weight = 0.0
    outcomes: Weight = Field(0.05, description="Times the mentor's outcome score (-1 to 1)")


class PastPair(Strict):
    mentee: Id
    mentor: Id


class MatchIn(Strict):
    mentees: list[Id | ProfileIn] = Field(min_length=1, max_length=5000)
    mentors: list[Id | ProfileIn] | None = Field(
        None, max_length=5000, description="Default: every available indexed mentor")
    capacities: dict[str, Capacity] = Field(
        default_factory=dict, description="Places per mentor id in this cohort (at most "
        "what the mentor offers)")
    constraints: ConstraintsIn = Field(default_factory=ConstraintsIn)
    mode: Literal["standard", "reverse"] = "standard"
    weights: WeightsIn = Field(default_factory=WeightsIn)
    past_pairs: list[PastPair] = Field(default_factory=list, max_length=100_000)
    objective: Literal["best_fit", "most_matched"] = "best_fit"
    min_fit: float = Field(0.0, ge=0, le=10, description="A pair must fit better than this")
    propose: bool = Field(False, description="Also propose a relationship for every pair "
                          "(lms role; answered under relationships)")

    def arguments(self) -> dict[str, Any]:
        """The request as the arguments of ``search.mentoring.cohort.match_people``."""
        return {
            "mentees": [_person_or_id(x, False) for x in self.mentees],
            "mentors": None if self.mentors is None
            else [_person_or_id(x, True) for x in self.mentors],
            "options": Options(self.mode, **self.constraints.model_dump()),
            "capacities": self.capacities,
            "past_pairs": [(p.mentee, p.mentor) for p in self.past_pairs],
            "objective": self.objective, "min_fit": self.min_fit,
            "weights": FitWeights(**self.weights.model_dump())}


def _person_or_id(item: str | ProfileIn, mentor: bool) -> str | Person:
    return item if isinstance(item, str) else item.to_person(available=mentor)


class MentorsIn(Strict):
    profile: ProfileIn
    constraints: ConstraintsIn = Field(default_factory=ConstraintsIn)
    mode: Literal["standard", "reverse", "group"] = "standard"
    limit: Int = Field(5, ge=1, le=100)


# -- responses ----------------------------------------------------------------

class SkillMatch(BaseModel):
    name: str
    level: int
    match: float


class DocMatch(BaseModel):
    id: str
    title: str
    match: float


class TopicCover(BaseModel):
    topic: str
    kind: str
    weight: float
    fit: float
    skills: list[SkillMatch]
    documents: list[DocMatch]


class Reasoned(BaseModel):
    fit: float
    coverage: float
    outcome: float = Field(0.0, description="The mentor's outcome score, -1 to 1 (mentees' "
                           "ratings, shrunk while they are few); adds weights.outcomes times it")
    covers: list[TopicCover]
    not_covered: list[str]
    why: str


class GroupMember(BaseModel):
    id: str
    name: str
    department: str | None = None
    shared: list[str]


class Group(BaseModel):
    size: int
    capacity: int
    shared_topics: list[str]
    members: list[GroupMember]


class MentorMatch(Reasoned):
    id: str
    name: str
    title: str | None = None
    department: str | None = None
    location: str | None = None
    timezone: str | None = None
    languages: list[str] = []
    seniority: float | None = None
    capacity: int = Field(description="Places still free: the places the mentor offers "
                          "less the mentees of their proposed and active relationships")
    group: Group | None = None


class TopicOut(BaseModel):
    topic: str
    kind: str


class MentorsOut(BaseModel):
    employee: str | None = None
    mode: str
    topics: list[TopicOut]
    mentors: list[MentorMatch]
    considered: int
    excluded: dict[str, int]
    note: str | None = None


class PairOut(Reasoned):
    mentee: str
    mentee_name: str
    mentor: str
    mentor_name: str


class UnmatchedOut(BaseModel):
    mentee: str
    mentee_name: str
    reason: str
    detail: str


class MentorLoad(BaseModel):
    id: str
    name: str
    capacity: int
    mentees: list[str]
    shared_topics: list[str]


class MatchSummary(BaseModel):
    mentees: int
    mentors: int
    places: int
    matched: int
    total_fit: float
    mean_fit: float


class Proposal(BaseModel):
    mentee: str
    mentor: str
    relationship: str | None = None
    error: str | None = None


class MatchOut(BaseModel):
    objective: str
    mode: str
    pairs: list[PairOut]
    unmatched: list[UnmatchedOut]
    mentors: list[MentorLoad]
    summary: MatchSummary
    relationships: list[Proposal] | None = None


class TopicsOut(BaseModel):
    total: int
    no_expert: list[str]
    one_expert: list[str]


class GroupOut(BaseModel):
    name: str
    people: int
    experts: int
    topics: int
    topics_only_here: int
    top_topics: list[str]
    mentors: int
    places: int


class SupplyDemand(BaseModel):
    topic: str
    wanted_by: int
    mentors: int
    places: int
    status: str


class Suppressed(BaseModel):
    departments: list[str]
    locations: list[str]
    topics: list[str]


class ExpertiseMapOut(BaseModel):
    min_group_size: int
    expert_level: int
    people: int | None = None
    topics: TopicsOut
    departments: list[GroupOut]
    locations: list[GroupOut]
    supply_demand: list[SupplyDemand]
    unmet_demand: list[str]
    suppressed: Suppressed
    note: str
