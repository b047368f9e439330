"""XLSX as a stream: the package's fixed parts and the sheet's rows, zipped as they arrive.

The rows come as ready SpreadsheetML (`<row>...</row>` lines that PostgreSQL rendered and
`exporter/writers/sheet_rows.py` finished, in blocks of whole lines); nothing here looks
inside them but to count their newlines. `stream-zip` writes the zip as a stream (each
entry's CRC and sizes in a data descriptor after its data), so nothing is held but the
current block, and no temporary file exists.

Deflate is ISA-L's (`isal`), at its level 1: on 244 MB of sheet XML (500k rows, when rows
and cells still carried `r` references; 156 MB now, 18 MB deflated) it took 0.25 s where
zlib level 1 took 0.77 s, for the same 35 MiB (zlib-ng level 1: 0.34 s but
45 MiB). The standard library's `zipfile` streams too, but only with zlib: its compressor
cannot be replaced, and compressing was then a third of the export's CPU time.
"""

from __future__ import annotations

import datetime as dt
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from isal import isal_zlib
from stream_zip import ZIP_32, MemberFile, stream_zip

from exporter.writers import xlsx_package
from exporter.writers.csv_blocks import CsvBlockWriter
from streamexport_core.catalog import Column

XLSX_MAX_ROWS = 1_048_575  # 1,048,576 rows per sheet, minus the header
COMPRESS_LEVEL = 1  # ISA-L's levels are 0-3
# Smaller chunks of rows are joined into blocks at least this large before deflating (larger
# ones, the source's blocks, pass as they are); the zip's chunks are this large too. Below
# the 256 KiB mmap threshold of `cli.tune_malloc`, so the buffers reuse the heap.
BLOCK_SIZE = 64 * 1024
_MODIFIED = dt.datetime(1980, 1, 1)  # the zip format's epoch: the same data, the same bytes
_MODE = stat.S_IFREG | 0o644

Write = Callable[[bytes], Any]


def _deflate() -> Any:
    """A raw-deflate compressor (zip entries carry no zlib header)."""
    return isal_zlib.compressobj(COMPRESS_LEVEL, isal_zlib.DEFLATED, -isal_zlib.MAX_WBITS)


def write_xlsx(
    write: Write,
    columns: Sequence[Column],
    rows: int,
    sheet_rows: Iterable[bytes | bytearray | memoryview],
    *,
    style_xml: str,
    on_rows: Callable[[int], None] | None = None,
) -> int:
    """Zip a workbook of `columns` and `sheet_rows` into `write`; returns the rows written.

    `rows` is the number of data rows that will come (from COUNT in the same snapshot): the
    sheet's head and the autofilter name their range. `style_xml` is `xlsx_package.styles(
    columns).xml`, whose cell style indexes the rows were rendered with. `on_rows(n)` is
    called after each block with the rows zipped so far (progress); each row is one line. A
    row count other than `rows`, or more than a sheet holds, raises ValueError before the
    zip is complete.
    """
    if rows > XLSX_MAX_ROWS:
        raise ValueError(f"{rows} rows do not fit in one sheet (at most {XLSX_MAX_ROWS})")
    # The CSV path's joiner: small chunks joined, a block as large as BLOCK_SIZE passed on
    # as it is. Its `rows` counts chunks, and a chunk may hold many lines: count newlines.
    blocks = CsvBlockWriter(header=False, block_size=BLOCK_SIZE)
    written = 0

    def sheet() -> Iterator[bytes]:
        nonlocal written
        yield xlsx_package.sheet_head(columns, rows).encode()
        for block in blocks.blocks(sheet_rows):
            written += block.count(b"\n")
            yield block
            if on_rows is not None:
                on_rows(written)
        if on_rows is not None:
            on_rows(written)
        if written != rows:
            raise ValueError(f"the sheet was sized for {rows} rows but got {written}")
        yield xlsx_package.sheet_tail(columns, rows).encode()

    members: list[MemberFile] = [
        (path, _MODIFIED, _MODE, ZIP_32, (xml.encode(),))
        for path, xml in xlsx_package.fixed_parts(columns, rows, style_xml)
    ]
    # ZIP_32: a sheet over 4 GiB fails the export (stream-zip raises) rather than write a
    # zip64 entry, which older Excel versions refuse; that is ~10x this catalog's sheet at
    # the row limit.
    members.append((xlsx_package.SHEET_PATH, _MODIFIED, _MODE, ZIP_32, sheet()))
    for chunk in stream_zip(
        members, chunk_size=BLOCK_SIZE, get_compressobj=_deflate, extended_timestamps=False
    ):
        write(chunk)
    return written
