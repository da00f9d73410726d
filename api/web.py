"""What the HTML pages share: the Jinja2 templates, their filters, and error pages.

Every page is rendered on the server; text from documents and queries is escaped by
Jinja2's autoescaping, and highlights are built here from escaped pieces only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from search.markup import markdown_html
from search.snippets import highlight_spans

HERE = Path(__file__).parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")

# Pages load nothing from elsewhere and run no inline script: a snippet that slipped
# through escaping still could not execute.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
KIND_LABELS = {"article": "Article", "lesson": "Lesson learned"}
LANGUAGES = {"en": "English", "de": "German", "pt": "Portuguese", "es": "Spanish",
             "fr": "French", "no": "Norwegian", "nl": "Dutch", "it": "Italian",
             "pl": "Polish", "tr": "Turkish", "ja": "Japanese", "zh": "Chinese",
             "hu": "Hungarian", "sw": "Swahili", "hi": "Hindi", "yo": "Yoruba",
             "ko": "Korean", "ar": "Arabic", "ru": "Russian", "sv": "Swedish", "da": "Danish",
             "fi": "Finnish", "cs": "Czech", "el": "Greek", "he": "Hebrew", "vi": "Vietnamese",
             "th": "Thai", "id": "Indonesian", "ms": "Malay", "uk": "Ukrainian", "ro": "Romanian",
             "zu": "Zulu", "xh": "Xhosa", "af": "Afrikaans", "am": "Amharic", "ig": "Igbo",
             "ha": "Hausa", "ta": "Tamil", "bn": "Bengali", "ur": "Urdu", "fa": "Persian",
             "tl": "Tagalog", "ca": "Catalan", "eu": "Basque", "gl": "Galician"}


def highlight(text: str, spans: Iterable[Sequence[int]], anchor: str | None = None) -> Markup:
    """``text`` escaped, with each span wrapped in ``<mark>`` (the first one gets ``anchor``
    as its id). Overlapping or out-of-range spans are skipped rather than trusted."""
    out: list[Markup] = []
    at = 0
    for start, end in sorted((int(s), int(e)) for s, e in spans):
        if start < at or start >= end or end > len(text):
            continue
        tag = Markup('<mark id="{}">').format(anchor) if anchor and not out else Markup("<mark>")
        out.append(escape(text[at:start]) + tag + escape(text[start:end]) + Markup("</mark>"))
        at = end
    return Markup("").join(out) + escape(text[at:])


@dataclass
class Block:
    """One block of a document body: a heading, a list, code, or a paragraph."""

    tag: str
    html: Markup | list[Markup]
    level: int = 0


_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


def body_blocks(body: str, title: str, query: str | None = None) -> list[Block]:
    """The body as blocks, Markdown headings and lists recognised (nothing else is
    interpreted: the text stays text), query terms highlighted, the first one anchored."""
    blocks: list[Block] = []
    mark = _marker(query)
    for raw in re.split(r"\n\s*\n", body.strip()):
        text = raw.strip("\n")
        heading = _HEADING.match(text) if "\n" not in text else None
        if heading:
            if not blocks and heading.group(2).strip() == title.strip():
                continue  # the title is already the page's heading
            level = min(len(heading.group(1)) + 1, 4)
            blocks.append(Block("heading", mark(heading.group(2)), level))
        elif text.startswith("```"):
            lines = text.splitlines()[1:]  # the fence and its language name
            if lines and lines[-1].strip().startswith("```"):
                lines.pop()
            blocks.append(Block("code", mark("\n".join(lines))))
        elif (items := _list_items(text)) is not None:
            ordered = bool(re.match(r"\s*\d", text))
            blocks.append(Block("ol" if ordered else "list", [mark(i) for i in items]))
        else:
            blocks.append(Block("paragraph", mark(_reflow(text))))
    return blocks


def _reflow(text: str) -> str:
    """Join a paragraph hard-wrapped at a fixed width (every line but the last long) into
    one line, so it wraps to the screen; short lines (a cheat sheet, an address) keep
    their breaks."""
    lines = text.splitlines()
    if len(lines) > 1 and all(len(line.strip()) >= 40 for line in lines[:-1]):
        return " ".join(line.strip() for line in lines)
    return text


def _list_items(text: str) -> list[str] | None:
    """The items of a Markdown list block (indented lines continue an item), or None."""
    items: list[str] = []
    for line in text.splitlines():
        if _ITEM.match(line):
            items.append(_ITEM.sub("", line, count=1))
        elif items and line[:1].isspace():
            items[-1] += " " + line.strip()
        else:
            return None
    return items


def markdown(body: str, title: str, query: str | None = None) -> Markup:
    """A Markdown body as HTML (search.markup: raw HTML off, safe links only), query terms
    highlighted and the first one anchored."""
    return Markup(markdown_html(body, title, _marker(query)))


def _marker(query: str | None) -> Callable[[str], Markup]:
    """Text to escaped HTML with the query's terms highlighted; the first highlight of a
    page (the first call that finds one) is anchored as ``#hit``."""
    anchored = False

    def mark(text: str) -> Markup:
        nonlocal anchored
        spans = highlight_spans(text, query) if query else []
        html = highlight(text, spans, None if anchored else "hit")
        anchored = anchored or bool(spans)
        return html

    return mark


def nice_date(value: str | None) -> str:
    """2025-02-03 -> 3 Feb 2025 (unparseable dates are shown as they are)."""
    if not value:
        return ""
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        return value
    return f"{day.day} {day:%b %Y}"


def url(path: str, params: dict[str, Any] | None = None, fragment: str | None = None) -> str:
    """``path?params#fragment``, leaving out empty values; lists become repeated keys."""
    pairs = [(k, v) for k, vs in (params or {}).items()
             for v in (vs if isinstance(vs, list | tuple) else [vs]) if v not in (None, "")]
    query = f"?{urlencode(pairs)}" if pairs else ""
    return f"{path}{query}{'#' + fragment if fragment else ''}"


def doc_url(doc_id: str, q: str | None = None) -> str:
    """A document page; with ``q``, its terms highlighted and the first one in view."""
    return url(f"/documents/{quote(doc_id, safe='/')}", {"q": q}, "hit" if q else None)


def source_url(doc_id: str) -> str:
    return f"/source/{quote(doc_id, safe='/')}"


def person_url(person_id: str) -> str:
    return f"/people/{quote(person_id, safe='')}"


def language_name(code: str | None) -> str:
    return LANGUAGES.get((code or "").lower(), code or "")


def sentence(text: str | None) -> str:
    """First letter up, the rest as it is (Jinja's capitalize lowercases ids too)."""
    return (text[:1].upper() + text[1:]) if text else ""


templates.env.filters.update(nice_date=nice_date, language=language_name, sentence=sentence,
                             markdown=markdown,
                             kind=lambda k: KIND_LABELS.get(k, (k or "").capitalize()))
templates.env.globals.update(url=url, highlight=highlight, doc_url=doc_url,
                             source_url=source_url, person_url=person_url)


def render(request: Request, name: str, context: dict[str, Any],
           status: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers.update(HEADERS)
    return response


def render_error(request: Request, status: int, error: str,
                 detail: str | None) -> HTMLResponse:
    """The error page; a missing or refused key shows the key form."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return render(request, "error.html", {
        "status": status, "error": error, "detail": detail, "next": here,
        "needs_key": status == 401, "caller": None}, status=status)
