"""What a reader returns, and helpers every reader shares.

Every reader decodes text and parses YAML through the helpers here, so the rules
for hostile input live in one place: text must be UTF-8 (a BOM is allowed) and must
look like text; a file larger than a reader's limit is refused before it is read;
YAML aliases are refused and YAML nesting is bounded, so a few hundred bytes cannot
expand into gigabytes ("billion laughs"); a zip (an Office file, an archive) is refused
before anything is unpacked if it would unpack to too much ("zip bomb").
"""

from __future__ import annotations

import codecs
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError

from indexer.errors import IngestError
from indexer.records import Document, Person

MAX_TEXT_BYTES = 64 << 20  # a text, Markdown or JSON file read whole
MAX_YAML_CHARS = 8 << 20  # YAML is parsed in Python: ~0.5 s per MB
MAX_YAML_DEPTH = 64  # records are 3 or 4 levels deep; Python recursion is not unbounded
SNIFF_BYTES = 1 << 16  # how much of a streamed file is looked at before it is read
MAX_ZIP_TOTAL = 1 << 30  # bytes a zip may unpack to, all its members together
MAX_ZIP_RATIO = 200  # unpacked bytes per packed byte, all members together...
ZIP_RATIO_FLOOR = 1 << 20  # ...once it unpacks to more than this: small files cannot hurt
MAX_ZIP_MEMBERS = 10_000
_BOMB_HINT = "a zip bomb looks like this; if the file is genuine, split it"
# What writing tools put in a title, author or keywords field that nobody filled in
# (compared lower-cased): such a value says nothing about the file.
PLACEHOLDERS = frozenset({
    "anonymous", "unknown", "unspecified", "untitled", "author", "user", "admin",
    "administrator", "windows user", "microsoft office user", "python-docx", "python-pptx",
    "openpyxl", "word document", "powerpoint presentation"})
