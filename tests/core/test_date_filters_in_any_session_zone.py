"""Date filters mean whole UTC days whatever the session's TimeZone (the `timeZone` option
sets it for rendering): on a daylight-saving day too, and at the end of the date domain."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest

from streamexport_core.catalog import load_catalog
from streamexport_core.filters import parse_filters
from streamexport_core.scope import Scope
from streamexport_core.sql import count_query

TRANSACTIONS = load_catalog().get("TRANSACTIONS").with_scope(
    Scope("merchant_id", "merchantId", unrestricted=True)
)
UTC = dt.UTC
# Rows either side of the UTC midnights around the days Europe/Berlin (10-27) and
# America/New_York (11-03) leave summer time: a day there is 25 hours of local time.
EDGES = [
    (dt.datetime(2024, 10, 25, 23, 59, 59, tzinfo=UTC), "before"),
    (dt.datetime(2024, 10, 26, 0, 0, 0, tzinfo=UTC), "first"),
    (dt.datetime(2024, 10, 26, 23, 59, 59, tzinfo=UTC), "last"),
    (dt.datetime(2024, 10, 27, 0, 0, 0, tzinfo=UTC), "after"),
    (dt.datetime(2024, 10, 27, 0, 59, 59, tzinfo=UTC), "after"),
    (dt.datetime(2024, 11, 2, 23, 59, 59, tzinfo=UTC), "nov-last"),
    (dt.datetime(2024, 11, 3, 0, 0, 0, tzinfo=UTC), "nov-after"),
    (dt.datetime(2024, 11, 3, 4, 59, 59, tzinfo=UTC), "nov-after"),
]


@pytest.fixture
def edges(db: psycopg.Connection[Any]) -> None:
    db.execute("DELETE FROM transactions")
    for i, (at, note) in enumerate(EDGES, start=1):
        db.execute(
            "INSERT INTO transactions (id, created_at, amount, currency, status, customer_email,"
            " description, merchant_id) VALUES (%s, %s, 1, 'EUR', 'SETTLED', 'a@b.c', %s, 1)",
            (i, at, note),
        )


def count_in(database_url: str, zone: str, filters: dict[str, str]) -> int:
    query, params = count_query(TRANSACTIONS, parse_filters(TRANSACTIONS, filters))
    with psycopg.connect(database_url) as conn:
        conn.execute("SELECT set_config('TimeZone', %s, false)", (zone,))
        row = conn.execute(query, params).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.usefixtures("edges")
@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/New_York", "Pacific/Kiritimati"])
def test_a_date_range_is_whole_utc_days_in_every_session_zone(database_url: str, zone: str) -> None:
    assert count_in(database_url, zone, {"startDate": "2024-10-26", "endDate": "2024-10-26"}) == 2
    assert count_in(database_url, zone, {"endDate": "2024-10-26"}) == 3
    assert count_in(database_url, zone, {"startDate": "2024-10-27", "endDate": "2024-11-02"}) == 3
    assert count_in(database_url, zone, {"endDate": "9999-12-31"}) == len(EDGES)
