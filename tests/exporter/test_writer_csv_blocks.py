"""The CSV block writer alone: no database, no S3."""

from __future__ import annotations

import gzip

from exporter.writers import BOM, CsvBlockWriter

HEADER = b"ID,Name\n"
ROWS = [f'{i},"name, {i}"\n'.encode() for i in range(10_000)]


def test_small_chunks_are_joined_into_large_blocks_in_order() -> None:
    writer = CsvBlockWriter(block_size=64 * 1024)

    blocks = list(writer.blocks([HEADER, *ROWS]))

    assert b"".join(blocks) == HEADER + b"".join(ROWS)
    assert all(len(block) >= 64 * 1024 for block in blocks[:-1])
    assert len(blocks) == len(HEADER + b"".join(ROWS)) // (64 * 1024) + 1


def test_rows_count_the_chunks_after_the_header() -> None:
    writer = CsvBlockWriter(block_size=1024)
    seen = []

    for _ in writer.blocks([HEADER, *ROWS]):
        seen.append(writer.rows)

    assert writer.rows == len(ROWS)
    assert seen == sorted(seen) and 0 < seen[0] < len(ROWS)


def test_header_only_is_one_block() -> None:
    writer = CsvBlockWriter()

    assert list(writer.blocks([HEADER])) == [HEADER]
    assert writer.rows == 0


def test_bom_comes_first() -> None:
    body = b"".join(CsvBlockWriter(bom=True, block_size=1024).blocks([HEADER, *ROWS]))

    assert body == BOM + HEADER + b"".join(ROWS)


def test_gzip_decompresses_to_the_input_and_is_deterministic() -> None:
    def compress() -> bytes:
        writer = CsvBlockWriter(gzip=True, bom=True, block_size=4096)
        return b"".join(writer.blocks([HEADER, *ROWS]))

    first = compress()

    assert gzip.decompress(first) == BOM + HEADER + b"".join(ROWS)
    assert compress() == first
    assert len(first) < len(HEADER + b"".join(ROWS)) / 3


def test_memoryview_chunks_are_accepted() -> None:
    chunks = [memoryview(HEADER), *(memoryview(row) for row in ROWS[:10])]

    assert b"".join(CsvBlockWriter().blocks(chunks)) == HEADER + b"".join(ROWS[:10])
