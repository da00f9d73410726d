"""Stack Exchange data dumps (and Stack Overflow for Teams exports): accounts from
``Users.xml``, every answer and every question of ``Posts.xml`` a document.

Owns the dump's layout, how much an answer counts as evidence for its answerer
(``answer_weight``), and the rule that a question is no evidence for its asker.
``Posts.xml`` is streamed twice with ``iterparse``, each row dropped once read: the
first pass keeps only the questions' titles, tags and accepted answers (an answer may
come before its question), the second reads the posts. The standard library's expat
resolves no external entity and refuses exponential entity expansion.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from indexer.errors import WhoknowsError
from indexer.records import Document, Person
from ingest.documents import parse_document
from ingest.fields import as_text
from ingest.readers.base import Problem
from ingest.readers.html import page_text

NAME = "stackexchange"
QUESTION, ANSWER = "1", "2"  # PostTypeId; the other types (tag wikis, ...) are skipped
COMMUNITY = "-1"  # the site's own bot account
NO_QUESTION = "(question not in the dump)"
# Questions are documents too: searchable, and evidence for nobody (their asker counts 0).
QUESTION_DOCUMENTS = True
ASKER_WEIGHT = 0.0
# answer_weight's constants. Acceptance adds ACCEPTED_BONUS and upvotes SCORE_SCALE *
# ln(1 + score): both 0, as chosen on two dev splits of the android benchmark's train
# questions (bench/stackexchange_native.py dev, dev2), where every bonus from 0.25 to 2
# and every scale from 0.1 to 1 scored below weights off on both (MAP -0.0001 to -0.0039
# and -0.0010 to -0.0100): there, having answered is the evidence. A downvoted answer counts
# 1 / (1 + DOWNVOTE_SCALE * ln(1 - score)): not measured (the benchmark keeps answers
# scored 4 or more only), kept because a downvote says the answer is wrong.
ACCEPTED_BONUS = 0.0
SCORE_SCALE = 0.0
DOWNVOTE_SCALE = 1.0
_TAG = re.compile(r"<([^<>]+)>")


@dataclass(frozen=True)
class Question:
    title: str
    tags: tuple[str, ...]
    accepted: str | None  # the accepted answer's Id


def detect(folder: Path) -> bool:
    return dump_file(folder, "Posts.xml") is not None


def dump_file(folder: Path, name: str) -> Path | None:
    """The dump's file ``name`` (``Posts.xml``), or its lower-case spelling, if present
    (a link is not followed: ``ingest.exports.files``)."""
    return next((p for p in (folder / name, folder / name.lower())
                 if p.is_file() and not p.is_symlink()), None)


def answer_weight(accepted: bool, score: int, bonus: float | None = None,
                  scale: float | None = None, downvote: float | None = None) -> float:
    """How much an answer counts as evidence for its answerer: 1, plus ``bonus`` if the
    asker accepted it, plus ``scale * ln(1 + score)`` for a positive score (the
    hundredth vote says less than the first); a negative score divides the 1 by
    ``1 + downvote * ln(1 - score)`` instead, so it counts less but never nothing.
    Constants left out are ACCEPTED_BONUS, SCORE_SCALE and DOWNVOTE_SCALE, read at
    call time."""
    if score >= 0:
        votes = 1.0 + (SCORE_SCALE if scale is None else scale) * math.log1p(score)
    else:
        votes = 1.0 / (1.0 + (DOWNVOTE_SCALE if downvote is None else downvote)
                       * math.log1p(-score))
    return votes + ((ACCEPTED_BONUS if bonus is None else bonus) if accepted else 0.0)


def read(folder: Path, file_id: str) -> Iterator[Document | Person | Problem]:
    posts = dump_file(folder, "Posts.xml")
    if posts is None:
        yield Problem(str(folder / "Posts.xml"), "missing from the Stack Exchange dump")
        return
    known: set[str] = set()
    users = dump_file(folder, "Users.xml")
    if users is not None:
        for item in _users(users):
            if isinstance(item, Person):
                known.add(item.aliases[0])
            yield item
    questions = _questions(posts)
    for row in _rows(posts, report=True):
        if isinstance(row, Problem):
            yield row
            continue
        owner = row.get("OwnerUserId")
        if owner and owner != COMMUNITY and owner not in known:
            known.add(owner)  # posted, but not in Users.xml (or there is none)
            yield account(owner, row.get("OwnerDisplayName"), str(posts))
        yield from _post(row, questions, file_id, str(posts))


def account(user_id: str, name: str | None, source: str, bio: str | None = None,
            location: str | None = None) -> Person:
    return Person(id=f"se-{user_id}", name=as_text(name) or f"User {user_id}", bio=bio,
                  location=as_text(location), aliases=(user_id,), system=NAME, source=source)


def tags(value: str | None) -> tuple[str, ...]:
    """``<a><b>`` (the classic dumps, unescaped) or ``|a|b|`` (the newer ones)."""
    text = value or ""
    found = _TAG.findall(text) if "<" in text else text.split("|")
    return tuple(t.strip() for t in found if t.strip())


def _users(path: Path) -> Iterator[Person | Problem]:
    for row in _rows(path, report=True):
        if isinstance(row, Problem):
            yield row
        elif (user_id := row.get("Id")) and user_id != COMMUNITY:
            try:
                bio = page_text(row.get("AboutMe") or "") or None
            except WhoknowsError:
                bio = None  # a profile's unreadable "about me" is no reason to lose it
            yield account(user_id, row.get("DisplayName"), str(path), bio,
                          row.get("Location"))


def _questions(path: Path) -> dict[str, Question]:
    """Every question's title, tags and accepted answer (the first pass)."""
    found = {}
    for row in _rows(path, report=False):
        if isinstance(row, dict) and row.get("PostTypeId") == QUESTION and row.get("Id"):
            found[row["Id"]] = Question(as_text(row.get("Title")) or "",
                                        tags(row.get("Tags")), row.get("AcceptedAnswerId"))
    return found


