"""Every request option and JSON Lines through API → Export → operator → Job → S3 → download,
byte for byte what the database's own COPY gives for the same columns, zone and filters."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import urllib.request
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
from e2e_support import Client
from psycopg import sql

from devstack.demo_data import MERCHANTS
from devstack.stack import Stack
from exporter.jsonl_sql import jsonl_select
from streamexport_core.catalog import Resource, load_catalog
from streamexport_core.filters import parse_filters
from streamexport_core.options import with_columns
from streamexport_core.scope import Scope
from streamexport_core.sql import copy_query, select_query

TRANSACTIONS = (
    load_catalog().get("TRANSACTIONS").with_scope(Scope("merchant_id", "merchantId", MERCHANTS))
)
FILTERS = {"startDate": "2024-05-01", "endDate": "2024-05-03"}
BOM = b"\xef\xbb\xbf"


def _download(url: str) -> tuple[bytes, str]:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - local moto
        return bytes(response.read()), str(response.headers["Content-Type"])


def _database_copy(
    stack: Stack, statement: tuple[sql.Composed, dict[str, Any]], zone: str
) -> bytes:
    buffer = bytearray()
    with psycopg.connect(stack.database_url) as conn:
        conn.execute(sql.SQL("SET TIME ZONE {}").format(sql.Literal(zone)))
        with conn.cursor().copy(*statement) as copy:
            for block in copy:
                buffer += block
    return bytes(buffer)


def _jsonl_text_copy(
    resource: Resource, filters: dict[str, Any]
) -> tuple[sql.Composed, dict[str, Any]]:
    """The JSON values as text lines: a CSV COPY with a delimiter and a quote that JSON text
    never holds raw (the exporter's own COPY is binary)."""
    select, params = jsonl_select(resource, filters)
    return sql.SQL("COPY ({}) TO STDOUT (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')").format(
        select
    ), params


def _export(alice: Client, body: dict[str, Any]) -> tuple[Any, bytes, str]:
    status, accepted = alice.call("POST", "/api/v1/exports", body)
    assert status == 202, accepted
    final = alice.wait_final(accepted["exportId"])
    assert final["status"] == "COMPLETED", final
    data, content_type = _download(final["downloadUrl"])
    assert len(data) == final["fileSizeBytes"]
    return final, data, content_type


def _resource(columns: list[str]) -> Resource:
    return with_columns(TRANSACTIONS, columns)


def test_csv_with_every_option(stack: Stack, alice: Client) -> None:
    options = {
        "columns": ["description", "id", "created_at", "amount"],
        "compression": "gzip",
        "csvBom": True,
        "timeZone": "Asia/Kolkata",
    }
    final, data, content_type = _export(
        alice, {"resourceType": "TRANSACTIONS", "format": "csv", "filters": FILTERS, **options}
    )

    assert {k: final[k] for k in options} == options
    assert content_type == "application/gzip"
    assert ".csv.gz?" in final["downloadUrl"]
    resource = _resource(options["columns"])
    expected = _database_copy(
        stack, copy_query(resource, parse_filters(resource, FILTERS)), "Asia/Kolkata"
    )
    assert b"+05:30" in expected
    assert gzip.decompress(data) == BOM + expected


def test_jsonl_in_a_zone(stack: Stack, alice: Client) -> None:
    body = {
        "resourceType": "TRANSACTIONS",
        "format": "jsonl",
        "filters": FILTERS,
        "columns": ["id", "created_at", "amount", "customer_email"],
        "timeZone": "America/Los_Angeles",
    }
    final, data, content_type = _export(alice, body)

    assert final["format"] == "jsonl"
    assert content_type == "application/jsonl; charset=utf-8"
    resource = _resource(body["columns"])
    expected = _database_copy(
        stack, _jsonl_text_copy(resource, parse_filters(resource, FILTERS)), "America/Los_Angeles"
    )
    assert b"-07:00" in expected
    assert data == expected
    assert final["actualRowCount"] == data.count(b"\n")


def test_xlsx_in_a_zone_has_typed_wall_times(stack: Stack, alice: Client) -> None:
    body = {
        "resourceType": "TRANSACTIONS",
        "format": "xlsx",
        "filters": FILTERS,
        "columns": ["created_at", "amount", "id"],
        "timeZone": "Australia/Sydney",
    }
    final, data, _ = _export(alice, body)

    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Created At", "Amount", "ID")
    resource = _resource(body["columns"])
    query, params = select_query(resource, parse_filters(resource, FILTERS))
    with psycopg.connect(stack.database_url) as conn:
        expected = conn.execute(query, params).fetchall()
    sydney = ZoneInfo("Australia/Sydney")
    assert len(rows) - 1 == len(expected) == final["actualRowCount"]
    for (cell, amount, ident), (created, db_amount, db_id) in zip(rows[1:], expected, strict=True):
        assert (ident, amount) == (db_id, float(db_amount))
        assert isinstance(cell, dt.datetime)
        wall = created.astimezone(sydney).replace(tzinfo=None)
        assert abs(cell - wall) < dt.timedelta(milliseconds=1)


def test_invoices_jsonl_is_the_second_shape(stack: Stack, alice: Client) -> None:
    body = {
        "resourceType": "INVOICES",
        "format": "jsonl",
        "filters": {"issuedFrom": "2024-04-01", "issuedTo": "2024-04-30", "status": "PAID"},
    }
    final, data, _ = _export(alice, body)

    invoices = (
        load_catalog().get("INVOICES").with_scope(Scope("merchant_id", "merchantId", MERCHANTS))
    )
    expected = _database_copy(
        stack, _jsonl_text_copy(invoices, parse_filters(invoices, body["filters"])), "UTC"
    )
    assert data == expected
    first = json.loads(data.splitlines()[0])
    assert first["paid"] is True and isinstance(first["due_date"], str)
    assert final["actualRowCount"] == data.count(b"\n") > 0


def test_parquet_is_typed_and_value_exact(stack: Stack, alice: Client) -> None:
    body = {
        "resourceType": "INVOICES",
        "format": "PARQUET",
        "filters": {"issuedFrom": "2024-06-01", "issuedTo": "2024-06-30"},
        "timeZone": "Asia/Tokyo",
    }
    final, data, content_type = _export(alice, body)

    assert content_type == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(data))
    assert table.schema.field("paid").type == pa.bool_()
    assert table.schema.field("due_date").type == pa.date32()
    assert table.schema.field("issued_at").type == pa.timestamp("us", tz="Asia/Tokyo")
    invoices = (
        load_catalog().get("INVOICES").with_scope(Scope("merchant_id", "merchantId", MERCHANTS))
    )
    query, params = select_query(
        invoices, parse_filters(invoices, body["filters"]), neutralise=False
    )
    with psycopg.connect(stack.database_url) as conn:
        expected = conn.execute(query, params).fetchall()
    assert [tuple(r.values()) for r in table.to_pylist()] == expected
    assert final["actualRowCount"] == table.num_rows > 0