# Bytes no text file holds (all C0 controls but tab, newline, vertical tab, form feed,
# carriage return and escape, plus DEL).
_CONTROL_BYTES = bytes([*range(0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")


@dataclass
class Problem:
    """A record or file that was skipped, and why."""

    file: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.reason}"


@dataclass
class FileResult:
    documents: list[Document] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def of(cls, items: Iterable[Document | Person | Problem]) -> FileResult:
        """A stream of records and problems, sorted into their lists."""
        result = cls()
        for item in items:
            if isinstance(item, Problem):
                result.problems.append(item)
            elif isinstance(item, Person):
                result.people.append(item)
            else:
                result.documents.append(item)
        return result


def read_text(path: Path, limit: int = MAX_TEXT_BYTES) -> str:
    """The file's text. Not UTF-8 is an error, never a guess: a Latin-1 reading of a
    file in another encoding indexes garbage without anybody noticing."""
    check_size(path, limit)
    return decode_text(path.read_bytes())


def check_size(path: Path, limit: int) -> None:
    size = path.stat().st_size
    if size > limit:
        raise IngestError(f"the file is too large ({size / 2**20:.1f} MB; at most "
                          f"{limit / 2**20:.0f} MB is read)", "split it into smaller files")


def check_zip(source: Path | zipfile.ZipFile, max_total: int | None = None,
              max_ratio: float | None = None, max_members: int | None = None) -> None:
    """Refuse a zip before anything is unpacked: more than ``max_members`` members, more
    than ``max_total`` bytes unpacked, or (past ZIP_RATIO_FLOOR) packed tighter than
    ``max_ratio`` to 1. Limits left out are the module's MAX_ZIP_* values, read at call time.

    The sizes are those the zip declares, and they hold: Python's zipfile never yields
    more than a member's declared size, and fails its CRC check if the data disagrees,
    so they bound what any reader built on zipfile can unpack."""
    if not isinstance(source, zipfile.ZipFile):
        try:
            with zipfile.ZipFile(source) as package:
                check_zip(package, max_total, max_ratio, max_members)
        except (zipfile.BadZipFile, ValueError, EOFError) as exc:
            raise IngestError(f"not a zip file, or a damaged one: {exc}") from exc
        return
    members = source.infolist()
    limit = MAX_ZIP_MEMBERS if max_members is None else max_members
    if len(members) > limit:
        raise IngestError(f"the zip holds {len(members):,} files (at most {limit:,} are read)",
                          "split it into smaller zips")
    total = sum(m.file_size for m in members)
    packed = max(sum(m.compress_size for m in members), 1)
    limit = MAX_ZIP_TOTAL if max_total is None else max_total
    if total > limit:
        raise IngestError(f"the zip would unpack to {total / 2**20:.1f} MB (at most "
                          f"{limit / 2**20:.0f} MB is unpacked)", _BOMB_HINT)
    ratio = MAX_ZIP_RATIO if max_ratio is None else max_ratio
    if total > ZIP_RATIO_FLOOR and total > packed * ratio:
        raise IngestError(f"the zip is packed {total / packed:,.0f} to 1 (at most "
                          f"{ratio:,.0f} to 1 is unpacked)", _BOMB_HINT)


def filled_in(value: object) -> str | None:
    """``value`` as stripped text, or None if it is blank or a writing tool's placeholder."""
    text = str(value or "").strip()
    return text if text and text.lower() not in PLACEHOLDERS else None


def decode_text(data: bytes) -> str:
    """UTF-8 text (a BOM dropped); binary data and other encodings are refused."""
    check_looks_like_text(data)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise not_utf8(data[exc.start], line) from exc


def check_looks_like_text(data: bytes) -> None:
    """Refuse binary data (a NUL, or one byte in ten a control byte) and UTF-16."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise IngestError("the file is UTF-16 text, which is not read",
                          "save it as UTF-8")
    controls = len(data) - len(data.translate(None, _CONTROL_BYTES))
    if b"\0" in data or controls * 10 > len(data):
        raise IngestError("not text: looks like binary data",
                          "only text files are read under this extension")


def not_utf8(byte: int, line: int) -> IngestError:
    """The error for a byte that UTF-8 cannot decode, and the line it is on."""
    return IngestError(f"not UTF-8 text: byte 0x{byte:02x} on line {line} cannot be decoded",
                       "save the file as UTF-8 (it may be Latin-1 or Windows-1252)")


def require_text(text: str, path: Path) -> str:
    """The text, if it holds at least one letter or digit: anything less has nothing to find."""
    if not text.strip():
        raise IngestError("no extractable text", "the file is empty or holds only images")
    if not _LETTER_OR_DIGIT.search(text):
        raise IngestError("no extractable text", "the file holds no letter or digit")
    return text


def load_yaml(text: str, lines_before: int = 0) -> list[Any]:
    """Every YAML document in ``text`` (empty ones dropped), loaded safely and without
    aliases; raises IngestError naming the line of the problem (counting
    ``lines_before`` the text in its file)."""
    if len(text) > MAX_YAML_CHARS:
        raise IngestError(f"the YAML is too large ({len(text) / 2**20:.1f} MB; at most "
                          f"{MAX_YAML_CHARS / 2**20:.0f} MB is read)",
                          "split it into smaller files, or use JSON lines")
    try:
        return [d for d in yaml.load_all(text, Loader=_NoAliasLoader) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1 + lines_before}" if mark else ""
        if isinstance(exc, _Refused):
            raise IngestError(f"{exc.problem}{where}", exc.hint) from exc
        raise IngestError(f"invalid YAML{where}: {getattr(exc, 'problem', exc)}") from exc


class _Refused(ComposerError):
    """YAML that is valid but not accepted."""

    def __init__(self, problem: str, hint: str, mark: Any) -> None:
        super().__init__(None, None, problem, mark)
        self.hint = hint


class _NoAliasComposer(yaml.composer.Composer):
    """Refuses aliases and deep nesting while composing, before any value is built: an
    alias is what lets nine short lines expand into a billion strings."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise _Refused("YAML aliases (&anchor/*alias) are not accepted",
                           "write the values out in full", self.peek_event().start_mark)
        if self._depth >= MAX_YAML_DEPTH:
            raise _Refused(f"YAML nested more than {MAX_YAML_DEPTH} levels deep",
                           "records need only a few levels", self.peek_event().start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


# libyaml parses about four times faster when it is there; the composer is PyYAML's
# either way, so every node passes through the check above.
_SAFE_LOADER: Any = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader


class _NoAliasLoader(_NoAliasComposer, _SAFE_LOADER):  # type: ignore[misc]
    def __init__(self, stream: str) -> None:
        _SAFE_LOADER.__init__(self, stream)
        yaml.composer.Composer.__init__(self)  # libyaml's loader composes in C: never set up


def first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:200]
    return ""
