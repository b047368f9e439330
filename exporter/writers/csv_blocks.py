"""CSV: COPY's one-row chunks buffered into large blocks, with an optional BOM and gzip.

PostgreSQL formats the CSV (`COPY (SELECT ...) TO STDOUT (FORMAT csv, HEADER)`); nothing here
parses or re-formats it. The conventions of that CSV, pinned by tests on the raw bytes:

- UTF-8; every line (the header with the catalog's labels first) ends with LF (`\\n`);
- NULL is an empty *unquoted* field (`1,,x`); an empty string is a *quoted* empty field
  (`1,"",x`), so the two stay distinguishable;
- a field is quoted when it contains a comma, a double quote, CR or LF; quotes are doubled;
  newlines inside a field are kept as they are (LF or CRLF);
- timestamps look like `2024-01-01 00:00:00+00` (the session runs with TimeZone UTC and
  DateStyle ISO); numerics are written exactly (`1234.50`);
- text cells that a spreadsheet would run as a formula already carry a leading `'` (the
  SELECT neutralises them).

psycopg yields one chunk per row (PostgreSQL sends one CopyData message per row), far too
small to hand to gzip or S3 one by one: they are joined into blocks of about `block_size`.
Small blocks keep few per-row objects alive at a time, which keeps the heap from growing.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator

BOM = b"\xef\xbb\xbf"
DEFAULT_BLOCK_SIZE = 128 * 1024  # ~1,200 rows: few small objects alive at once
GZIP_WBITS = 31  # zlib's gzip container (header + CRC32 trailer); mtime 0, so deterministic


class CsvBlockWriter:
    """Turns an iterable of row chunks into an iterator of large (optionally gzipped) blocks.

    `rows` counts the data rows seen so far (chunks after the header), for progress; the
    authoritative row count is COPY's own.
    """

    def __init__(
        self,
        *,
        bom: bool = False,
        gzip: bool = False,
        gzip_level: int = 1,
        block_size: int = DEFAULT_BLOCK_SIZE,
        header: bool = True,
    ) -> None:
        self.bom = bom
        self.gzip = gzip
        self.gzip_level = gzip_level
        self.block_size = block_size
        self.header = header
        self.rows = 0
        self.raw_bytes = 0

    def blocks(self, chunks: Iterable[bytes | bytearray | memoryview]) -> Iterator[bytes]:
        compressor = (
            zlib.compressobj(self.gzip_level, zlib.DEFLATED, GZIP_WBITS) if self.gzip else None
        )
        pending: list[bytes | bytearray | memoryview] = [BOM] if self.bom else []
        size = len(BOM) if self.bom else 0
        seen = 0
        skip = 1 if self.header else 0
        append = pending.append
        limit = self.block_size
        for chunk in chunks:
            append(chunk)
            size += len(chunk)
            seen += 1
            if size >= limit:
                self.rows = max(0, seen - skip)
                self.raw_bytes += size
                block = b"".join(pending)
                pending.clear()
                size = 0
                if compressor is None:
                    yield block
                elif compressed := compressor.compress(block):
                    yield compressed
        self.rows = max(0, seen - skip)
        self.raw_bytes += size
        tail = b"".join(pending)
        pending.clear()
        if compressor is not None:
            tail = compressor.compress(tail) + compressor.flush()
        if tail:
            yield tail
