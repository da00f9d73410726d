"""Mail reader: .eml messages and .mbox threads, built here with the email package."""

import hashlib
import mailbox
from email.message import EmailMessage

import pytest

from indexer.errors import IngestError
from ingest.readers import read_file
from ingest.readers.mail import ASKER_WEIGHT, own_words, topic


def message(sender, subject, date, text, **headers) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    if subject is not None:
        msg["Subject"] = subject
    if date is not None:
        msg["Date"] = date
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(text)
    return msg


def write_eml(tmp_path, msg, name="note.eml"):
    path = tmp_path / name
    path.write_bytes(bytes(msg))
    return path


def write_mbox(tmp_path, messages, name="list.mbox"):
    path = tmp_path / name
    box = mailbox.mbox(path)
    for msg in messages:
        box.add(msg)
    box.close()
    return path


def key(root: str) -> str:
    return hashlib.sha256(root.encode()).hexdigest()[:12]


def test_eml_reads_subject_text_sender_and_date(tmp_path):
    path = write_eml(tmp_path, message(
        "Ana Lima <Ana.Lima@X.example>", "Kafka retention",
        "Mon, 03 Mar 2025 09:15:00 +0100", "Audit topics keep data for seven years.\n"))
    result = read_file(path, "mail/note.eml")
    [doc] = result.documents
    assert (doc.id, doc.title, doc.source) == ("mail/note.eml", "Kafka retention", str(path))
    assert doc.body == "Audit topics keep data for seven years."
    assert doc.authors == ("ana.lima@x.example",) and doc.author_weights == ()
    assert doc.updated_at == "2025-03-03"
    assert result.problems == []


def test_eml_without_subject_or_address_uses_first_line_and_display_name(tmp_path):
    msg = message("Ana Lima", None, None, "Retention policy\n\nSeven years for audit.\n")
    [doc] = read_file(write_eml(tmp_path, msg), "note.eml").documents
    assert doc.title == "Retention policy"
    assert doc.authors == ("Ana Lima",) and doc.updated_at is None


def test_eml_with_only_html_in_an_alternative_reads_the_html_and_skips_attachments(tmp_path):
    msg = message("bo@x.example", "Runbook", None, "<html><head><style>p {}</style></head>"
                  "<body><p>Restart the <b>broker</b>.</p><p>Then page Ana.</p></body></html>")
    msg.set_content(msg.get_content(), subtype="html")
    msg.make_alternative()
    msg.add_attachment(b"attached secret words\n", maintype="text", subtype="markdown",
                       filename="notes.md")
    assert msg.get_content_type() == "multipart/mixed"
    [doc] = read_file(write_eml(tmp_path, msg), "note.eml").documents
    assert doc.body == "Restart the broker.\n\nThen page Ana."


RAW = b"From: a@x.example\nSubject: Coffee\nContent-Type: text/plain; charset=%s\n" \
      b"Content-Transfer-Encoding: %s\n\n%s\n"


@pytest.mark.parametrize("charset, encoding, body, text, reason", [
    (b"x-unknown", b"8bit", b"caf\xc3\xa9 au lait", "café au lait",
     "text/plain part: unknown charset 'x-unknown', read as UTF-8 with undecodable "
     "bytes replaced"),
    (b"utf-8", b"8bit", b"caf\xe9 au lait", "caf\ufffd au lait",
     "text/plain part: bytes that are not utf-8, replaced"),
    (b"utf-8", b"base64", b"Y2Fmw6kgYXUgbGFpdA", "café au lait",
     "text/plain part: broken base64, read as far as it decodes"),
])
def test_an_undecodable_part_is_reported_and_the_message_still_read(
        tmp_path, charset, encoding, body, text, reason):
    path = tmp_path / "odd.eml"
    path.write_bytes(RAW % (charset, encoding, body))
    result = read_file(path, "odd.eml")
    assert result.documents[0].body == text
    assert [(p.file, p.reason) for p in result.problems] == [(str(path), reason)]


def test_eml_without_text_is_an_ingest_error(tmp_path):
    msg = EmailMessage()
    msg["Subject"] = "Only a picture"
    msg.add_attachment(b"\x89PNG", maintype="image", subtype="png", filename="a.png")
    with pytest.raises(IngestError, match="no extractable text"):
        read_file(write_eml(tmp_path, msg), "pic.eml")


def kafka_thread():
    """Started by Ana; replies lack In-Reply-To and References but share the subject."""
    return [
        message("Bo <bo@x.example>", "Re: Kafka retention", "Tue, 04 Mar 2025 10:00:00 +0000",
                "Seven years for audit topics.\n\n> How long do we keep them?\n"
                "-- \nBo, platform team\n", Message_ID="<b@x.example>"),
        message("Ana <ana@x.example>", "Kafka retention", "Mon, 03 Mar 2025 09:00:00 +0000",
                "How long do we keep audit topics?\n", Message_ID="<a@x.example>"),
        message("Ana <ana@x.example>", "AW: Kafka retention", "Wed, 05 Mar 2025 08:00:00 +0000",
                "Thanks, that settles it.\n", Message_ID="<c@x.example>"),
    ]


