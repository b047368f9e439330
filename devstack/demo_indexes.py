"""Creating a demo table's primary key and indexes, shared by the demo tables' loaders."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg import sql


def create_indexes(
    conn: psycopg.Connection, table: str, statements: Sequence[str], order_column: str
) -> None:
    """Run the table's `statements` (templates with {table}, {pkey}, {index}, {scope_index});
    the primary key only when the table has none yet, so that a re-run is idempotent."""
    has_pkey = conn.execute(
        "SELECT 1 FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'", (table,)
    ).fetchone()
    for statement in statements:
        if has_pkey and "PRIMARY KEY" in statement:
            continue
        conn.execute(
            sql.SQL(statement).format(
                table=sql.Identifier(table),
                pkey=sql.Identifier(f"{table}_pkey"),
                index=sql.Identifier(f"{table}_{order_column}_id_idx"),
                scope_index=sql.Identifier(f"{table}_merchant_id_{order_column}_id_idx"),
            )
        )
