"""Reading speed per input format beside embedding speed: is reading ever the bottleneck?

    python bench/ingest_formats.py                  # 200 files per format (mbox: 20 of 10)
    python bench/ingest_formats.py --files 50 --embedder minilm

For each format it writes a folder of files made by the format's own library, from
SciFact abstracts (real text, about 400 words a file), then reads the folder as the
pipeline does (``find_files`` and each reader, chunking included: the work of the
background reading thread) and reports files and passages per second. Then it
embeds passages of the same text with the embedder, as the pipeline sends them
(256 per call): reading runs beside embedding, so a format whose reading makes
passages faster than the model embeds them never slows an ingest down.
"""

from __future__ import annotations

import argparse
import itertools
import json
import mailbox
import tempfile
import time
import zipfile
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

from common import BENCH_DATA, CACHE, read_jsonl, write_results

from indexer.embedders import make_embedder
from indexer.records import Document
from ingest.exports import read_export
from ingest.pipeline import EMBED_BATCH, Ingester, find_files, passage_text
from ingest.readers import iter_file

WORDS = 400


def texts(count: int) -> list[tuple[str, str]]:
    """``count`` (title, text) pairs of about WORDS words, from SciFact abstracts."""
    abstracts = [(d["title"], d["text"]) for d in read_jsonl(BENCH_DATA / "scifact" /
                                                              "corpus.jsonl") if d["text"]]
    out, pool = [], itertools.cycle(abstracts)
    for _ in range(count):
        title, words = "", []
        while len(words) < WORDS:
            t, text = next(pool)
            title = title or t
            words += text.split()
        out.append((title, " ".join(words[:WORDS])))
    return out


def paragraphs(text: str, size: int = 80) -> list[str]:
    words = text.split()
    return [" ".join(words[i:i + size]) for i in range(0, len(words), size)]


def docx_file(path: Path, title: str, text: str) -> None:
    import docx
    document = docx.Document()
    document.core_properties.title, document.core_properties.author = title, "Ana Lima"
    document.add_heading(title, 1)
    for i, para in enumerate(paragraphs(text)):
        if i == 2:
            document.add_heading("Results", 2)
        document.add_paragraph(para)
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate(table.rows):
        for c, cell in enumerate(row.cells):
            cell.text = f"cell {r}.{c}"
    document.save(path)


def pptx_file(path: Path, title: str, text: str) -> None:
    import pptx
    deck = pptx.Presentation()
    for i, para in enumerate(paragraphs(text, 40)):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = f"{title} ({i + 1})"
        slide.placeholders[1].text = para
        slide.notes_slide.notes_text_frame.text = "Say it slowly."
    deck.save(path)


def xlsx_file(path: Path, title: str, text: str) -> None:
    import openpyxl
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["topic", "note", "level"])
    for i, para in enumerate(paragraphs(text, 10)):
        sheet.append([title[:30], para, i % 5 + 1])
    book.save(path)


def odt_file(path: Path, title: str, text: str) -> None:
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P
    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text=title))
    for para in paragraphs(text):
        document.text.addElement(P(text=para))
    document.save(str(path))


def rtf_file(path: Path, title: str, text: str) -> None:
    body = "".join(f"\\par {p}\n" for p in paragraphs(text))
    path.write_text(f"{{\\rtf1\\ansi {title}\n{body}}}")


def message(subject: str, sender: str, body: str, msg_id: str, reply_to: str | None = None,
            day: int = 1) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "team@acme.example", subject
    msg["Date"], msg["Message-ID"] = f"Mon, {day:02} Mar 2025 10:00:00 +0000", msg_id
    if reply_to:
        msg["In-Reply-To"] = msg["References"] = reply_to
    msg.set_content(body)
    return msg


def eml_file(path: Path, title: str, text: str) -> None:
    path.write_bytes(message(title, "ana@acme.example", text, f"<{path.stem}@x>").as_bytes())


def mbox_file(path: Path, pairs: list[tuple[str, str]]) -> None:
    box = mailbox.mbox(str(path))
    for n, (title, text) in enumerate(pairs):
        first = f"<{path.stem}-{n}@x>"
        half = len(text) // 2
        box.add(message(title, "bo@acme.example", text[:half], first))
        box.add(message(f"Re: {title}", "ana@acme.example", text[half:], f"<r{n}{first[1:]}",
                        first, day=2))
    box.close()


