"""A person's profile as they control it: skills inferred from what they wrote, and
their choices applied (indexer/profiles.py).

Inferred skills come from their documents the caller may read: the documents' tags,
and the names of skills anyone in the company declared that their documents use
(every word of the name in the title, tags or text). Each comes with its evidence.
Applied to ranking, a person's profile is their declared skills, less the hidden ones,
plus the confirmed and the "ask me about" topics; "want to learn" topics are goals.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from indexer.profiles import Choices, ProfileBook, topic_key
from indexer.records import Filters, Person, Skill
from indexer.store import Store
from search.text import document_terms, stem, terms

MAX_INFERRED = 20
ASK_ME_LEVEL = 3  # an "ask me about" topic counts as a declared skill of this level
EVIDENCE_SHOWN = 5


@dataclass
class InferredSkill:
    name: str
    source: str  # "tag" or "skill name"
    evidence: list[dict[str, str]] = field(default_factory=list)  # [{"id", "title"}]


def apply_choices(person: Person, choices: Choices | None) -> Person:
    """The person as ranking sees them: hidden skills gone, confirmed and "ask me about"
    topics added as declared skills, "want to learn" topics added to their goals."""
    if choices is None:
        return person
    hidden = {topic_key(t) for t in choices.hide}
    skills = [s for s in person.skills if topic_key(s.name) not in hidden]
    have = {topic_key(s.name) for s in skills}
    added = [*choices.confirm.items(), *((t, ASK_ME_LEVEL) for t in sorted(choices.ask_me))]
    for name, level in added:
        if topic_key(name) not in have and topic_key(name) not in hidden:
            skills.append(Skill(name=name, level=level))
            have.add(topic_key(name))
    goals = [*person.goals, *(g for g in sorted(choices.learn) if g not in person.goals)]
    return replace(person, skills=tuple(skills), goals=tuple(goals),
                   visible=person.visible and not choices.opted_out)


def excluded_topics(choices: Choices | None) -> tuple[str, ...]:
    """Topics the person is never suggested for: hidden skills and topics opted out of."""
    if choices is None:
        return ()
    return tuple(sorted(choices.hide | {t for t in choices.opt_out if t}))


def infer_skills(store: Store, person: Person, filters: Filters | None = None,
                 known_skills: set[str] | None = None) -> list[InferredSkill]:
    """Topics the person's documents show, most evidence first."""
    listed = store.documents_of(person, filters, limit=200)
    docs = store.get_documents(d["id"] for d in listed)
    if known_skills is None:
        known_skills = {s.name for p in store.get_people().values() for s in p.skills}
    found: dict[str, InferredSkill] = {}
    names = {name: {stem(t) for t in terms(name)} for name in known_skills}
    for doc in docs.values():
        ref = {"id": doc.id, "title": doc.title}
        for tag in doc.tags:
            found.setdefault(topic_key(tag), InferredSkill(tag, "tag")).evidence.append(ref)
        text = " ".join([doc.title, " ".join(doc.tags), doc.body])
        words = {stem(t) for t in document_terms(text, doc.language)}
        for name, stems in names.items():
            if stems and stems <= words:
                item = found.setdefault(topic_key(name), InferredSkill(name, "skill name"))
                if ref not in item.evidence:
                    item.evidence.append(ref)
    ranked = sorted(found.values(), key=lambda s: (-len(s.evidence), s.name.casefold()))
    return ranked[:MAX_INFERRED]


def profile_view(store: Store, book: ProfileBook, person: Person,
                 filters: Filters | None = None) -> dict[str, Any]:
    """What the person sees of their own profile: every skill with where it comes from,
    its state and evidence; their topics and whether they opted out."""
    choices = book.of(person.id)
    hidden = {topic_key(t) for t in choices.hide}
    confirmed = {topic_key(t): level for t, level in choices.confirm.items()}
    skills: dict[str, dict[str, Any]] = {}
    for s in person.skills:
        skills[topic_key(s.name)] = {"name": s.name, "level": s.level, "source": "declared",
                                     "evidence": []}
    for inferred in infer_skills(store, person, filters):
        entry = skills.setdefault(topic_key(inferred.name), {
            "name": inferred.name, "level": None, "source": inferred.source})
        entry["evidence"] = inferred.evidence[:EVIDENCE_SHOWN]
        entry["evidence_count"] = len(inferred.evidence)
    for name, level in choices.confirm.items():
        skills.setdefault(topic_key(name), {"name": name, "source": "confirmed",
                                            "evidence": []})["level"] = level
    for key, entry in skills.items():
        entry.setdefault("evidence_count", len(entry.get("evidence", [])))
        entry["state"] = ("hidden" if key in hidden else "confirmed" if key in confirmed
                          else "declared" if entry["source"] == "declared" else "inferred")
        if key in confirmed:
            entry["level"] = confirmed[key]
    return {"id": person.id, "name": person.name,
            "skills": sorted(skills.values(), key=lambda e: (
                e["state"] == "hidden", e["state"] == "inferred", -e["evidence_count"],
                e["name"].casefold())),
            "ask_me": sorted(choices.ask_me), "learn": sorted(choices.learn),
            "opted_out_topics": sorted(t for t in choices.opt_out if t),
            "opted_out": choices.opted_out}
