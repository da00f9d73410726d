"""Markdown read two ways: as plain text for snippets, as safe HTML for document pages.

Snippets are cut from passages without knowing the file they came from, so the text
reading must leave plain text alone: it is CommonMark with three changes that keep
code and paths intact. ``*`` never opens or closes emphasis inside a word (``a*b*c``
stays), ``_`` is never emphasis (``__init__.py``, ``_loaded_at`` stay), and a
backslash escapes nothing (``C:\\Users\\me\\.ssh`` stays). HTML tags are dropped only
when they name an HTML element (``vector<int>`` stays).

Pages render only documents read from Markdown files (``is_markdown``), as CommonMark
with tables and strikethrough, raw HTML off (a ``<script>`` in a document is shown as
text) and links only to http(s), mailto or relative addresses: nothing a document
holds can run in the page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.html_blocks import block_names
from markdown_it.common.normalize_url import validateLink
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_inline import StateInline
from markdown_it.rules_inline.state_inline import Delimiter
from markdown_it.token import Token

MARKDOWN_SUFFIXES = (".md", ".markdown")
# Rendering takes about 0.4 µs a character (up to 25 in text made to be slow to parse):
# a longer body is shown as text, so that no page takes seconds.
MAX_RENDERED_CHARS = 100_000
# Nothing here can be Markdown markup: the text is returned as it is, unparsed.
_MAYBE_MARKUP = re.compile(r"[*`#<>\[|&~]|^[ \t]*(?:[-+=]|\d{1,9}[.)])", re.MULTILINE)
_ELEMENTS = frozenset(block_names) | {
    "a", "abbr", "b", "bdi", "bdo", "big", "br", "button", "cite", "code", "data", "del",
    "dfn", "em", "font", "i", "img", "input", "ins", "kbd", "label", "mark", "picture",
    "q", "s", "samp", "script", "small", "span", "strike", "strong", "sub", "sup", "svg",
    "time", "tt", "u", "var", "video", "audio", "wbr"}
_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9-]*)[^<>]*>")
_NOT_TEXT = re.compile(r"<!--.*?(?:-->|\Z)|<[?!][^>]*>|<(script|style)\b.*?(?:</\1\s*>|\Z)",
                       re.DOTALL | re.IGNORECASE)
# What starts a line in Markdown without being text: a heading's #s, a quote's >, a
# bullet, a code fence line, a table's leading pipe (an ordered list's number is kept).
_LINE_MARK = re.compile(r"^[ \t]{0,3}(?:#{1,6}(?=[ \t]|$)|>[ \t]?|[-+*](?=[ \t])|"
                        r"(?:```|~~~).*$|\|)", re.MULTILINE)
# A line that only underlines or separates: a table's |---|, a setext heading's === or
# ---, a thematic break.
_RULE_LINE = re.compile(r"^[ \t|:]*(?:-{3,}|={3,}|\*{3,}|_{3,})[ \t|:-]*$\n?", re.MULTILINE)
PLAIN_SUFFIXES = (".pdf", ".html", ".htm", ".txt", ".text")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):", re.IGNORECASE)
_SAFE_SCHEMES = {"http", "https", "mailto"}


def is_markdown(source: str | None) -> bool:
    """Whether a document was read from a Markdown file (its stored source path says)."""
    return source is not None and source.lower().endswith(MARKDOWN_SUFFIXES)


def renders_markdown(source: str | None, body: str) -> bool:
    """Whether a document's page shows its body rendered from Markdown."""
    return is_markdown(source) and len(body) <= MAX_RENDERED_CHARS


def may_hold_markdown(source: str | None) -> bool:
    """Whether a document's text may carry Markdown markup: not when its reader gives
    plain text of its own (PDF, HTML, plain text files); records and Markdown may."""
    return source is None or not source.lower().endswith(PLAIN_SUFFIXES)


def snippet_text(text: str) -> str:
    """A short window of ``text`` (a few lines) without Markdown markup, read faster
    than ``markdown_text``: the markers that start a line (headings, quotes, bullets,
    fences, table pipes) by pattern, the inline markup by the parser's inline rules
    alone (a third of the cost of a whole parse, which a query pays some 25 times)."""
    if not _MAYBE_MARKUP.search(text):
        return text
    text = _NOT_TEXT.sub("", text)  # comments, scripts and styles, whole
    text = _RULE_LINE.sub("", _LINE_MARK.sub("", text)).replace("|", " ")
    tokens = _TEXT.parseInline(text)
    return _inline_text(tokens[0].children or []) if tokens else text


