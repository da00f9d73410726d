"""Slack workspace exports: accounts from ``users.json``, one document per thread.

Owns the reading of Slack's export layout (``users.json``, ``channels.json``, a folder
per channel of daily ``YYYY-MM-DD.json`` message lists), of its message markup, and
the rule for who a thread is evidence for. Only the public channels of
``channels.json`` are read: private channels, group and direct messages
(``groups.json``, ``mpims.json``, ``dms.json``) are private conversations, and a
search open to the company must not publish them.

A thread is its parent message and the replies that name it (``thread_ts``), which
may sit in later daily files; a message nobody replied to is a document of its own
when it says something (``MIN_WORDS``). Joins, topic changes and bot posts are skipped.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from indexer.errors import IngestError, WhoknowsError
from indexer.records import Document, Person
from ingest.documents import parse_document, weighted_authors
from ingest.exports.files import attempt, walk
from ingest.fields import as_text
from ingest.readers.base import Problem, read_text

NAME = "slack"
# How much a thread counts as evidence for its people (Document.author_weights). Those
# who reply answer; the one who asked shows no expertise by asking, so counts 0 once
# somebody else replied (even if they replied in their own thread too). A post nobody
# else replied to (an announcement, a how-to) is its poster's own knowledge: 1.
REPLIER_WEIGHT = 1.0
ASKER_WEIGHT = 0.0
POSTER_WEIGHT = 1.0
MIN_WORDS = 5  # a message without replies with fewer words ("thanks!", "lunch?") is noise
TITLE_CHARS = 200
# Subtypes that are people writing; every other (channel_join, bot_message, ...) is skipped.
KEPT_SUBTYPES = frozenset({None, "thread_broadcast", "file_share", "me_message"})
SLACKBOT = "USLACKBOT"
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}\.json")
_MARKUP = re.compile(r"<([^<>]*)>")
_BROADCASTS = frozenset({"here", "channel", "everyone"})


@dataclass(frozen=True)
class Message:
    ts: Decimal
    thread: Decimal  # the ts of the thread's parent (its own for a parent or a lone post)
    user: str
    text: str
    path: Path  # the daily file it was read from

    @property
    def is_parent(self) -> bool:
        return self.thread == self.ts


def detect(folder: Path) -> bool:
    return (folder / "users.json").is_file() and (folder / "channels.json").is_file()


def read(folder: Path, file_id: str) -> Iterator[Document | Person | Problem]:
    users = yield from _load_list(folder / "users.json")
    channels = yield from _load_list(folder / "channels.json")
    users = [u for u in users if isinstance(u, dict) and isinstance(u.get("id"), str)]
    accounts = {u["id"] for u in users if is_account(u)}
    yield from (person(u, str(folder / "users.json")) for u in users if u["id"] in accounts)
    channels = [c for c in channels if isinstance(c, dict) and isinstance(c.get("name"), str)]
    markup = Markup({u["id"]: display_name(u) for u in users},
                    {str(c.get("id")): c["name"] for c in channels})
    for channel in channels:
        day_folder = channel_folder(folder, channel["name"])
        if day_folder is None:
            continue
        messages = yield from _channel_messages(day_folder)
        for thread in threads(messages):
            yield from _document(thread, channel["name"], file_id, markup, accounts)


def channel_folder(folder: Path, name: str) -> Path | None:
    """The folder of channel ``name``, if it is a folder of the export: a name that
    climbs out of it (``../x``) or a link is not followed (``ingest.exports.files``)."""
    path = folder / name
    if name in ("", ".", "..") or Path(name).name != name or path.is_symlink():
        return None
    return path if path.is_dir() else None


def is_account(user: dict[str, Any]) -> bool:
    """A person's account (deleted ones too: what they wrote is still theirs), not a bot."""
    return not user.get("is_bot") and user["id"] != SLACKBOT


def display_name(user: dict[str, Any]) -> str:
    profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
    for value in (profile.get("real_name"), user.get("real_name"),
                  profile.get("display_name"), user.get("name")):
        if text := as_text(value):
            return text
    return str(user["id"])


def person(user: dict[str, Any], source: str) -> Person:
    profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
    return Person(id=f"slack-{user['id']}", name=display_name(user),
                  email=as_text(profile.get("email")), title=as_text(profile.get("title")),
                  timezone=as_text(user.get("tz")), aliases=(user["id"],), system=NAME,
                  source=source)


class Markup:
    """Slack's message markup as plain text: mentions by name, links by label."""

    def __init__(self, users: dict[str, str], channels: dict[str, str]) -> None:
        self.users = users
        self.channels = channels

    def clean(self, text: str) -> str:
        # Split on <...>: even parts are text, odd parts the markup between the brackets.
        parts = _MARKUP.split(text)
        return "".join(_unescape(p) if i % 2 == 0 else self._token(p)
                       for i, p in enumerate(parts))

    def name(self, user: str) -> str:
        return self.users.get(user, user)

    def _token(self, token: str) -> str:
        target, _, label = token.partition("|")
        label = _unescape(label)
        if target.startswith("@"):
            return self.users.get(target[1:], label or target)
        if target.startswith("#"):
            return "#" + (label or self.channels.get(target[1:], target[1:]))
        if target.startswith("!"):  # <!here>, <!subteam^S1|@team>, <!date^...|fallback>
            return label or ("@" + target[1:] if target[1:] in _BROADCASTS else "")
        return label or _unescape(target).removeprefix("mailto:")


