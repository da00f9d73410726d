"""Response shapes of the HTTP API (they make the OpenAPI schema precise)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Article(BaseModel):
    id: str
    title: str
    kind: str
    score: float
    snippet: str
    source: str | None = None
    updated_at: str | None = None
    tags: list[str] = []
    language: str | None = None
    authors: list[str] = []
    dense_score: float = 0.0
    keyword_score: float = 0.0
    highlights: list[list[int]] = []
    why: str = Field("", description=(
        "What readers said of this result for this question and similar ones, e.g. "
        "'3 colleagues said this helped'; empty when nobody did."))


class EvidenceItem(BaseModel):
    id: str
    title: str
    kind: str
    contribution: float
    snippet: str
    rank: int


class MatchedSkill(BaseModel):
    name: str
    level: int
    match: float
    covers: bool = Field(False, description=(
        "The skill covers the question: it is close to it in meaning, or named by all its "
        "words (GDPR for \"gdpr\"); a skill only named among other words (Kafka in "
        "\"kafka zebra okapi\") does not. Where weak_match is true, such a person still "
        "knows the question; the others only wrote near it."))


class Expert(BaseModel):
    id: str
    name: str
    score: float
    title: str | None = None
    department: str | None = None
    location: str | None = None
    mentoring_available: bool = False
    signals: dict[str, float]
    shares: dict[str, float]
    evidence: list[EvidenceItem]
    skills: list[MatchedSkill]
    why: str
    top_results: int = 0


class SearchResponse(BaseModel):
    query: str
    articles: list[Article]
    experts: list[Expert]
    total_articles: int | None = None
    corrected_query: str | None = Field(None, description=(
        "The query as searched when words the corpus does not know were corrected from "
        "its own vocabulary and the people's skills (GDRP -> GDPR); null when none was. "
        "A word in double quotes, or exact=true, is searched as typed."))
    best_similarity: float = Field(0.0, description=(
        "The cosine between the query and the closest passage found (weak_match compares "
        "it with the model's threshold)."))
    weak_match: bool = Field(False, description=(
        "Nothing found is clearly about the query: the closest passage's cosine is under "
        "the model's threshold (0.40 for all-MiniLM-L6-v2), or, with all-MiniLM-L6-v2, the "
        "3 closest documents average under it less 0.015 while none is 0.1 over it (when 20 "
        "documents or more were found); or, with either calibrated model, a question of one "
        "or two words has its rarest word in none of the 10 closest documents' passages "
        "(in its own language) while none is 0.1 over the line. The articles and the "
        "people's documents then only share words with the query or touch on it (a "
        "person's declared skill may still cover it: skills[].covers)."))


class SkillOut(BaseModel):
    name: str
    level: int
    years: float | None = None


class DocumentSummary(BaseModel):
    id: str
    title: str
    kind: str
    updated_at: str | None = None


class PersonOut(BaseModel):
    id: str
    name: str
    email: str | None = None
    title: str | None = None
    department: str | None = None
    location: str | None = None
    timezone: str | None = None
    languages: list[str] = []
    seniority: float | None = None
    skills: list[SkillOut] = []
    goals: list[str] = []
    bio: str | None = None
    mentoring_available: bool = False
    mentoring_capacity: int = 0
    documents: list[DocumentSummary] = []


class DocumentOut(BaseModel):
    id: str
    title: str
    kind: str
    body: str
    authors: list[str] = []
    tags: list[str] = []
    language: str | None = None
    updated_at: str | None = None
    source: str | None = None
    extra: dict = {}


class Error(BaseModel):
    error: str
    detail: str | None = None


class JobOut(BaseModel):
    id: str
    kind: str
    state: str  # queued, running, done, failed, or dead (gave up: see errors)
    done: int
    total: int
    errors: list[dict]
    summary: dict
    attempts: int
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    heartbeat_at: str | None = None  # last sign of life: a worker's beat, or a re-queue
    worker: str | None = None  # host:pid that ran it last


class Reason(BaseModel):
    topic: str
    why: str


class MentorOut(BaseModel):
    id: str
    name: str
    title: str | None = None
    department: str | None = None
    location: str | None = None
    capacity: int
    score: float
    reasons: list[Reason]


class RecommendedDoc(Article):
    topic: str
    reason: str


class RecommendationOut(BaseModel):
    employee: str | None = None
    topics: list[str]
    mentors: list[MentorOut]
    articles: list[RecommendedDoc]
    lessons: list[RecommendedDoc]