def markdown_text(text: str) -> str:
    """``text`` without Markdown markup: what a reader of the rendered page sees."""
    if not _MAYBE_MARKUP.search(text):
        return text
    out: list[str] = []
    for token in _TEXT.parse(text):
        if token.type == "inline":
            out.append(_inline_text(token.children or []))
        elif token.type in ("fence", "code_block"):
            out.append(token.content)
        elif token.type == "html_block":
            out.append(_strip_tags(token.content))
        elif token.type == "list_item_open" and token.info:  # an ordered list's number
            out.append(f"{token.info}{token.markup} ")
        elif token.type in ("th_close", "td_close"):
            out.append(" ")
        elif token.nesting == -1:
            out.append("\n")
    return "".join(out)


def _inline_text(children: Sequence[Token]) -> str:
    parts = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "image":
            parts.append(_inline_text(child.children or []))
        elif child.type == "html_inline":
            parts.append(_strip_tags(child.content))
    return "".join(parts)


def _strip_tags(html: str) -> str:
    html = _NOT_TEXT.sub("", html)
    return _TAG.sub(lambda m: "" if m.group(1).lower() in _ELEMENTS else m.group(), html)


def _star_emphasis(state: StateInline, silent: bool) -> bool:
    """markdown-it's emphasis rule for ``*`` only, and never inside a word (as CommonMark
    already has it for ``_``)."""
    if silent or state.src[state.pos] != "*":
        return False
    scanned = state.scanDelims(state.pos, False)
    for _ in range(scanned.length):
        token = state.push("text", "", 0)
        token.content = "*"
        state.delimiters.append(Delimiter(
            marker=ord("*"), length=scanned.length, token=len(state.tokens) - 1, end=-1,
            open=scanned.can_open, close=scanned.can_close))
    state.pos += scanned.length
    return True


_TEXT = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_TEXT.disable("escape")
_TEXT.inline.ruler.at("emphasis", _star_emphasis)


# -- pages --------------------------------------------------------------------

Marker = Callable[[str], str]


def markdown_html(body: str, title: str, mark: Marker) -> str:
    """A Markdown body as HTML. ``mark`` turns text into escaped HTML (highlighting
    query terms, say); every piece of text from the document passes through it. A first
    heading that repeats ``title`` is left out, and headings move one level down, since
    the page's title is its ``h1``."""
    tokens = _HTML.parse(body)
    if (len(tokens) > 2 and tokens[0].type == "heading_open"
            and tokens[1].content.strip() == title.strip()):
        tokens = tokens[3:]
    return _HTML.renderer.render(tokens, _HTML.options, {"mark": mark})


def safe_link(url: str) -> bool:
    """Links go to http(s), mailto or a relative address: never ``javascript:`` or
    ``data:``."""
    scheme = _SCHEME.match(url.strip())
    return validateLink(url) and (scheme is None or scheme.group(1).lower() in _SAFE_SCHEMES)


def _text(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
    return env["mark"](tokens[idx].content)


def _code_inline(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
    return f"<code>{env['mark'](tokens[idx].content)}</code>"


def _code_block(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
    return f"<pre><code>{env['mark'](tokens[idx].content)}</code></pre>\n"


def _image(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
    """A link to the image, named by its alt text: the page loads nothing from elsewhere
    (its CSP refuses it) and a relative image has no address on this server."""
    token = tokens[idx]
    alt = _inline_text(token.children or []) or "image"
    return f'<a href="{escapeHtml(str(token.attrGet("src")))}">{env["mark"](alt)}</a>'


def _heading(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
    level = min(int(tokens[idx].tag[1]) + 1, 6)
    return f"<h{level}>" if tokens[idx].nesting == 1 else f"</h{level}>\n"


_HTML = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
_HTML.validateLink = safe_link  # type: ignore[method-assign]
for _name, _rule in {"text": _text, "code_inline": _code_inline, "code_block": _code_block,
                     "fence": _code_block, "image": _image, "heading_open": _heading,
                     "heading_close": _heading}.items():
    _HTML.add_render_rule(_name, _rule)
# Paragraphs keep their line breaks on the page (white-space: pre-wrap, for plain text):
# a soft break in Markdown is a space, a hard break a <br> with no newline after it.
_HTML.add_render_rule("softbreak", lambda *_: " ")
_HTML.add_render_rule("hardbreak", lambda *_: "<br>")
