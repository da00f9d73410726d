"""Office, OpenDocument and RTF readers: every file is built here with its format's own
library (RTF written out), read through the registry, and its exact text asserted."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import docx
import openpyxl
import pptx
import pytest
from odf import dc, draw, meta, presentation, style, table, text
from odf.namespaces import PRESENTATIONNS
from odf.opendocument import (
    OpenDocumentPresentation,
    OpenDocumentSpreadsheet,
    OpenDocumentText,
)
from pptx.util import Inches

from indexer.errors import IngestError
from ingest.readers import base, office, read_file

MODIFIED = dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC)
RTF = (r"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0 Times;}}"
       r"{\info{\title Not the title}{\author Ana}}" "\n"
       r"{\pard\b Badge office\b0\par}" "\n"
       r"{\pard Caf\'e9 opens at seven.\par}" "\n"
       r"\trowd\cellx1000\cellx2000 Name\cell Room\cell\row" "\n"
       r"\trowd\cellx1000\cellx2000 Ana\cell 4.1\cell\row" "\n"
       r"{\pard Ring twice.\par}}")


# -- builders ---------------------------------------------------------------------------


def make_docx(path: Path) -> Path:
    document = docx.Document()
    props = document.core_properties
    props.title, props.author, props.keywords = "Yard handbook", "Ana Lima", "yard; gates"
    props.modified = MODIFIED
    document.add_heading("Gate events", level=1)
    document.add_paragraph("Trucks arrive at gate 4.")
    grid = document.add_table(rows=2, cols=2)
    for row, cells in zip(grid.rows, [("Name", "Role"), ("Ana", "Lead")], strict=True):
        for cell, value in zip(row.cells, cells, strict=True):
            cell.text = value
    document.add_heading("Night shift", level=2)
    document.add_paragraph("Call the yard lead.")
    document.save(path)
    return path


def make_pptx(path: Path) -> Path:
    deck = pptx.Presentation()
    deck.core_properties.author = "Bo Berg"
    deck.core_properties.modified = MODIFIED.replace(tzinfo=None)
    first = deck.slides.add_slide(deck.slide_layouts[1])  # title and content
    first.shapes.title.text = "Kafka retention"
    first.placeholders[1].text_frame.text = "Seven years\nAudit topics"
    first.shapes.add_textbox(Inches(1), Inches(5), Inches(3), Inches(1)).text_frame.text = (
        "Extra box")
    group = first.shapes.add_group_shape()
    group.shapes.add_textbox(Inches(5), Inches(5), Inches(2), Inches(1)).text_frame.text = (
        "Grouped text")
    grid = first.shapes.add_table(2, 2, Inches(1), Inches(6), Inches(4), Inches(1)).table
    for r, values in enumerate([("Topic", "Owner"), ("Kafka", "Ana")]):
        for c, value in enumerate(values):
            grid.cell(r, c).text = value
    first.notes_slide.notes_text_frame.text = "Ask Ana."
    second = deck.slides.add_slide(deck.slide_layouts[6])  # blank: no title
    second.shapes.add_textbox(Inches(1), Inches(1), Inches(3), Inches(1)).text_frame.text = (
        "Untitled content")
    deck.save(path)
    return path


def make_xlsx(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    workbook.properties.creator = "Ana Lima"
    people = workbook.active
    people.title = "People"
    for row in [("Name", "Level", "Since"), ("Ana", 3.0, dt.datetime(2024, 5, 1)),
                (None, None, None), ("Bo", 4.5, None)]:
        people.append(row)
    workbook.create_sheet("Empty")
    plan = workbook.create_sheet("Plan")
    plan["B2"], plan["C2"] = "On call", True
    workbook.save(path)
    return path


def make_odt(path: Path) -> Path:
    document = OpenDocumentText()
    for element in (dc.Title(text="Yard handbook"), meta.InitialCreator(text="Ana Lima"),
                    dc.Creator(text="Last Saver"), dc.Date(text="2024-05-01T09:30:00"),
                    meta.Keyword(text="yard"), meta.Keyword(text="gates")):
        document.meta.addElement(element)
    body = document.text
    body.addElement(text.H(outlinelevel=1, text="Gate events"))
    spaced = text.P(text="Trucks arrive")
    spaced.addElement(text.S(c=3))
    spaced.addText("at gate 4.")
    body.addElement(spaced)
    body.addElement(odf_table([("Name", "Role"), ("Ana", "Lead")]))
    items = text.List()
    for value in ("Check badges", "Open the barrier"):
        item = text.ListItem()
        item.addElement(text.P(text=value))
        items.addElement(item)
    body.addElement(items)
    body.addElement(text.H(outlinelevel=2, text="Night shift"))
    body.addElement(text.P(text="Call the yard lead."))
    document.save(str(path))
    return path


def odf_table(rows: list[tuple[str, ...]], name: str = "T") -> table.Table:
    grid = table.Table(name=name)
    for values in rows:
        row = table.TableRow()
        for value in values:
            cell = table.TableCell(valuetype="string")
            cell.addElement(text.P(text=value))
            row.addElement(cell)
        grid.addElement(row)
    return grid


def make_odp(path: Path) -> Path:
    document = OpenDocumentPresentation()
    document.meta.addElement(meta.InitialCreator(text="Bo Berg"))
    document.meta.addElement(meta.CreationDate(text="2024-05-01T09:30:00"))
    layout = style.PageLayout(name="layout")
    document.automaticstyles.addElement(layout)
    master = style.MasterPage(name="master", pagelayoutname=layout)
    document.masterstyles.addElement(master)
    first = draw.Page(masterpagename=master)
    first.addElement(odp_frame("title", "Kafka retention"))
    first.addElement(odp_frame("outline", "Seven years", "Audit topics"))
    group = draw.G()
    group.addElement(odp_frame(None, "Grouped text"))
    first.addElement(group)
    notes = presentation.Notes()
    notes.addElement(odp_frame("notes", "Ask Ana."))
    first.addElement(notes)
    second = draw.Page(masterpagename=master)
    second.addElement(odp_frame(None, "Untitled content"))
    document.presentation.addElement(first)
    document.presentation.addElement(second)
    document.save(str(path))
    return path


def odp_frame(kind: str | None, *lines: str) -> draw.Frame:
    frame = draw.Frame(width="20cm", height="3cm", x="1cm", y="1cm")
    if kind:
        frame.setAttrNS(PRESENTATIONNS, "class", kind)
    box = draw.TextBox()
    for line in lines:
        box.addElement(text.P(text=line))
    frame.addElement(box)
    return frame


def make_ods(path: Path) -> Path:
    document = OpenDocumentSpreadsheet()
    document.meta.addElement(dc.Creator(text="Ana Lima"))
    people = table.Table(name="People")
    for cells in [[string_cell("Name"), string_cell("Level"), string_cell("Since")],
                  [string_cell("Ana"), table.TableCell(valuetype="float", value="3"),
                   table.TableCell(valuetype="date", datevalue="2024-05-01")],
                  [table.TableCell(numbercolumnsrepeated=1024)],
                  [string_cell("Bo"), table.TableCell(valuetype="float", value="4.5")]]:
        row = table.TableRow()
        for cell in cells:
            row.addElement(cell)
        people.addElement(row)
    trailing = table.TableRow(numberrowsrepeated=1_048_000)  # as LibreOffice pads a sheet
    trailing.addElement(table.TableCell(numbercolumnsrepeated=1024))
    people.addElement(trailing)
    plan = table.Table(name="Plan")
    row = table.TableRow(numberrowsrepeated=2)
    row.addElement(string_cell("On call", repeated=2))
    row.addElement(table.TableCell(valuetype="boolean", booleanvalue="true"))
    plan.addElement(row)
    document.spreadsheet.addElement(people)
    document.spreadsheet.addElement(table.Table(name="Empty"))
    document.spreadsheet.addElement(plan)
    document.save(str(path))
    return path


def string_cell(value: str, repeated: int = 1) -> table.TableCell:
    cell = table.TableCell(valuetype="string", numbercolumnsrepeated=repeated)
    cell.addElement(text.P(text=value))
    return cell


def make_rtf(path: Path) -> Path:
    path.write_text(RTF, encoding="ascii")
    return path


BUILDERS = {".docx": make_docx, ".pptx": make_pptx, ".xlsx": make_xlsx, ".odt": make_odt,
            ".odp": make_odp, ".ods": make_ods, ".rtf": make_rtf}
DOCUMENT_BODY = ("# Gate events\n\nTrucks arrive at gate 4.\n\nName | Role\nAna | Lead\n\n"
                 "## Night shift\n\nCall the yard lead.")
SLIDES_BODY = ("# Kafka retention\n\nSeven years\nAudit topics\n\n{extra}Grouped text\n\n"
               "{table}Notes: Ask Ana.\n\n# Slide 2\n\nUntitled content")
SHEETS_BODY = ("# People\n\nName | Level | Since\nAna | 3 | 2024-05-01\nBo | 4.5\n\n"
               "# Plan\n\n{plan}")


# -- reading each format -------------------------------------------------------------------


def test_docx_headings_paragraphs_and_tables_in_order(tmp_path):
    [doc] = read_file(make_docx(tmp_path / "yard.docx"), "yard.docx").documents
    assert doc.body == DOCUMENT_BODY
    assert (doc.id, doc.title, doc.authors) == ("yard.docx", "Yard handbook", ("Ana Lima",))
    assert doc.tags == ("yard", "gates") and doc.updated_at == "2024-05-01"


def test_odt_reads_like_docx(tmp_path):
    [doc] = read_file(make_odt(tmp_path / "yard.odt"), "yard.odt").documents
    # The list items are paragraphs; text:s c=3 is one space.
    assert doc.body == DOCUMENT_BODY.replace(
        "\n\n## Night", "\n\nCheck badges\n\nOpen the barrier\n\n## Night")
    # The author is the initial creator, not dc:creator (who saved it last).
    assert (doc.title, doc.authors, doc.tags) == ("Yard handbook", ("Ana Lima",),
                                                  ("yard", "gates"))
    assert doc.updated_at == "2024-05-01"


def test_pptx_slides_in_order_with_groups_tables_and_notes(tmp_path):
    [doc] = read_file(make_pptx(tmp_path / "deck.pptx"), "deck.pptx").documents
    assert doc.body == SLIDES_BODY.format(extra="Extra box\n\n",
                                          table="Topic | Owner\nKafka | Ana\n\n")
    # No title property: the first slide title; the template's dates are not the file's.
    assert (doc.title, doc.authors, doc.updated_at) == ("Kafka retention", ("Bo Berg",),
                                                        "2024-05-01")


def test_odp_reads_like_pptx(tmp_path):
    [doc] = read_file(make_odp(tmp_path / "deck.odp"), "deck.odp").documents
    assert doc.body == SLIDES_BODY.format(extra="", table="")
    assert (doc.title, doc.authors, doc.updated_at) == ("Kafka retention", ("Bo Berg",),
                                                        "2024-05-01")


def test_xlsx_every_sheet_with_plain_values(tmp_path):
    before = dt.datetime.now(dt.UTC).date().isoformat()
    [doc] = read_file(make_xlsx(tmp_path / "team.xlsx"), "team.xlsx").documents
    after = dt.datetime.now(dt.UTC).date().isoformat()
    assert doc.body == SHEETS_BODY.format(plan="On call | TRUE")  # "Empty" has nothing
    assert (doc.title, doc.authors) == ("team", ("Ana Lima",))  # "People" says nothing
    assert doc.updated_at in (before, after)  # openpyxl dates the file when it saves it


def test_ods_reads_like_xlsx_with_repeats_expanded(tmp_path):
    [doc] = read_file(make_ods(tmp_path / "team.ods"), "team.ods").documents
    plan = "On call | On call | TRUE\nOn call | On call | TRUE"  # 2 cells x 2 rows
    assert doc.body == SHEETS_BODY.format(plan=plan)
    # No initial creator: dc:creator is the author.
    assert (doc.title, doc.authors, doc.updated_at) == ("team", ("Ana Lima",), None)


def test_rtf_text_paragraphs_and_table(tmp_path):
    [doc] = read_file(make_rtf(tmp_path / "badge.rtf"), "badge.rtf").documents
    assert doc.body == ("Badge office\n\nCafé opens at seven.\n\nName | Room\nAna | 4.1\n\n"
                        "Ring twice.")
    assert (doc.title, doc.authors, doc.updated_at) == ("Badge office", (), None)


def test_library_placeholders_are_no_author_and_no_date(tmp_path):
    path = tmp_path / "plain.docx"
    document = docx.Document()  # author "python-docx", dated by its 2013 template
    document.add_paragraph("Forklift keys hang in the office.")
    document.save(path)
    [doc] = read_file(path, "plain.docx").documents
    assert (doc.title, doc.authors, doc.updated_at) == (
        "Forklift keys hang in the office.", (), None)


def test_a_file_without_core_properties_gets_none_invented(tmp_path):
    source = make_docx(tmp_path / "full.docx")
    path = tmp_path / "bare.docx"
    with zipfile.ZipFile(source) as full, zipfile.ZipFile(path, "w") as bare:
        for name in full.namelist():
            data = full.read(name)
            if name == "_rels/.rels":  # the core part no longer named
                data = data.replace(b"metadata/core-properties", b"metadata/nothing")
            bare.writestr(name, data)
    [doc] = read_file(path, "bare.docx").documents
    # python-docx would have said "Word Document", written by python-docx, today.
    assert (doc.title, doc.authors, doc.updated_at) == ("Gate events", (), None)


@pytest.mark.parametrize("value, shown", [
    (3.0, "3"), (4.5, "4.5"), (0.1 + 0.2, "0.3"), (-2.0, "-2"), (True, "TRUE"),
    (dt.datetime(2024, 5, 1), "2024-05-01"), (dt.datetime(2024, 5, 1, 9, 30),
                                              "2024-05-01 09:30:00"),
    (dt.date(2024, 5, 1), "2024-05-01"), (dt.time(9, 30), "09:30:00"),
    ("  two\nlines ", "two lines"), (None, "")])
def test_cell_values_read_plainly(value, shown):
    assert office.cell_text(value) == shown


# -- refusals ----------------------------------------------------------------------------


def test_a_truncated_docx_is_refused_as_damaged(tmp_path):
    data = make_docx(tmp_path / "whole.docx").read_bytes()
    path = tmp_path / "half.docx"
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(IngestError, match="corrupt or unreadable Word document: File is "
                                          "not a zip file"):
        read_file(path, "half.docx")


def test_a_docx_missing_its_document_part_is_refused(tmp_path):
    source = make_docx(tmp_path / "full.docx")
    path = tmp_path / "gutted.docx"
    with zipfile.ZipFile(source) as full, zipfile.ZipFile(path, "w") as gutted:
        for name in full.namelist():
            if name != "word/document.xml":
                gutted.writestr(name, full.read(name))
    with pytest.raises(IngestError, match="corrupt or unreadable Word document: There is "
                                          "no item named 'word/document.xml'"):
        read_file(path, "gutted.docx")


@pytest.mark.parametrize("name", ["locked.xlsx", "locked.docx", "locked.pptx"])
def test_an_encrypted_office_file_is_refused_with_a_hint(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504))  # an OLE2 header
    with pytest.raises(IngestError, match=r"encrypted \(password protected\)") as caught:
        read_file(path, name)
    assert "remove the password before ingesting" in str(caught.value.hint)


def test_an_encrypted_opendocument_file_is_refused(tmp_path):
    source = make_odt(tmp_path / "open.odt")
    path = tmp_path / "locked.odt"
    with zipfile.ZipFile(source) as plain, zipfile.ZipFile(path, "w") as locked:
        for name in plain.namelist():
            data = plain.read(name)
            if name == "META-INF/manifest.xml":
                data = data.replace(b"</manifest:manifest>", b"<manifest:file-entry "
                                    b"manifest:full-path='content.xml'><manifest:"
                                    b"encryption-data/></manifest:file-entry>"
                                    b"</manifest:manifest>")
            locked.writestr(name, data)
    with pytest.raises(IngestError, match="encrypted"):
        read_file(path, "locked.odt")


@pytest.mark.parametrize("name, make", [
    ("empty.docx", lambda p: docx.Document().save(p)),
    ("empty.pptx", lambda p: pptx.Presentation().save(p)),
    ("empty.xlsx", lambda p: openpyxl.Workbook().save(p)),
    ("empty.odt", lambda p: OpenDocumentText().save(str(p))),
    ("empty.ods", lambda p: OpenDocumentSpreadsheet().save(str(p))),
    ("empty.rtf", lambda p: p.write_text(r"{\rtf1\ansi {\pard\par}}")),
])
def test_a_document_without_text_is_refused(tmp_path, name, make):
    make(tmp_path / name)
    with pytest.raises(IngestError, match="no extractable text"):
        read_file(tmp_path / name, name)


def test_a_file_that_is_not_rtf_is_refused(tmp_path):
    path = tmp_path / "fake.rtf"
    path.write_text("just text\n")
    with pytest.raises(IngestError, match="not an RTF file"):
        read_file(path, "fake.rtf")


def add_member(path: Path, name: str, data: bytes) -> Path:
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr(name, data)
    return path


def test_a_docx_that_unpacks_past_the_limit_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(base, "MAX_ZIP_TOTAL", 1 << 20)
    path = add_member(make_docx(tmp_path / "bomb.docx"), "word/media/pad.bin",
                      bytes(2 << 20))
    with pytest.raises(IngestError, match=r"would unpack to 2\.\d MB \(at most 1 MB"):
        read_file(path, "bomb.docx")


def test_a_docx_packed_like_a_zip_bomb_is_refused(tmp_path):
    # 16 MB of zeros pack into 16 KB: with the 36 KB the rest takes, about 330 to 1.
    path = add_member(make_docx(tmp_path / "bomb.docx"), "word/media/pad.bin",
                      bytes(16 << 20))
    with pytest.raises(IngestError, match="the zip is packed [0-9]+ to 1 "
                                          r"\(at most 200 to 1"):
        read_file(path, "bomb.docx")


def test_check_zip_counts_members_and_takes_a_path(tmp_path):
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as package:
        for n in range(3):
            package.writestr(f"{n}.txt", "x")
    base.check_zip(path, max_members=3)
    with pytest.raises(IngestError, match="holds 3 files"):
        base.check_zip(path, max_members=2)
    path.write_bytes(b"not a zip")
    with pytest.raises(IngestError, match="not a zip file"):
        base.check_zip(path)


def test_a_huge_sheet_is_read_up_to_the_cell_limit_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(office, "MAX_CELLS", 5)
    path = make_xlsx(tmp_path / "team.xlsx")  # 3 + 3 + 2 filled cells on "People"
    result = read_file(path, "team.xlsx")
    assert result.documents[0].body == "# People\n\nName | Level | Since"
    [problem] = result.problems
    assert problem.reason == "only the first 5 filled cells were read: sheet 'People' " \
                             "was cut short"


def test_an_oversized_office_file_is_refused_before_it_is_opened(tmp_path, monkeypatch):
    monkeypatch.setattr(office, "MAX_OFFICE_BYTES", 1000)
    with pytest.raises(IngestError, match="too large"):
        read_file(make_docx(tmp_path / "big.docx"), "big.docx")


# -- through the pipeline --------------------------------------------------------------------


def test_a_folder_of_every_format_ingests_and_reingests_without_embedding(tmp_path,
                                                                             ingester):
    folder = tmp_path / "office"
    folder.mkdir()
    for suffix, make in BUILDERS.items():
        make(folder / f"sample{suffix}")
    report = ingester.ingest([folder])
    assert report.failed == []
    assert sorted(report.documents.added) == sorted(f"office/sample{s}" for s in BUILDERS)
    assert report.chunks_embedded >= len(BUILDERS)
    again = ingester.ingest([folder])
    assert again.chunks_embedded == 0 and again.failed == []
    assert len(again.documents.unchanged) == len(BUILDERS)
