"""Filters are parsed against the catalog and SQL is composed, never formatted."""

from __future__ import annotations

import datetime as dt

import pytest

from streamexport_core.catalog import load_catalog
from streamexport_core.errors import InvalidRequest
from streamexport_core.filters import file_name, parse_filters
from streamexport_core.scope import Scope
from streamexport_core.sql import copy_query, count_query, select_query

# The packaged catalog scopes TRANSACTIONS by merchant: these are merchant 7's rows.
TRANSACTIONS = load_catalog().get("TRANSACTIONS").with_scope(
    Scope("merchant_id", "merchantId", (7,))
)


def test_dates_become_whole_utc_days() -> None:
    filters = parse_filters(TRANSACTIONS, {"startDate": "2024-01-01", "endDate": "2024-03-01"})
    query, params = count_query(TRANSACTIONS, filters)
    assert query.as_string() == (
        'SELECT count(*) FROM "public"."transactions" WHERE "merchant_id" = %(_scope)s'
        ' AND "created_at" >= %(startDate)s'
        ' AND "created_at" < (%(endDate)s::date + 1)::timestamp AT TIME ZONE \'UTC\''
    )
    assert params == {
        "_scope": 7,
        "startDate": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        "endDate": dt.date(2024, 3, 1),  # inclusive: PostgreSQL adds the day, in UTC
    }


def test_no_filters_means_only_the_scope() -> None:
    query, params = count_query(TRANSACTIONS, parse_filters(TRANSACTIONS, {}))
    assert query.as_string() == (
        'SELECT count(*) FROM "public"."transactions" WHERE "merchant_id" = %(_scope)s'
    )
    assert params == {"_scope": 7}


def test_values_are_bound_never_inlined() -> None:
    hostile = "SETTLED'; DROP TABLE transactions; --"
    with pytest.raises(InvalidRequest):
        parse_filters(TRANSACTIONS, {"status": hostile})
    query, params = select_query(TRANSACTIONS, {"status": "SETTLED"})
    assert "SETTLED" not in query.as_string()
    assert params == {"_scope": 7, "status": "SETTLED"}


def test_select_aliases_labels_orders_and_neutralises_text() -> None:
    text = select_query(TRANSACTIONS, {})[0].as_string()
    assert '"created_at" AS "Created At"' in text
    assert text.endswith('ORDER BY "created_at", "id"')
    assert "THEN '''' || \"description\"" in text
    assert "''''" not in select_query(TRANSACTIONS, {}, neutralise=False)[0].as_string()


def test_neutralising_tests_the_first_code_point_and_skips_formula_safe_columns() -> None:
    text = select_query(TRANSACTIONS, {})[0].as_string()
    assert 'CASE WHEN ascii("customer_email") IN (61, 43, 45, 64, 9, 13)' in text
    assert '"currency" AS "Currency"' in text and '"status" AS "Status"' in text
    assert text.count("THEN ''") == 2  # customer_email and description only


def test_copy_wraps_the_select() -> None:
    text = copy_query(TRANSACTIONS, {})[0].as_string()
    assert text.startswith("COPY (SELECT ")
    assert text.endswith(") TO STDOUT (FORMAT csv, HEADER)")


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_filters(
            TRANSACTIONS,
            {"startDate": "2024-02-30", "endDate": "01/03/2024", "colour": "red", "status": 1},
        )
    assert info.value.errors == [
        "filters.startDate must be a valid ISO 8601 date string (YYYY-MM-DD)",
        "filters.endDate must be a valid ISO 8601 date string (YYYY-MM-DD)",
        "filters.colour is not a filter of TRANSACTIONS"
        " (allowed: endDate, merchantId, startDate, status)",
        "filters.status must be one of the following values: PENDING, SETTLED, FAILED, REFUNDED",
    ]


def test_reversed_dates_are_rejected_but_one_day_is_fine() -> None:
    with pytest.raises(
        InvalidRequest, match=r"filters\.endDate must not be before filters\.startDate"
    ):
        parse_filters(TRANSACTIONS, {"startDate": "2024-03-02", "endDate": "2024-03-01"})
    assert parse_filters(TRANSACTIONS, {"startDate": "2024-03-01", "endDate": "2024-03-01"})


def test_filters_must_be_an_object() -> None:
    with pytest.raises(InvalidRequest, match="filters must be an object"):
        parse_filters(TRANSACTIONS, ["startDate"])


def test_file_name_is_readable() -> None:
    filters = parse_filters(
        TRANSACTIONS, {"startDate": "2024-01-01", "endDate": "2024-03-01", "status": "SETTLED"}
    )
    assert file_name(TRANSACTIONS, filters, "csv") == (
        "transactions_2024-01-01_2024-03-01_SETTLED.csv"
    )
    assert file_name(TRANSACTIONS, {}, "csv", gzip=True) == "transactions.csv.gz"
    assert file_name(TRANSACTIONS, {}, "xlsx", gzip=True) == "transactions.xlsx"
