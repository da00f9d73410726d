"""Mail: a message (``.eml``) is one document; a mailbox (``.mbox``) is one document per
thread, its messages in date order.

A message's text is its text/plain body, else its text/html body read as a page's
visible text. Attachments are not read in this version, even of a supported type. A
part in an unknown charset, or with bytes that its charset or transfer encoding cannot
decode, is decoded with replacement characters and reported: the message is still read.

A mailbox is read one message at a time (``mailbox.mbox`` keeps only where each one
starts); of each message only its sender, date and own words are kept (quoted lines
and the signature dropped). Threads follow the headers: a message belongs to the
first Message-ID of its References, else its In-Reply-To, else its own Message-ID. A
message with neither header joins the earlier thread with the same subject less
"Re:", "AW:", "Fwd:" or "WG:", so replies from clients that drop the headers stay in
their thread. A thread's document id is the file id, "#", and a short hash of its key:
the root's Message-ID (of a thread joined by subject: its first message's in the
file), else its subject.
"""

from __future__ import annotations

import email
import email.errors
import hashlib
import mailbox
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, MIMEPart
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

from indexer.errors import IngestError
from indexer.records import Document
from ingest.documents import parse_document, weighted_authors
from ingest.fields import clean_text
from ingest.readers.base import (
    FileResult,
    Problem,
    check_looks_like_text,
    check_size,
    first_line,
    require_text,
)
from ingest.readers.html import page_text

MAX_MESSAGE_BYTES = 64 << 20  # one .eml, attachments included
MAX_MBOX_BYTES = 1 << 30  # a mailbox is read message by message, but each thread's text is kept
# People who answer in a thread know more than the one who asked: the starter counts a
# quarter, everyone who replied (the starter too, if they replied) counts in full.
ASKER_WEIGHT = 0.25
REPLY_WEIGHT = 1.0
# What the email package raises on a message it cannot parse, beyond its own errors.
_PARSE_ERRORS = (email.errors.MessageError, ValueError, LookupError, TypeError,
                 AttributeError)
_ENCODING_DEFECTS = (email.errors.InvalidBase64PaddingDefect,
                     email.errors.InvalidBase64CharactersDefect,
                     email.errors.InvalidBase64LengthDefect)
