"""The `invoices` table of the demo data: the catalog's second resource, another shape.

One invoice per `INVOICE_EVERY` transactions, loaded by `devstack.demo_data.load` beside
them. Row `i` is a pure function of `i` and N, like the transactions: a boolean (`paid`), a
date (`due_date`), a nullable decimal (`amount_refunded`: NULL unless refunded), an enum
(`status`), a nullable text with hostile values and the same four merchants (`merchant_id`,
the row scope) in the same 8/4/2/1 shares.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from devstack.demo_indexes import create_indexes

TABLE = "invoices"
INVOICE_EVERY = 10  # N transactions come with N // 10 invoices
INVOICE_STATUSES = ("DRAFT", "OPEN", "PAID", "VOID")

SCHEMA = """
CREATE TABLE IF NOT EXISTS {table} (
    id              bigint        NOT NULL,
    issued_at       timestamptz   NOT NULL,
    due_date        date          NOT NULL,
    paid            boolean       NOT NULL,
    total           numeric(14,2) NOT NULL,
    amount_refunded numeric(14,2),
    status          text          NOT NULL,
    customer_name   text,
    merchant_id     integer       NOT NULL DEFAULT 1
)
"""

INDEXES = (
    "ALTER TABLE {table} ADD CONSTRAINT {pkey} PRIMARY KEY (id)",
    "CREATE INDEX IF NOT EXISTS {index} ON {table} (issued_at, id)",
    "CREATE INDEX IF NOT EXISTS {scope_index} ON {table} (merchant_id, issued_at, id)",
)

# customer_name cycles with i % 8: NULL, empty, formula triggers, quotes, newlines, non-ASCII.
INSERT = """
INSERT INTO {table}
    (id, issued_at, due_date, paid, total, amount_refunded, status, customer_name, merchant_id)
SELECT
    i,
    timestamptz '2024-01-01 00:00:00+00'
        + floor((i - 1)::numeric * 366 * 86400 * 1000000 / {total})::bigint
          * interval '1 microsecond',
    date '2024-01-01' + ((i - 1) * 366 / {total})::integer + 30,
    i % 4 = 2,
    ((i * 4421) % 5000000) / 100.0,
    CASE WHEN i % 4 = 2 AND i % 3 = 0 THEN ((i * 31) % 10000) / 100.0 END,
    (ARRAY['DRAFT', 'OPEN', 'PAID', 'VOID'])[(i % 4)::integer + 1],
    (ARRAY[NULL, '', '=cmd|'' /C calc''!A0', 'Müller & Söhne "GmbH"',
           'Two\nlines', 'Ōsaka 株式会社 🎌', 'Plain customer ' || i, '+44 ' || i])
        [(i % 8)::integer + 1],
    (ARRAY[1, 2, 1, 3, 1, 2, 1, 4, 1, 2, 1, 3, 1, 2, 1]::integer[])[(i % 15)::integer + 1]
FROM generate_series(1::bigint, {total}::bigint) AS i
ORDER BY i
"""


def load(conn: psycopg.Connection, transactions: int, *, drop: bool = False) -> int:
    """Create `invoices` and load `transactions // INVOICE_EVERY` rows; returns that number."""
    table = sql.Identifier(TABLE)
    if drop:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
    conn.execute(sql.SQL(SCHEMA).format(table=table))
    rows = transactions // INVOICE_EVERY
    if rows and not conn.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(table)).fetchone():
        conn.execute(sql.SQL(INSERT).format(table=table, total=sql.Literal(rows)))
    create_indexes(conn, TABLE, INDEXES, "issued_at")
    conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(table))
    return rows
