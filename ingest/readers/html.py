"""HTML pages: title, <meta> fields, and the visible text without scripts and navigation."""

from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup

from ingest.documents import parse_document
from ingest.readers.base import FileResult, file_date, read_text, require_text

_DROP = ("script", "style", "nav", "header", "footer", "noscript", "template", "svg")
_BLOCKS = ["h1", "h2", "h3", "h4", "p", "li", "pre", "td", "blockquote"]
_META = {"id": "id", "authors": "authors", "author": "authors", "keywords": "tags",
         "tags": "tags", "language": "language", "date": "updated_at",
         "updated_at": "updated_at", "groups": "groups", "kind": "kind"}


def read(path: Path, file_id: str, people: bool = False) -> FileResult:
    soup = BeautifulSoup(read_text(path), "html.parser")
    record: dict = {"updated_at": file_date(path)}
    for tag in soup.find_all("meta"):
        key = _META.get(str(tag.get("name", "")).lower())
        if key and tag.get("content"):
            record[key] = str(tag["content"])
    if soup.html and soup.html.get("lang") and "language" not in record:
        record["language"] = str(soup.html["lang"])
    h1 = soup.find("h1")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    record["title"] = title or (h1.get_text(" ", strip=True) if h1 else "") or path.stem
    for tag in soup(_DROP):
        tag.decompose()
    root = soup.body or soup
    blocks = [el.get_text(" ", strip=True) for el in root.find_all(_BLOCKS)]
    body = "\n\n".join(b for b in blocks if b) or root.get_text("\n", strip=True)
    record["body"] = require_text(body, path)
    return FileResult(documents=[parse_document(record, file_id, str(path))])
