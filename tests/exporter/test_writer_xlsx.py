"""The XLSX writer alone: ready `<row>` lines in, a streamed zip out (no database, no S3)."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterator

import pytest
from xlsx_readers import read_calamine, read_openpyxl

from exporter.writers import xlsx_package, xlsx_stream
from exporter.writers.xlsx_stream import write_xlsx
from streamexport_core.catalog import Column

COLUMNS = (
    Column("id", "ID", "integer"),
    Column("amount", "Amount", "decimal", scale=2),
    Column("note", "Note & <more>", "text", width=40),
)
STYLES = xlsx_package.styles(COLUMNS)
DATA_DESCRIPTOR_FLAG = 0x08


def rows(n: int) -> Iterator[bytes]:
    amount = STYLES.cells.columns[1]
    for i in range(2, n + 2):
        yield (
            f'<row r="{i}"><c r="A{i}"><v>{i - 1}</v></c><c r="B{i}" s="{amount}"><v>{i}.5</v></c>'
            f'<c r="C{i}" t="inlineStr"><is><t xml:space="preserve">n{i}</t></is></c></row>\n'
        ).encode()


class OneWayStream:
    """Collects what is written; has no seek() or tell(), as an upload has none."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.chunks.append(bytes(data))

    def getvalue(self) -> bytes:
        return b"".join(self.chunks)


def write(n: int) -> bytes:
    out = OneWayStream()
    assert write_xlsx(out.write, COLUMNS, n, rows(n), style_xml=STYLES.xml) == n
    return out.getvalue()


def test_the_workbook_reads_back_with_both_readers() -> None:
    body = write(3)

    sheet = read_openpyxl(body, 3)
    assert sheet.values() == [
        ("ID", "Amount", "Note & <more>"),
        (1, 2.5, "n2"),
        (2, 3.5, "n3"),
        (3, 4.5, "n4"),
    ]
    assert [c.number_format for c in sheet.cells[1]] == ["General", "0.00", "General"]
    assert all(c.bold for c in sheet.cells[0]) and sheet.freeze_panes == "A2"
    assert sheet.auto_filter == "A1:C4"
    assert sheet.widths == {"A": 12, "B": 14, "C": 40}
    assert read_calamine(body) == [
        ["ID", "Amount", "Note & <more>"],
        [1.0, 2.5, "n2"],
        [2.0, 3.5, "n3"],
        [3.0, 4.5, "n4"],
    ]


def test_entries_are_streamed_with_data_descriptors_and_deflated() -> None:
    body = write(5000)

    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.testzip() is None
        entries = {info.filename: info for info in archive.infolist()}
    assert list(entries) == [
        "[Content_Types].xml",
        "_rels/.rels",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/styles.xml",
        "xl/worksheets/sheet1.xml",
    ]
    sheet = entries["xl/worksheets/sheet1.xml"]
    assert sheet.flag_bits & DATA_DESCRIPTOR_FLAG
    assert sheet.compress_type == zipfile.ZIP_DEFLATED
    assert sheet.compress_size < sheet.file_size / 4
    # the local header was written before the sizes were known: they are zero there
    offset = sheet.header_offset
    assert struct.unpack("<II", body[offset + 18 : offset + 26]) == (0, 0)


def test_the_same_rows_give_the_same_bytes() -> None:
    assert write(100) == write(100)


def test_no_rows_is_a_header_only_workbook() -> None:
    body = write(0)

    assert read_openpyxl(body, 3).values() == [("ID", "Amount", "Note & <more>")]
    assert read_calamine(body) == [["ID", "Amount", "Note & <more>"]]


def test_progress_is_reported_per_block() -> None:
    calls: list[int] = []
    n = 20_000

    write_xlsx(lambda _: None, COLUMNS, n, rows(n), style_xml=STYLES.xml, on_rows=calls.append)

    assert calls and calls == sorted(calls) and calls[-1] == n
    assert len(calls) < n / 100  # per block of rows, not per row


def test_a_row_count_other_than_announced_fails() -> None:
    with pytest.raises(ValueError, match="sized for 3 rows but got 2"):
        write_xlsx(lambda _: None, COLUMNS, 3, rows(2), style_xml=STYLES.xml)


def test_more_rows_than_a_sheet_holds_fail_before_anything_is_written() -> None:
    written: list[bytes] = []

    with pytest.raises(ValueError, match="do not fit in one sheet"):
        write_xlsx(
            written.append, COLUMNS, xlsx_stream.XLSX_MAX_ROWS + 1, rows(0), style_xml=STYLES.xml
        )
    assert written == []


def test_labels_are_escaped_and_illegal_characters_replaced() -> None:
    assert xlsx_package.xml_text("a & <b> \x07 \r") == "a &amp; &lt;b&gt; \ufffd &#13;"


@pytest.mark.parametrize(
    ("index", "letter"), [(0, "A"), (25, "Z"), (26, "AA"), (51, "AZ"), (701, "ZZ"), (702, "AAA")]
)
def test_column_letters(index: int, letter: str) -> None:
    from exporter.sheet_sql import column_letter

    assert column_letter(index) == letter


def test_styles_share_one_format_per_distinct_number_format() -> None:
    columns = (
        Column("a", "A", "timestamp"),
        Column("b", "B", "decimal", scale=2),
        Column("c", "C", "decimal", scale=2),
        Column("d", "D", "decimal", scale=0),
        Column("e", "E", "decimal"),
        Column("f", "F", "date"),
        Column("g", "G", "text"),
    )

    styles = xlsx_package.styles(columns)

    ids = styles.cells.columns
    assert ids[1] == ids[2] != ids[3]
    assert ids[4] == ids[6] == xlsx_package.DEFAULT_XF
    assert len(set(ids)) == 5
    assert 'formatCode="0.00"' in styles.xml and 'formatCode="0"' in styles.xml
    assert 'quotePrefix="1"' in styles.xml