def zip_file(path: Path, pairs: list[tuple[str, str]]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for n, (title, text) in enumerate(pairs):
            archive.writestr(f"notes/{n:03}.md", f"# {title}\n\n" + "\n\n".join(paragraphs(text)))


def slack_export(folder: Path, pairs: list[tuple[str, str]]) -> None:
    users = [{"id": f"U{i}", "name": f"u{i}", "profile": {"real_name": f"User {i}"}}
             for i in range(10)]
    folder.mkdir()
    (folder / "users.json").write_text(json.dumps(users))
    (folder / "channels.json").write_text(json.dumps([{"id": "C1", "name": "general"}]))
    (folder / "general").mkdir()
    day = []
    for n, (_, text) in enumerate(pairs):
        ts = f"{1710400000 + n * 60}.000100"
        half = len(text) // 2
        day.append({"type": "message", "user": f"U{n % 10}", "text": text[:half], "ts": ts,
                    "thread_ts": ts, "reply_count": 1})
        day.append({"type": "message", "user": f"U{(n + 1) % 10}", "text": text[half:],
                    "ts": f"{1710400000 + n * 60 + 30}.000100", "thread_ts": ts})
    (folder / "general" / "2024-03-14.json").write_text(json.dumps(day))


PER_FILE: dict[str, Callable[[Path, str, str], None]] = {
    "docx": docx_file, "pptx": pptx_file, "xlsx": xlsx_file, "odt": odt_file,
    "rtf": rtf_file, "eml": eml_file}


def make(kind: str, folder: Path, pairs: list[tuple[str, str]]) -> int:
    """Write the folder of ``kind``; returns how many files (or exports) it holds."""
    folder.mkdir()
    if kind in PER_FILE:
        for n, (title, text) in enumerate(pairs):
            PER_FILE[kind](folder / f"f{n:04}.{kind}", title, text)
        return len(pairs)
    if kind == "mbox":
        for n in range(0, len(pairs), 10):
            mbox_file(folder / f"m{n:04}.mbox", pairs[n:n + 10])
        return -(-len(pairs) // 10)
    if kind == "zip":
        for n in range(0, len(pairs), 50):
            zip_file(folder / f"z{n:04}.zip", pairs[n:n + 50])
        return -(-len(pairs) // 50)
    slack_export(folder / "slack", pairs)
    return 1


def read_folder(folder: Path, ingester: Ingester) -> tuple[int, int, float]:
    """Documents and passages read (and chunked) from ``folder``, and the seconds."""
    started = time.perf_counter()
    files, _ = find_files([folder])
    documents = passages = 0
    for source in files:
        items = (read_export(source.path, source.file_id, source.export) if source.export
                 else iter_file(source.path, source.file_id))
        for item in items:
            if isinstance(item, Document):
                documents += 1
                passages += len(ingester.chunk(item))
    return documents, passages, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--embedder", default="onnx-int8")
    args = parser.parse_args()
    embedder = make_embedder(args.embedder, cache_dir=CACHE / "models")
    ingester = Ingester(None, embedder)  # type: ignore[arg-type]  # reads only
    pairs = texts(args.files)
    results: dict[str, dict] = {}
    print(f"{'format':<8} {'files':>6} {'documents':>9} {'passages':>8} {'read s':>7} "
          f"{'files/s':>8} {'passages/s':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in (*PER_FILE, "mbox", "zip", "slack"):
            folder = Path(tmp) / kind
            count = make(kind, folder, pairs)
            documents, passages, seconds = read_folder(folder, ingester)
            results[kind] = {"files": count, "documents": documents, "passages": passages,
                             "seconds": round(seconds, 3),
                             "passages_per_s": round(passages / seconds, 1)}
            print(f"{kind:<8} {count:>6} {documents:>9} {passages:>8} {seconds:>7.2f} "
                  f"{count / seconds:>8.1f} {passages / seconds:>10.1f}")
        sample = [passage_text(title, p) for title, text in pairs[:64]
                  for p in paragraphs(text, 150)][:EMBED_BATCH * 2]
        embedder.embed(sample[:8])  # the model loaded and warm
        started = time.perf_counter()
        for at in range(0, len(sample), EMBED_BATCH):
            embedder.embed(sample[at:at + EMBED_BATCH])
        rate = len(sample) / (time.perf_counter() - started)
    results["embedding"] = {"embedder": embedder.name, "passages_per_s": round(rate, 1)}
    print(f"embedding ({embedder.name}): {rate:.1f} passages/s")
    write_results(f"ingest-formats-{args.embedder}", results)


if __name__ == "__main__":
    main()
