"""HTML pages: title, <meta> fields, and the visible text without scripts and navigation.

The page is read in one pass of the standard library's HTMLParser, building no tree:
each piece of text is seen once, so time and memory grow with the file, however deep
its elements nest (a tree walk that took each block's text met nested blocks' text
once per ancestor: 2,000 nested <p> made a 4 MB body).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from indexer.errors import IngestError
from ingest.documents import parse_document
from ingest.readers.base import FileResult, read_text, require_text

MAX_HTML_BYTES = 16 << 20  # the parser reads about 4 MB of markup a second
_DROP = frozenset(("script", "style", "nav", "header", "footer", "noscript", "template",
                   "svg"))
# Elements whose start and end separate paragraphs of the body.
_BLOCKS = frozenset(("address", "article", "aside", "blockquote", "dd", "div", "dl", "dt",
                     "figcaption", "form", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li",
                     "main", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul"))
_META = {"id": "id", "authors": "authors", "author": "authors", "keywords": "tags",
         "tags": "tags", "language": "language", "date": "updated_at",
         "updated_at": "updated_at", "groups": "groups", "kind": "kind"}
_SPACE = re.compile(r"\s+")


class _Page(HTMLParser):
    """Collects the title, the first <h1>, the <meta> fields and the body's paragraphs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.language = ""
        self.title: list[str] = []
        self.h1: list[str] = []
        self.paragraphs: list[str] = []
        self._text: list[str] = []
        self._dropped = 0  # how many dropped elements are open around the text
        self._in_title = False
        self._h1 = 0  # 0: no <h1> yet, 1: inside the first, -1: past it

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            self._read_meta(dict(attrs))
        elif tag == "html" and not self.language:
            self.language = dict(attrs).get("lang") or ""
        elif tag in _DROP:
            self._dropped += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "br":
            self._text.append(" ")
        elif tag == "h1" and self._h1 == 0:
            self._h1 = 1
        if tag in _BLOCKS:
            self._in_title = False  # a <title> left open must not swallow the page
            self._end_paragraph()

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP and self._dropped:
            self._dropped -= 1
        elif tag == "title":
            self._in_title = False
        elif tag == "h1" and self._h1 == 1:
            self._h1 = -1
        if tag in _BLOCKS:
            self._end_paragraph()

    def handle_data(self, data: str) -> None:
        if self._dropped:
            return
        if self._in_title:
            self.title.append(data)
            return
        if self._h1 == 1:
            self.h1.append(data)
        self._text.append(data)

    def close(self) -> None:
        super().close()
        self._end_paragraph()

    def _read_meta(self, attrs: dict[str, str | None]) -> None:
        key = _META.get(str(attrs.get("name") or "").lower())
        if key and attrs.get("content"):
            self.meta[key] = str(attrs["content"])

    def _end_paragraph(self) -> None:
        text = squash(self._text)
        self._text = []
        if text:
            self.paragraphs.append(text)


def squash(parts: list[str]) -> str:
    return _SPACE.sub(" ", "".join(parts)).strip()


def read(path: Path, file_id: str, people: bool = False) -> FileResult:
    page = parse_page(read_text(path, MAX_HTML_BYTES))
    record: dict = dict(page.meta)  # dated by its meta tags only, never the file's mtime
    if page.language and "language" not in record:
        record["language"] = page.language
    record["title"] = (squash(page.title) or squash(page.h1))[:200] or path.stem
    record["body"] = require_text("\n\n".join(page.paragraphs), path)
    return FileResult(documents=[parse_document(record, file_id, str(path))])


def page_text(markup: str) -> str:
    """The visible text of an HTML string, paragraphs apart: the body a page gets."""
    return "\n\n".join(parse_page(markup).paragraphs)


def parse_page(text: str) -> _Page:
    """The page, parsed in time linear in its length."""
    page = _Page()
    feed(page, text)
    return page


def feed(parser: HTMLParser, text: str) -> None:
    """Give ``parser`` the whole of ``text`` and close it, in time linear in its length;
    markup too malformed to parse is an IngestError."""
    # HTMLParser scans from each "<" to the end of the text when no ">" follows it,
    # which is quadratic; after the last ">" a "<" can only be text anyway.
    last = text.rfind(">")
    text = text[:last + 1] + text[last + 1:].replace("<", "&lt;")
    try:
        parser.feed(text)
        parser.close()
    except AssertionError as exc:  # _markupbase asserts on some malformed declarations
        raise IngestError(f"unreadable HTML: {exc}") from exc
