"""Reading an export from PostgreSQL: one READ ONLY, REPEATABLE READ snapshot per export.

The COUNT and the COPY (of CSV, or of an XLSX sheet's rows) run in that one transaction,
so the count is exactly the number of rows the file will hold. The session runs with
TimeZone UTC and DateStyle ISO (what COPY's CSV looks like depends on both), exact float
text (`extra_float_digits` 1), a
`statement_timeout`, and an `application_name` naming the export.
"""

from __future__ import annotations

import contextlib
import select
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any, Self

import psycopg
from psycopg import IsolationLevel, pq, sql

from exporter import jsonl_sql, sheet_sql
from exporter.sheet_sql import CellStyles
from exporter.writers.sheet_rows import finish_rows
from streamexport_core import sql as query
from streamexport_core.catalog import Resource

BATCH_CURSOR_NAME = "streamexport_batches"
_POLL_MS = 1000  # wake up now and then while waiting for rows (signals, cancellation)
# Sheet rows are finished (`sheet_rows.finish_rows`) in blocks this large: below the 256 KiB
# mmap threshold that `cli.tune_malloc` sets, so each block's copies reuse the heap; blocks of
# 256 KiB cost 1.3 s of system time in page faults per 500k rows.
SHEET_BLOCK_SIZE = 96 * 1024


# Binary COPY framing (`copy_value_lines`): signature, flags, header-extension length.
_BINARY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_TUPLE_HEADER = 6  # int16 field count + int32 value length
_BINARY_TRAILER = b"\xff\xff"


def _after_binary_header(data: memoryview) -> memoryview:
    """The first CopyData message of a binary COPY without its file header."""
    signature = len(_BINARY_SIGNATURE)
    if bytes(data[:signature]) != _BINARY_SIGNATURE or len(data) < signature + 8:
        raise _bad_binary_copy(data)
    extension = int.from_bytes(data[signature + 4 : signature + 8], "big")
    return data[signature + 8 + extension :]


def _bad_binary_copy(data: memoryview | bytes) -> psycopg.DataError:
    return psycopg.DataError(
        f"unexpected binary COPY data (a NULL value or an unknown framing): {bytes(data[:16])!r}"
    )