def _post(row: dict[str, str], questions: dict[str, Question], file_id: str,
          source: str) -> Iterator[Document | Problem]:
    kind, post_id, owner = row.get("PostTypeId"), row.get("Id"), row.get("OwnerUserId")
    if not post_id or kind not in (QUESTION, ANSWER) or (
            kind == QUESTION and not QUESTION_DOCUMENTS):
        return
    record: dict[str, object] = {"updated_at": row.get("CreationDate")}
    if kind == QUESTION:
        record |= {"id": f"{file_id}/q{post_id}", "title": as_text(row.get("Title")),
                   "tags": list(tags(row.get("Tags")))}
        weight = ASKER_WEIGHT
    else:
        question = questions.get(row.get("ParentId") or "", Question(NO_QUESTION, (), None))
        accepted, score = question.accepted == post_id, _score(row.get("Score"))
        record |= {"id": f"{file_id}/a{post_id}", "title": question.title or None,
                   "tags": list(question.tags), "score": score, "accepted": accepted}
        weight = answer_weight(accepted, score)
    try:
        doc = parse_document(record | {"body": page_text(row.get("Body") or "")}, None, source)
    except WhoknowsError as exc:
        yield Problem(source, f"post {post_id}: {exc}")
        return
    if owner and owner != COMMUNITY:
        doc = replace(doc, authors=(f"se-{owner}",), author_weights=(weight,))
    yield doc


def _score(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _rows(path: Path, report: bool) -> Iterator[dict[str, str] | Problem]:
    """The attributes of each ``<row>``, in file order; invalid XML ends the file with
    a problem when ``report`` (the first pass meets it too, and keeps quiet)."""
    root = None
    try:
        for event, element in ET.iterparse(path, events=("start", "end")):
            if root is None:
                root = element
            elif event == "end" and element.tag == "row":
                yield dict(element.attrib)
                root.clear()  # rows read are dropped: a dump may not fit in memory
    except ET.ParseError as exc:
        if report:
            yield Problem(str(path), f"invalid XML: {exc}")
