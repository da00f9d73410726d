"""Document and lesson-learned records (pure): a field mapping in, a Document out.

A document's language is the one its record gives (``language`` or ``lang``: front
matter, an HTML page's ``lang``), else the one detected in its body, else None: no
language is assumed, since a German file called English is filtered out of German."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from indexer.errors import InvalidRecord
from indexer.language import document_language
from indexer.records import KINDS, Document
from ingest.fields import as_date, as_list, as_text, require_id

LESSON_SECTIONS = ("context", "lesson", "recommendation")
_KNOWN = {"id", "type", "kind", "title", "body", "text", "content", "authors", "author",
          "contributors", "tags", "keywords", "language", "lang", "updated_at", "date",
          "groups", "project", *LESSON_SECTIONS}


def parse_document(record: dict[str, Any], fallback_id: str | None,
                   source: str | None) -> Document:
    """Build a document (or lesson) from a record; raise InvalidRecord if unusable."""
    kind = (as_text(record.get("kind")) or "article").lower()
    if kind not in KINDS:
        raise InvalidRecord(f"unknown kind {kind!r}", f"use one of {', '.join(KINDS)}")
    body = as_text(record.get("body") or record.get("text") or record.get("content")) or ""
    extra = {k: v for k, v in record.items() if k not in _KNOWN and v is not None}
    if kind == "lesson":
        body, lesson_fields = lesson_body(record, body)
        extra |= lesson_fields
    if not body.strip():
        if record.get("name"):
            raise InvalidRecord("a record with a name but no text",
                                'if it is a person, give it "type": "person" or ingest the '
                                "file with --people")
        raise InvalidRecord("the record has no text",
                            "give it a body (or context/lesson/recommendation for a lesson)")
    title = as_text(record.get("title")) or body.strip().splitlines()[0][:120]
    authors = as_list(record.get("authors") or record.get("author")) + as_list(
        record.get("contributors"))
    return Document(
        id=require_id(record.get("id"), fallback_id), title=title, body=body, kind=kind,
        authors=tuple(dict.fromkeys(authors)),
        tags=as_list(record.get("tags") or record.get("keywords")),
        language=document_language(as_text(record.get("language") or record.get("lang")),
                                   body),
        updated_at=as_date(record.get("updated_at") or record.get("date")),
        groups=as_list(record.get("groups")), source=source, extra=extra)


def weighted_authors(pairs: Iterable[tuple[str, float]]
                     ) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """``Document.authors`` and ``author_weights`` from (author, weight) pairs in order of
    appearance; an author named twice keeps the highest weight (one who asked and then
    answered counts as an answerer)."""
    best: dict[str, float] = {}
    for author, weight in pairs:
        best[author] = max(weight, best.get(author, weight))
    return tuple(best), tuple(float(w) for w in best.values())


def lesson_body(record: dict[str, Any], body: str) -> tuple[str, dict[str, Any]]:
    """The searchable text of a lesson: its sections in order, then any free body."""
    fields = {k: as_text(record.get(k)) for k in ("project", *LESSON_SECTIONS)}
    parts = [f"Project: {fields['project']}"] if fields["project"] else []
    parts += [f"{name.capitalize()}: {fields[name]}" for name in LESSON_SECTIONS if fields[name]]
    if body.strip():
        parts.append(body.strip())
    return "\n\n".join(parts), {k: v for k, v in fields.items() if v}
