"""The export's database session: one read-only repeatable-read snapshot, UTC, bounded."""

from __future__ import annotations

import csv
import io
import itertools
from typing import Any

import psycopg
import pytest

from devstack import demo_data
from exporter.jsonl_sql import jsonl_select
from exporter.source import Snapshot
from exporter.writers import xlsx_package
from streamexport_core.catalog import load_catalog
from streamexport_core.scope import Scope

# Every demo merchant's rows: the whole table.
TRANSACTIONS = (
    load_catalog()
    .get("TRANSACTIONS")
    .with_scope(Scope("merchant_id", "merchantId", demo_data.MERCHANTS))
)


def snapshot(database_url: str) -> Snapshot:
    return Snapshot(
        database_url,
        application_name="streamexport:test-1",
        statement_timeout=12.5,
        connect_timeout=5,
    )


def test_session_is_read_only_repeatable_read_utc_with_a_timeout(database_url: str) -> None:
    with snapshot(database_url) as snap:
        settings = snap.conn.execute(
            "SELECT current_setting('transaction_isolation'),"
            " current_setting('transaction_read_only'),"
            " current_setting('statement_timeout'),"
            " current_setting('TimeZone'),"
            " current_setting('application_name')"
        ).fetchone()
        assert settings == ("repeatable read", "on", "12500ms", "UTC", "streamexport:test-1")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            snap.conn.execute("DELETE FROM transactions")


def test_count_and_copy_see_the_same_snapshot(
    database_url: str, db: psycopg.Connection[Any]
) -> None:
    with snapshot(database_url) as snap:
        total = snap.count(TRANSACTIONS, {})
        db.execute("DELETE FROM transactions WHERE id <= 500")  # committed meanwhile
        chunks = list(snap.copy_csv(TRANSACTIONS, {}))

    assert total == 2000
    assert snap.copied_rows == 2000 and len(chunks) == 2001  # one chunk per line


def test_sheet_rows_come_from_the_same_snapshot_one_row_element_per_line(
    database_url: str, db: psycopg.Connection[Any]
) -> None:
    styles = xlsx_package.styles(TRANSACTIONS.columns)
    no_email = db.execute(
        "SELECT min(id) FROM transactions WHERE customer_email IS NULL AND id <= 500"
    ).fetchone()
    assert no_email is not None and no_email[0] is not None
    with snapshot(database_url) as snap:
        total = snap.count(TRANSACTIONS, {})
        db.execute("DELETE FROM transactions WHERE id <= 500")  # committed meanwhile
        blocks = list(snap.copy_sheet_rows(TRANSACTIONS, {}, styles.cells, block_size=4096))

    assert len(blocks) > 1 and all(block.endswith(b"\n") for block in blocks)  # whole lines
    lines = [line + b"\n" for line in b"".join(blocks).split(b"\n")[:-1]]
    assert total == snap.copied_rows == len(lines) == 2000
    # Neither a row nor a cell names its place; a missing value is an empty cell.
    assert lines[0].startswith(b'<row><c><v>1</v></c><c s="3"><v>45292</v></c>')
    assert all(line.count(b"<c") == len(TRANSACTIONS.columns) for line in lines)
    assert b"</t></is></c><c/><c" in lines[no_email[0] - 1]
    assert lines[-1].startswith(b"<row><c><v>2000</v></c>") and lines[-1].endswith(b"</row>\n")


def test_csv_blocks_are_the_lines_joined_in_order_and_counted(database_url: str) -> None:
    with snapshot(database_url) as snap:
        lines = b"".join(bytes(chunk) for chunk in snap.copy_csv(TRANSACTIONS, {}))
        seen: list[tuple[int, int]] = []  # (block bytes, lines_read after the block)
        blocks = []
        for block in snap.csv_blocks(TRANSACTIONS, {}, 16 * 1024):
            blocks.append(block)
            seen.append((len(block), snap.lines_read))

    assert b"".join(blocks) == lines  # byte for byte what the per-line path reads
    assert snap.copied_rows == 2000 and snap.lines_read == 2001  # the header is a line
    assert len(blocks) > 5 and all(size >= 16 * 1024 for size, _ in seen[:-1])
    # Every block ends at a record's end (a CopyData message is one CSV record, which may
    # hold newlines), and lines_read counts the records of the blocks yielded so far.
    records = [len(list(csv.reader(io.StringIO(block.decode())))) for block in blocks]
    assert list(itertools.accumulate(records)) == [count for _, count in seen]


def test_jsonl_blocks_hold_one_object_per_line(database_url: str) -> None:
    with snapshot(database_url) as snap:
        body = b"".join(snap.jsonl_blocks(TRANSACTIONS, {}, 64 * 1024))

    assert snap.copied_rows == snap.lines_read == 2000
    assert body.count(b"\n") == 2000 and body.startswith(b'{"') and body.endswith(b"}\n")


def test_jsonl_blocks_are_the_json_values_exactly(database_url: str) -> None:
    # The reference is the text of each value, fetched as rows: what the binary COPY's
    # framing must unwrap to, byte for byte (escapes, non-ASCII, every row in order).
    with snapshot(database_url) as snap:
        body = b"".join(snap.jsonl_blocks(TRANSACTIONS, {}, 4096))
    select, params = jsonl_select(TRANSACTIONS, {})
    with psycopg.connect(database_url) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        rows = conn.execute(
            psycopg.sql.SQL("SELECT j::text FROM ({}) AS t(j)").format(select), params
        )
        expected = "".join(f"{text}\n" for (text,) in rows).encode()
    assert body == expected
    assert b"\\n" in body and "é".encode() in body  # escapes and UTF-8 came through as sent


def _value_lines(database_url: str, select: str, block_size: int = 1024) -> list[bytes]:
    statement = psycopg.sql.SQL("COPY ({}) TO STDOUT (FORMAT binary)").format(
        psycopg.sql.SQL(select)  # type: ignore[arg-type]  # test literals
    )
    with snapshot(database_url) as snap:
        return list(snap.copy_value_lines(statement, {}, block_size))


def test_value_lines_of_no_rows_are_nothing(database_url: str) -> None:
    assert _value_lines(database_url, "SELECT 'x'::text WHERE false") == []


def test_value_lines_end_each_value_with_a_newline_in_blocks(database_url: str) -> None:
    blocks = _value_lines(
        database_url, "SELECT repeat('ab', g) FROM generate_series(1, 300) g", block_size=4096
    )
    assert len(blocks) > 1 and all(block.endswith(b"\n") for block in blocks)
    assert b"".join(blocks).split(b"\n")[:-1] == [b"ab" * g for g in range(1, 301)]


def test_value_lines_refuse_a_null_value_instead_of_writing_an_empty_line(
    database_url: str,
) -> None:
    with pytest.raises(psycopg.DataError, match="NULL value"):
        _value_lines(
            database_url,
            "SELECT CASE WHEN g = 3 THEN NULL ELSE 'v' END FROM generate_series(1, 5) g",
        )


def test_a_failing_copy_raises_from_the_blocks_not_a_short_file(database_url: str) -> None:
    with snapshot(database_url) as snap, pytest.raises(psycopg.errors.DivisionByZero):
        list(
            snap.copy_blocks(
                psycopg.sql.SQL(
                    "COPY (SELECT 1 / (1000 - g) FROM generate_series(1, 2000) g)"
                    " TO STDOUT (FORMAT csv)"
                ),
                {},
                1024,
            )
        )