class Snapshot:
    """A connection in one read-only repeatable-read transaction; use as a context manager."""

    def __init__(
        self,
        database_url: str,
        *,
        application_name: str,
        statement_timeout: float,
        connect_timeout: int,
        time_zone: str = "UTC",
    ) -> None:
        self._url = database_url
        # Timestamps are rendered in this zone by COPY (CSV, JSON Lines). Date filters are
        # bound as UTC instants, so they mean whole UTC days whatever the zone.
        self._time_zone = time_zone
        self._application_name = application_name[:63]
        self._statement_timeout_ms = int(statement_timeout * 1000)
        self._connect_timeout = connect_timeout
        self._conn: psycopg.Connection[Any] | None = None
        self.copied_rows: int | None = None
        self.lines_read = 0

    def __enter__(self) -> Self:
        conn = psycopg.connect(
            self._url,
            application_name=self._application_name,
            connect_timeout=self._connect_timeout,
            autocommit=False,
        )
        conn.isolation_level = IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        self._conn = conn
        # The first statement opens the transaction: BEGIN ISOLATION LEVEL REPEATABLE READ
        # READ ONLY. set_config(..., true) is SET LOCAL, with the values bound as parameters.
        conn.execute(
            "SELECT set_config('statement_timeout', %s, true),"
            " set_config('TimeZone', %s, true),"
            " set_config('DateStyle', 'ISO, YMD', true),"
            " set_config('IntervalStyle', 'iso_8601', true),"
            # The shortest text that reads back as the same float8 (XLSX serial dates).
            " set_config('extra_float_digits', '1', true)",
            (str(self._statement_timeout_ms), self._time_zone),
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """End the transaction (read-only: nothing to commit) and disconnect."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()

    @property
    def conn(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            raise RuntimeError("the snapshot is not open")
        return self._conn

    def count(self, resource: Resource, filters: Mapping[str, Any]) -> int:
        statement, params = query.count_query(resource, filters)
        row = self.conn.execute(statement, params).fetchone()
        return int(row[0]) if row else 0

    def row_batches(
        self, resource: Resource, filters: Mapping[str, Any], size: int
    ) -> tuple[list[int | None], Iterator[list[tuple[Any, ...]]]]:
        """Typed rows (unneutralised) through a server-side cursor, `size` at a time, and
        each column's declared numeric scale (None when the type declares none)."""
        statement, params = query.select_query(resource, filters, neutralise=False)
        cursor = self.conn.cursor(name=BATCH_CURSOR_NAME)
        cursor.execute(statement, params)
        scales = [column.scale for column in cursor.description or []]

        def batches() -> Iterator[list[tuple[Any, ...]]]:
            with cursor:
                while batch := cursor.fetchmany(size):
                    yield batch

        return scales, batches()

    def copy_csv(self, resource: Resource, filters: Mapping[str, Any]) -> Iterator[memoryview]:
        """The CSV of `COPY (SELECT ...) TO STDOUT (FORMAT csv, HEADER)`, one chunk per line."""
        return self.copy_out(*query.copy_query(resource, filters))

    def csv_blocks(
        self, resource: Resource, filters: Mapping[str, Any], block_size: int
    ) -> Iterator[bytes]:
        """`copy_csv`'s bytes in blocks of at least `block_size` (see `copy_blocks`)."""
        return self.copy_blocks(*query.copy_query(resource, filters), block_size)

    def jsonl_blocks(
        self, resource: Resource, filters: Mapping[str, Any], block_size: int
    ) -> Iterator[bytes]:
        """One JSON object per line, rendered by PostgreSQL (`exporter.jsonl_sql`), in
        blocks of at least `block_size` bytes (see `copy_value_lines`)."""
        return self.copy_value_lines(*jsonl_sql.jsonl_copy(resource, filters), block_size)

    def copy_sheet_rows(
        self,
        resource: Resource,
        filters: Mapping[str, Any],
        styles: CellStyles,
        block_size: int = SHEET_BLOCK_SIZE,
    ) -> Iterator[bytes]:
        """The XLSX sheet's `<row>` elements, rendered by PostgreSQL, in blocks of whole
        lines (see `copy_blocks`), each finished by `sheet_rows.finish_rows`."""
        not_null = self.not_null_columns(resource)
        statement, params = sheet_sql.sheet_rows_copy(resource, filters, styles, not_null)
        for block in self.copy_blocks(statement, params, block_size):
            yield finish_rows(block)

    def not_null_columns(self, resource: Resource) -> frozenset[str]:
        """The columns of the entry's table declared NOT NULL (none for a view)."""
        table = sql.Identifier(*resource.table).as_string(self.conn)
        rows = self.conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass"
            " AND attnum > 0 AND NOT attisdropped AND attnotnull",
            (table,),
        ).fetchall()
        return frozenset(str(name) for (name,) in rows)

    def copy_out(self, statement: sql.Composed, params: Mapping[str, Any]) -> Iterator[memoryview]:
        """The output of a `COPY ... TO STDOUT`, one chunk per line, exactly as sent.
        When the iterator is exhausted `copied_rows` holds COPY's own row count."""
        with self._copying(statement, params) as (get_copy_data, wait):
            while True:
                nbytes, data = get_copy_data(1)  # 1: never block; 0 when no row is buffered
                if nbytes > 0:
                    yield data
                elif nbytes == 0:
                    wait()
                else:
                    break  # -1: the COPY is over; its result follows

    def copy_blocks(
        self, statement: sql.Composed, params: Mapping[str, Any], block_size: int
    ) -> Iterator[bytes]:
        """The output of a `COPY ... TO STDOUT` joined into blocks of at least `block_size`
        bytes (the last may be shorter), for the formats that need no per-line work (CSV,
        JSON Lines). `lines_read` counts the lines (CopyData messages) in the blocks yielded
        so far; `copied_rows` is COPY's own row count once the iterator is exhausted.

        The same loop as `copy_out`, with each line appended to one buffer where it arrives
        instead of yielded: per 500k-row CSV that took 0.28 s of CPU where `copy_out` plus a
        joining writer took 0.50 s (`bench/bench_exporter.py`: the CSV path is the lines
        loop and the upload, so this is most of its client CPU).
        """
        self.lines_read = 0
        block = bytearray()
        lines = 0
        with self._copying(statement, params) as (get_copy_data, wait):
            while True:
                nbytes, data = get_copy_data(1)  # as in copy_out
                if nbytes > 0:
                    block += data
                    lines += 1
                    if len(block) >= block_size:
                        self.lines_read = lines
                        yield bytes(block)
                        block.clear()
                elif nbytes == 0:
                    wait()
                else:
                    break
        self.lines_read = lines
        if block:
            yield bytes(block)

    def copy_value_lines(
        self, statement: sql.Composed, params: Mapping[str, Any], block_size: int
    ) -> Iterator[bytes]:
        """The values of a binary `COPY` of ONE never-NULL text-like column (`json`, `text`),
        each followed by a newline, joined into blocks of at least `block_size` bytes; the
        counters as in `copy_blocks`.

        Binary COPY sends each value as it is (`json_send` copies the text) where the text
        and CSV formats scan every byte of it for characters to escape or quote: for JSON
        Lines that scan was ~10% of PostgreSQL's time, on the critical path (measured with
        `COPY ... TO '/dev/null'`). The framing (PostgreSQL's "Binary Format" of COPY): a
        signature and header before the first tuple, each tuple `int16` field count (1)
        and `int32` length before its bytes, an `int16` -1 as the trailer.
        """
        self.lines_read = 0
        block = bytearray()
        lines = 0
        with self._copying(statement, params) as (get_copy_data, wait):
            nbytes, data = get_copy_data(1)
            while nbytes == 0:
                wait()
                nbytes, data = get_copy_data(1)
            first = _after_binary_header(data) if nbytes > 0 else b""
            if len(first) > _TUPLE_HEADER:
                block += first[_TUPLE_HEADER:]
                block += b"\n"
                lines += 1
            elif first and first != _BINARY_TRAILER:
                raise _bad_binary_copy(first)
            while nbytes >= 0:
                nbytes, data = get_copy_data(1)  # as in copy_out
                if nbytes > _TUPLE_HEADER:
                    block += data[_TUPLE_HEADER:]
                    block += b"\n"
                    lines += 1
                    if len(block) >= block_size:
                        self.lines_read = lines
                        yield bytes(block)
                        block.clear()
                elif nbytes == 0:
                    wait()
                elif nbytes > 0 and data != _BINARY_TRAILER:
                    raise _bad_binary_copy(data)  # a NULL (length -1) or a framing we do not know
        self.lines_read = lines
        if block:
            yield bytes(block)

    @contextlib.contextmanager
    def _copying(
        self, statement: sql.Composed, params: Mapping[str, Any]
    ) -> Iterator[tuple[Callable[[int], tuple[int, memoryview]], Callable[[], None]]]:
        """A running `COPY ... TO STDOUT`, as libpq's non-blocking `get_copy_data` and a
        `wait()` for more input; on leaving, `copied_rows` holds COPY's row count.

        `cursor.copy()` starts the COPY (binding the parameters client-side, as COPY takes
        none server-side); the rows are then read through the connection's documented
        libpq interface (`conn.pgconn`): `Copy.read()` runs a Python generator per row,
        which cost 0.8 s of CPU per 500k rows where `copy_out`'s loop costs 0.45 s. The
        callers keep their loops inline (no call per row beyond libpq's).
        """
        self.copied_rows = None
        conn = self.conn
        with conn.cursor() as cursor, cursor.copy(statement, params):
            pgconn = conn.pgconn
            poller = select.poll()
            poller.register(pgconn.socket, select.POLLIN)

            def wait() -> None:
                poller.poll(_POLL_MS)  # wake up now and then (signals, cancellation)
                pgconn.consume_input()

            yield pgconn.get_copy_data, wait
            self.copied_rows = self._copy_result(conn)

    @staticmethod
    def _copy_result(conn: psycopg.Connection[Any]) -> int:
        """Collect the COPY's final result: its row count, or its error raised typed."""
        pgconn = conn.pgconn
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN)
        rows = -1
        while True:
            while pgconn.is_busy():
                poller.poll(_POLL_MS)
                pgconn.consume_input()
            result = pgconn.get_result()
            if result is None:
                return rows
            if result.status == pq.ExecStatus.COMMAND_OK:
                rows = result.command_tuples if result.command_tuples is not None else -1
            else:
                raise psycopg.errors.error_from_result(result, encoding=conn.info.encoding)