def disk_thread():
    """Started by Cy, answered by Dee and Eve, threaded by the headers alone."""
    return [
        message("Cy <cy@x.example>", "Disk alerts", "Thu, 06 Mar 2025 09:00:00 +0000",
                "Who owns the disk alerts?\n", Message_ID="<d1@x.example>"),
        message("Dee <dee@x.example>", "Something else entirely", "Thu, 06 Mar 2025 10:00:00 "
                "+0000", "The storage team does.\n", Message_ID="<d2@x.example>",
                In_Reply_To="<d1@x.example>", References="<d1@x.example>"),
        message("eve@x.example", "Re: Disk alerts", "Fri, 07 Mar 2025 23:30:00 -0500",
                "Since January, yes.\n", Message_ID="<d3@x.example>",
                References="<d1@x.example> <d2@x.example>"),
    ]


def test_mbox_threads_by_headers_and_by_subject(tmp_path):
    kafka, disk = kafka_thread(), disk_thread()
    path = write_mbox(tmp_path, [kafka[0], disk[0], kafka[1], disk[1], kafka[2], disk[2]])
    result = read_file(path, "mail/list.mbox")
    assert result.problems == []
    first, second = result.documents
    assert first.id == f"mail/list.mbox#{key('<b@x.example>')}"  # the first message read
    assert (first.title, first.updated_at, first.source) == (
        "Kafka retention", "2025-03-05", str(path))
    assert first.body == (
        "From: Ana\nDate: 2025-03-03\n\nHow long do we keep audit topics?\n\n"
        "From: Bo\nDate: 2025-03-04\n\nSeven years for audit topics.\n\n"
        "From: Ana\nDate: 2025-03-05\n\nThanks, that settles it.")
    # Ana started the thread but replied too: she counts as one who answered.
    assert first.authors == ("ana@x.example", "bo@x.example")
    assert first.author_weights == (1.0, 1.0)
    assert second.id == f"mail/list.mbox#{key('<d1@x.example>')}"
    assert (second.title, second.updated_at) == ("Disk alerts", "2025-03-07")
    assert second.authors == ("cy@x.example", "dee@x.example", "eve@x.example")
    assert second.author_weights == (ASKER_WEIGHT, 1.0, 1.0) == (0.25, 1.0, 1.0)
    assert "From: eve@x.example\nDate: 2025-03-07\n\nSince January, yes." in second.body


def test_a_reply_read_before_its_root_joins_the_roots_thread(tmp_path):
    reply, root = disk_thread()[1], disk_thread()[0]
    [doc] = read_file(write_mbox(tmp_path, [reply, root]), "list.mbox").documents
    assert doc.authors == ("cy@x.example", "dee@x.example")
    assert doc.author_weights == (0.25, 1.0) and doc.title == "Disk alerts"


def test_a_broken_message_is_reported_and_the_mailbox_still_read(tmp_path):
    path = write_mbox(tmp_path, disk_thread()[:1])
    with open(path, "ab") as box:
        box.write(b"From x@y Thu Mar  6 09:00:00 2025\n" + RAW % (b"x-nope", b"8bit", b"hi"))
    result = read_file(path, "list.mbox")
    assert [d.title for d in result.documents] == ["Disk alerts", "Coffee"]
    assert [p.reason for p in result.problems] == [
        "message 2: text/plain part: unknown charset 'x-nope', read as UTF-8 with "
        "undecodable bytes replaced"]


def test_a_file_without_messages_is_an_ingest_error(tmp_path):
    path = tmp_path / "empty.mbox"
    path.write_text("not a mailbox\n")
    with pytest.raises(IngestError, match="no messages found"):
        read_file(path, "empty.mbox")


@pytest.mark.parametrize("text, words", [
    ("Yes.\n\n> Did it?\n>> Really?\n\nSee the runbook.", "Yes.\n\nSee the runbook."),
    ("Yes.\n-- \nBo\nPlatform", "Yes."),
    ("Dear -- all\n--\nkept", "Dear -- all\n--\nkept"),  # only a line "-- " starts one
    (">From the logs: disk full.", "From the logs: disk full."),  # mbox escaping undone
])
def test_own_words_drop_quotes_and_signature(text, words):
    assert own_words(text) == words


@pytest.mark.parametrize("subject, expected", [
    ("Re: AW: Fwd: WG: Kafka", "Kafka"), ("RE[2]: fw: Kafka", "Kafka"),
    ("Kafka: Re: retention", "Kafka: Re: retention"), ("Regarding Kafka", "Regarding Kafka"),
])
def test_topic_strips_reply_and_forward_prefixes(subject, expected):
    assert topic(subject) == expected
