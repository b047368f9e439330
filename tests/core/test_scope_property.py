"""Property: for any scope (one or several merchants, also unknown ones) and any filters, the
catalog's COUNT over the demo data equals a plain query written independently, and the
rows the SELECT returns all belong to the scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamexport_core.catalog import load_catalog
from streamexport_core.filters import parse_filters
from streamexport_core.scope import Scope
from streamexport_core.sql import count_query, select_query

TRANSACTIONS = load_catalog().get("TRANSACTIONS")
DAYS = st.dates(min_value=dt.date(2023, 12, 25), max_value=dt.date(2025, 1, 5))
MERCHANTS = st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=4, unique=True)
FILTERS = st.fixed_dictionaries(
    {},
    optional={
        "startDate": DAYS,
        "endDate": DAYS,
        "status": st.sampled_from(["PENDING", "SETTLED", "FAILED", "REFUNDED"]),
        "merchantId": st.integers(min_value=0, max_value=6),
    },
)


def _plain_count(db: psycopg.Connection[Any], merchants: list[int], raw: dict[str, Any]) -> int:
    conditions, params = ["merchant_id = ANY(%s)"], [merchants]
    if "startDate" in raw:
        conditions.append("created_at >= %s::date::timestamp AT TIME ZONE 'UTC'")
        params.append(raw["startDate"])
    if "endDate" in raw:
        conditions.append("created_at < (%s::date + 1)::timestamp AT TIME ZONE 'UTC'")
        params.append(raw["endDate"])
    if "status" in raw:
        conditions.append("status = %s")
        params.append(raw["status"])
    if "merchantId" in raw:
        conditions.append("merchant_id = %s")
        params.append(raw["merchantId"])
    query = "SELECT count(*) FROM transactions WHERE " + " AND ".join(conditions)
    row = db.execute(query, params).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return int(row[0])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(merchants=MERCHANTS, filters=FILTERS)
def test_the_scoped_count_is_the_plain_count(
    db: psycopg.Connection[Any], merchants: list[int], filters: dict[str, Any]
) -> None:
    if (
        "startDate" in filters
        and "endDate" in filters
        and filters["endDate"] < filters["startDate"]
    ):
        filters["endDate"] = filters["startDate"]
    raw = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in filters.items()}
    resource = TRANSACTIONS.with_scope(Scope("merchant_id", "merchantId", tuple(merchants)))
    parsed = parse_filters(resource, raw)
    query, params = count_query(resource, parsed)
    row = db.execute(query, params).fetchone()
    assert row is not None and row[0] == _plain_count(db, merchants, raw)

    select, select_params = select_query(resource, parsed)
    labels = [c.label for c in resource.columns]
    merchant = labels.index("Merchant ID")
    seen = {r[merchant] for r in db.execute(select, select_params)}
    assert seen <= set(merchants)