def _unescape(text: str) -> str:
    """Slack escapes exactly these three; ``&amp;`` last, so ``&amp;lt;`` stays ``&lt;``."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def threads(messages: list[Message]) -> list[list[Message]]:
    """Messages grouped by thread, each in time order (a message seen twice counted
    once), threads in the order they started."""
    grouped: dict[Decimal, dict[Decimal, Message]] = {}
    for message in messages:
        grouped.setdefault(message.thread, {}).setdefault(message.ts, message)
    ordered = [sorted(t.values(), key=lambda m: m.ts) for t in grouped.values()]
    return sorted(ordered, key=lambda t: t[0].ts)


def author_weights(thread: list[Message], accounts: set[str]
                   ) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """The thread's account ids (``slack-U…``) and their weights: repliers, and the
    asker at 0 when somebody else replied, at 1 when nobody did. Without its parent in
    the export (it predates it), everyone in the thread counts as a replier."""
    asker = thread[0].user if thread[0].is_parent else None
    others = [m.user for m in thread if m.user != asker]
    pairs = [(asker, ASKER_WEIGHT if others else POSTER_WEIGHT)] if asker else []
    pairs += [(user, REPLIER_WEIGHT) for user in others]
    return weighted_authors((f"slack-{u}", w) for u, w in pairs if u in accounts)


def _document(thread: list[Message], channel: str, file_id: str, markup: Markup,
              accounts: set[str]) -> Iterator[Document | Problem]:
    texts = [markup.clean(m.text).strip() for m in thread]
    if len(thread) == 1 and len(texts[0].split()) < MIN_WORDS:
        return
    head, last = thread[0], thread[-1]
    title = next((line.strip() for line in texts[0].splitlines() if line.strip()), "")
    record = {"id": f"{file_id}/{channel}/{head.thread:f}", "title": title[:TITLE_CHARS],
              "body": "\n\n".join(f"{markup.name(m.user)}: {t}"
                                  for m, t in zip(thread, texts, strict=True) if t),
              "tags": [channel], "updated_at": _date(last.ts)}
    authors, weights = author_weights(thread, accounts)
    try:
        doc = parse_document(record, None, str(head.path))
    except WhoknowsError as exc:
        yield Problem(str(head.path), f"thread {head.thread:f}: {exc}")
        return
    yield replace(doc, authors=authors, author_weights=weights)


def _channel_messages(day_folder: Path) -> Generator[Problem, None, list[Message]]:
    """The people's messages of one channel, from all its daily files (a broken file
    is a problem; the others are still read)."""
    messages: list[Message] = []
    for path in walk(day_folder):
        if isinstance(path, Problem):
            yield path
        elif path.parent == day_folder and _DAY.fullmatch(path.name):
            day = yield from _load_list(path)
            messages += (m for raw in day if (m := message(raw, path)) is not None)
    return messages


def message(raw: Any, path: Path) -> Message | None:
    """A message someone wrote, or None for anything else (joins, bots, no text, no ts)."""
    if not isinstance(raw, dict) or raw.get("subtype") not in KEPT_SUBTYPES:
        return None
    user, text = raw.get("user"), _text(raw)
    if not isinstance(user, str) or user == SLACKBOT or not text:
        return None
    try:
        ts = Decimal(str(raw.get("ts")))
        thread = Decimal(str(raw.get("thread_ts") or raw.get("ts")))
    except InvalidOperation:
        return None
    if not (ts.is_finite() and thread.is_finite()):
        return None
    return Message(ts, thread, user, text, path)


def _text(raw: dict[str, Any]) -> str:
    """The message's text, and the titles of the files it shares."""
    text = raw.get("text") if isinstance(raw.get("text"), str) else ""
    files = raw.get("files") if isinstance(raw.get("files"), list) else []
    names = [as_text(f.get("title") or f.get("name")) for f in files if isinstance(f, dict)]
    return "\n".join([text.strip(), *(f"[file: {n}]" for n in names if n)]).strip()


def _date(ts: Decimal) -> str:
    return dt.datetime.fromtimestamp(float(ts), tz=dt.UTC).date().isoformat()


def _load_list(path: Path) -> Generator[Problem, None, list[Any]]:
    """The JSON list in ``path``; an unreadable file is a problem and reads as empty."""
    data = attempt(path, _read_json, path)
    if isinstance(data, Problem):
        yield data
        return []
    if not isinstance(data, list):
        yield Problem(str(path), "expected a JSON list")
        return []
    return data


def _read_json(path: Path) -> Any:
    try:
        return json.loads(read_text(path))
    except (ValueError, RecursionError) as exc:
        raise IngestError(f"invalid JSON: {exc}") from exc