_REPLY_PREFIX = re.compile(r"^\s*(?:re|aw|fwd?|wg)\s*(?:\[\d+\])?\s*:\s*", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_ESCAPED_FROM = re.compile(r"^>(>*From )")  # mbox writers put ">" before a line "From "
_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass
class _Mail:
    """What a thread keeps of one message of a mailbox."""

    position: int  # in the file, from 1
    id: str | None
    root: str | None  # the thread's first message, as References or In-Reply-To name it
    subject: str
    sender: str  # the author id: the address in lower case, else the display name
    name: str  # as the thread's text shows the sender
    sent: datetime | None
    text: str  # the message's own words


def read(path: Path, file_id: str, people: bool = False) -> FileResult:
    if path.suffix.lower() == ".mbox":
        return _read_mbox(path, file_id)
    check_size(path, MAX_MESSAGE_BYTES)
    data = path.read_bytes()
    check_looks_like_text(data)
    message = _parse(data)
    notes: list[str] = []
    text = message_text(message, notes)
    sender, _ = _sender(message)
    sent = _date(message)
    record = {"title": _header(message, "Subject") or first_line(text) or path.stem,
              "body": require_text(text, path), "authors": [sender] if sender else [],
              "updated_at": sent.date() if sent else None}
    return FileResult(documents=[parse_document(record, file_id, str(path))],
                      problems=[Problem(str(path), note) for note in notes])


def message_text(message: EmailMessage, notes: list[str]) -> str:
    """The message's text/plain body, else its text/html body as text ('' if neither);
    what could not be decoded is added to ``notes``."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = _decode(part, notes)
    return clean_text(page_text(text) if part.get_content_subtype() == "html" else text)


def _decode(part: MIMEPart, notes: list[str]) -> str:
    before = len(part.defects)
    data = part.get_payload(decode=True)
    data = data if isinstance(data, bytes) else b""
    if any(isinstance(d, _ENCODING_DEFECTS) for d in part.defects[before:]):
        notes.append(f"{part.get_content_type()} part: broken base64, read as far as it "
                     "decodes")
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset)
    except LookupError:
        notes.append(f"{part.get_content_type()} part: unknown charset {charset!r}, read "
                     "as UTF-8 with undecodable bytes replaced")
        return data.decode("utf-8", errors="replace")
    except UnicodeDecodeError:
        notes.append(f"{part.get_content_type()} part: bytes that are not {charset}, "
                     "replaced")
        return data.decode(charset, errors="replace")


def _parse(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=policy.default)


def _header(message: EmailMessage, name: str) -> str:
    """A header's decoded value on one line; '' if it is missing or cannot be parsed."""
    try:
        return " ".join(clean_text(str(message.get(name) or "")).split())
    except _PARSE_ERRORS:
        return ""


def _sender(message: EmailMessage) -> tuple[str, str]:
    """(author id, name shown): the From address in lower case, else its display name."""
    name, address = parseaddr(_header(message, "From"))
    if "@" not in address:  # a bare name parses as an address
        name, address = name or address, ""
    return address.lower() or name, name or address


def _date(message: EmailMessage) -> datetime | None:
    try:
        sent = parsedate_to_datetime(_header(message, "Date"))
    except (ValueError, TypeError, IndexError):
        return None
    return sent if sent.tzinfo else sent.replace(tzinfo=UTC)


# -- mailboxes -----------------------------------------------------------------------


def _read_mbox(path: Path, file_id: str) -> FileResult:
    check_size(path, MAX_MBOX_BYTES)
    result, threads = FileResult(), _Threads()
    try:
        box = mailbox.mbox(path, create=False)
        try:
            for position, key in enumerate(box.iterkeys(), start=1):
                _add_message(box.get_bytes(key), position, threads, result, str(path))
        finally:
            box.close()
    except (OSError, mailbox.Error) as exc:
        raise IngestError(f"unreadable mailbox: {exc}") from exc
    if not threads.messages and not result.problems:
        raise IngestError("no messages found", "an mbox file starts each message with a "
                                               "line 'From '")
    result.documents = [_thread_document(key, mails, file_id, str(path))
                        for key, mails in threads.messages.items()]
    return result


def _add_message(data: bytes, position: int, threads: _Threads, result: FileResult,
                 where: str) -> None:
    notes: list[str] = []
    try:
        mail = _mail(_parse(data), position, notes)
    except (IngestError, *_PARSE_ERRORS) as exc:
        notes.append(f"unreadable, skipped: {exc}")
    else:
        threads.add(mail)
    result.problems += [Problem(where, f"message {position}: {note}") for note in notes]


def _mail(message: EmailMessage, position: int, notes: list[str]) -> _Mail:
    own = _ids(message, "Message-ID")
    refs = _ids(message, "References") or _ids(message, "In-Reply-To")
    sender, name = _sender(message)
    return _Mail(position=position, id=own[0] if own else None, root=refs[0] if refs else None,
                 subject=_header(message, "Subject"), sender=sender, name=name,
                 sent=_date(message), text=own_words(message_text(message, notes)))


def _ids(message: EmailMessage, name: str) -> list[str]:
    value = _header(message, name)
    return _MESSAGE_ID.findall(value) or ([value] if value and name == "Message-ID" else [])


def own_words(text: str) -> str:
    """A message's text without quoted lines ('>') and the signature after a line '-- '."""
    lines = [_ESCAPED_FROM.sub(r"\1", line) for line in text.splitlines()]
    if "-- " in lines:
        lines = lines[:len(lines) - 1 - lines[::-1].index("-- ")]
    kept = "\n".join(line for line in lines if not line.lstrip().startswith(">"))
    return _BLANK_LINES.sub("\n\n", kept).strip()


def topic(subject: str) -> str:
    """The subject without reply and forward prefixes ("Re: AW: Fwd: ...")."""
    while (match := _REPLY_PREFIX.match(subject)) is not None:
        subject = subject[match.end():]
    return subject.strip()


class _Threads:
    """Messages grouped into threads, keyed by the thread's root, in order of appearance."""

    def __init__(self) -> None:
        self.messages: dict[str, list[_Mail]] = {}
        self._by_topic: dict[str, str] = {}

    def add(self, mail: _Mail) -> None:
        subject = topic(mail.subject).casefold()
        if mail.root:
            key = mail.root
        elif mail.id in self.messages:  # replies named it as their root
            key = mail.id
        elif subject in self._by_topic:
            key = self._by_topic[subject]
        else:
            key = mail.id or (f"subject:{subject}" if subject else f"#{mail.position}")
        self.messages.setdefault(key, []).append(mail)
        if subject:
            self._by_topic.setdefault(subject, key)


def _thread_document(key: str, mails: list[_Mail], file_id: str, source: str) -> Document:
    mails = sorted(mails, key=lambda m: (m.sent is None, m.sent and m.sent.timestamp(),
                                         m.position))
    dated = [m.sent for m in mails if m.sent]
    title = next((topic(m.subject) for m in mails if topic(m.subject)), "")
    record = {"title": title or first_line(next((m.text for m in mails if m.text), "")),
              "body": "\n\n".join(map(_block, mails)),
              "updated_at": dated[-1].date() if dated else None}
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    document = parse_document(record, f"{file_id}#{digest}", source)
    authors, weights = weighted_authors(
        (mail.sender, REPLY_WEIGHT if i else ASKER_WEIGHT)
        for i, mail in enumerate(mails) if mail.sender)
    return replace(document, authors=authors, author_weights=weights)


def _block(mail: _Mail) -> str:
    head = f"From: {mail.name or 'unknown'}"
    if mail.sent:
        head += f"\nDate: {mail.sent.date().isoformat()}"
    return f"{head}\n\n{mail.text}" if mail.text else head
