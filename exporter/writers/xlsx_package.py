"""The fixed parts of an XLSX package: content types, relationships, workbook, styles, and
the sheet's head (columns, frozen bold header) and tail (autofilter).

Written by hand rather than by a library because they are a few hundred bytes of constant
XML around rows that PostgreSQL renders (`exporter/sheet_sql.py`): openpyxl and xlsxwriter
can only write a sheet cell by cell, which is the cost this path exists to avoid. Pure
functions of the catalog columns and the row count; every part is the minimum that Excel,
LibreOffice, openpyxl and calamine open (no shared strings: text cells are inline).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from exporter.sheet_sql import HEADER_ROWS, CellStyles, column_letter
from streamexport_core.catalog import Column

SHEET_TITLE = "Export"
SHEET_PATH = "xl/worksheets/sheet1.xml"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DATE_FORMAT = "yyyy-mm-dd"
FIRST_CUSTOM_FORMAT = 164  # ids below are Excel's built-in formats
DEFAULT_WIDTHS = {"timestamp": 20, "date": 12, "decimal": 14, "integer": 12, "boolean": 9}
DEFAULT_TEXT_WIDTH = 24

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# Cell formats (cellXfs) at fixed positions; number formats per column follow them.
DEFAULT_XF, HEADER_XF, QUOTE_PREFIX_XF = 0, 1, 2
_FIXED_XFS = (
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>',
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>',
)


@dataclass(frozen=True)
class Styles:
    """styles.xml and the cell style index of each column (for the SQL that renders rows)."""

    xml: str
    cells: CellStyles


def number_format(column: Column) -> str | None:
    """The display format of a column's cells, or None for General."""
    if column.type == "timestamp":
        return DATETIME_FORMAT
    if column.type == "date":
        return DATE_FORMAT
    if column.type == "decimal" and column.scale is not None:
        return "0." + "0" * column.scale if column.scale else "0"
    return None


def styles(columns: Sequence[Column]) -> Styles:
    """One cell format per distinct number format, after the default, header and quotePrefix."""
    formats: list[str] = []
    for column in columns:
        fmt = number_format(column)
        if fmt is not None and fmt not in formats:
            formats.append(fmt)
    num_fmts = "".join(
        f'<numFmt numFmtId="{FIRST_CUSTOM_FORMAT + i}" formatCode="{_attribute(fmt)}"/>'
        for i, fmt in enumerate(formats)
    )
    xfs = [*_FIXED_XFS] + [
        f'<xf numFmtId="{FIRST_CUSTOM_FORMAT + i}" fontId="0" fillId="0" borderId="0" xfId="0"'
        ' applyNumberFormat="1"/>'
        for i in range(len(formats))
    ]
    column_xfs = []
    for column in columns:
        fmt = number_format(column)
        column_xfs.append(DEFAULT_XF if fmt is None else len(_FIXED_XFS) + formats.index(fmt))
    xml = (
        f'{_XML}<styleSheet xmlns="{_MAIN}">'
        f'<numFmts count="{len(formats)}">{num_fmts}</numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )
    return Styles(
        xml=xml, cells=CellStyles(columns=tuple(column_xfs), quote_prefix=QUOTE_PREFIX_XF)
    )


def _attribute(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def xml_text(value: str) -> str:
    """`value` for an XML text node; characters XML cannot carry become U+FFFD."""
    return escape(_ILLEGAL.sub("\ufffd", value)).replace("\r", "&#13;")


def column_width(column: Column) -> float:
    if column.width is not None:
        return column.width
    return float(max(len(column.label) + 2, DEFAULT_WIDTHS.get(column.type, DEFAULT_TEXT_WIDTH)))


def _range(columns: Sequence[Column], rows: int) -> str:
    """`A1:H501192`: the header and `rows` data rows."""
    return f"A1:{column_letter(len(columns) - 1)}{rows + HEADER_ROWS}"


def sheet_head(columns: Sequence[Column], rows: int) -> str:
    """Everything before the first data row: dimension, frozen pane, widths, bold header."""
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{column_width(c):g}" customWidth="1"/>'
        for i, c in enumerate(columns, start=1)
    )
    header = "".join(
        f'<c r="{column_letter(i)}1" t="inlineStr" s="{HEADER_XF}"><is><t>'
        f"{xml_text(c.label)}</t></is></c>"
        for i, c in enumerate(columns)
    )
    return (
        f'{_XML}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
        f'<dimension ref="{_range(columns, rows)}"/>'
        '<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols>'
        f'<sheetData>\n<row r="1">{header}</row>\n'
    )


def sheet_tail(columns: Sequence[Column], rows: int) -> str:
    """After the last data row: the autofilter over the header and every data row."""
    return f'</sheetData><autoFilter ref="{_range(columns, rows)}"/></worksheet>'


def content_types() -> str:
    ooxml = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    return (
        f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels"'
        ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{ooxml}.sheet.main+xml"/>'
        f'<Override PartName="/{SHEET_PATH}" ContentType="{ooxml}.worksheet+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{ooxml}.styles+xml"/>'
        "</Types>"
    )


def package_rels() -> str:
    return (
        f'{_XML}<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    )


def workbook(columns: Sequence[Column], rows: int) -> str:
    # Excel keeps an autofilter's range in this hidden name too; without it Excel still
    # opens the file but LibreOffice shows no filter buttons.
    last = f"${column_letter(len(columns) - 1)}${rows + HEADER_ROWS}"
    return (
        f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
        '<bookViews><workbookView activeTab="0"/></bookViews>'
        f'<sheets><sheet name="{SHEET_TITLE}" sheetId="1" r:id="rId1"/></sheets>'
        '<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
        f"{SHEET_TITLE}!$A$1:{last}</definedName></definedNames>"
        "</workbook>"
    )


def workbook_rels() -> str:
    return (
        f'{_XML}<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/>'
        "</Relationships>"
    )


def fixed_parts(columns: Sequence[Column], rows: int, style_xml: str) -> list[tuple[str, str]]:
    """(path, XML) of every part but the sheet, in the order they go into the zip."""
    return [
        ("[Content_Types].xml", content_types()),
        ("_rels/.rels", package_rels()),
        ("xl/workbook.xml", workbook(columns, rows)),
        ("xl/_rels/workbook.xml.rels", workbook_rels()),
        ("xl/styles.xml", style_xml),
    ]
