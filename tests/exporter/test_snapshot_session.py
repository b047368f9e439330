"""The export's database session: one read-only repeatable-read snapshot, UTC, bounded."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from devstack import demo_data
from exporter.source import Snapshot
from streamexport_core.catalog import load_catalog
from streamexport_core.scope import Scope

# Every demo merchant's rows: the whole table.
TRANSACTIONS = load_catalog().get("TRANSACTIONS").with_scope(
    Scope("merchant_id", "merchantId", demo_data.MERCHANTS)
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


def test_rows_are_typed_through_a_server_side_cursor(database_url: str) -> None:
    with snapshot(database_url) as snap:
        rows = list(snap.rows(TRANSACTIONS, {}))
        cursors = snap.conn.execute("SELECT count(*) FROM pg_cursors").fetchone()

    assert len(rows) == 2000
    ident, created, *_ = rows[0]
    assert isinstance(ident, int) and created.tzinfo is not None
    assert cursors == (0,)  # closed once iterated
