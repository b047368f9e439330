"""A request travels API → Export → operator → Job → exporter → S3 → email → download."""

from __future__ import annotations

import csv
import io
import json
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

import psycopg
from e2e_support import Client
from openpyxl import load_workbook
from polling import eventually_sync

from devstack.demo_data import MERCHANTS
from devstack.mailsink import read_messages
from devstack.stack import NAMESPACE, Stack
from streamexport_core.catalog import load_catalog
from streamexport_core.filters import parse_filters
from streamexport_core.scope import Scope
from streamexport_core.sql import copy_query, select_query

# alice may read every merchant's rows (tests/e2e/conftest.py).
TRANSACTIONS = load_catalog().get("TRANSACTIONS").with_scope(
    Scope("merchant_id", "merchantId", MERCHANTS)
)
FILTERS = {"startDate": "2024-03-01", "endDate": "2024-03-31"}


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - local moto
        return bytes(response.read())


def _database_csv(stack: Stack, filters: dict[str, str]) -> list[list[str]]:
    query, params = copy_query(TRANSACTIONS, parse_filters(TRANSACTIONS, filters))
    buffer = bytearray()
    with psycopg.connect(stack.database_url) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        with conn.cursor().copy(query, params) as copy:
            for block in copy:
                buffer += block
    return list(csv.reader(io.StringIO(buffer.decode("utf-8"), newline="")))


def _database_ids(stack: Stack, filters: dict[str, str]) -> list[int]:
    query, params = select_query(TRANSACTIONS, parse_filters(TRANSACTIONS, filters))
    with psycopg.connect(stack.database_url) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        return [row[0] for row in conn.execute(query, params)]


def _mails_about(mail_dir: Path, export_id: str) -> list[Any]:
    found = []
    for message in read_messages(mail_dir):
        body = message.get_body(preferencelist=("plain",))
        if body is not None and export_id in body.get_content():
            found.append(message)
    return found


def _completed(body: Any) -> None:
    assert body["status"] == "COMPLETED", body
    assert body["progressPercentage"] == 100
    assert body["actualRowCount"] > 0
    assert body["fileSizeBytes"] > 0
    assert body["downloadUrl"] and body["downloadUrlExpiresAt"]


def test_csv_export_matches_the_database_and_is_mailed_once(
    stack: Stack, alice: Client, mail_dir: Path
) -> None:
    export_id = alice.create("CSV", **FILTERS)
    body = alice.wait_final(export_id)
    _completed(body)
    data = _download(body["downloadUrl"])
    assert len(data) == body["fileSizeBytes"]
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows == _database_csv(stack, FILTERS)
    assert body["actualRowCount"] == len(rows) - 1

    [message] = _mails_once_recorded(stack, mail_dir, export_id)
    assert message["to"] == "alice@example.com"
    text = message.get_body(preferencelist=("plain",)).get_content()
    link = next(w for w in text.split() if "X-Amz-Signature=" in w)
    assert _download(link) == data


def test_xlsx_export_has_typed_cells_for_every_row(stack: Stack, alice: Client) -> None:
    filters = {**FILTERS, "status": "SETTLED"}
    export_id = alice.create("xlsx", **filters)
    body = alice.wait_final(export_id)
    _completed(body)
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as handle:
        handle.write(_download(body["downloadUrl"]))
        handle.flush()
        workbook = load_workbook(handle.name, read_only=True)
        try:
            rows = list(workbook.worksheets[0].iter_rows(values_only=True))
        finally:
            workbook.close()
    assert rows[0][0] == "ID"
    assert [r[0] for r in rows[1:]] == _database_ids(stack, filters)
    assert isinstance(rows[1][2], (int, float))  # Amount is a number, not text
    assert body["actualRowCount"] == len(rows) - 1


def _notification(stack: Stack, export_id: str) -> dict[str, Any]:
    url = f"{stack.kube_url}/apis/streamexport.io/v1/namespaces/{NAMESPACE}/exports/{export_id}"
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the stand-in
        export = json.loads(response.read())
    return dict((export.get("status") or {}).get("notification") or {})


def _mails_once_recorded(stack: Stack, mail_dir: Path, export_id: str) -> list[Any]:
    """The mails about the export once the operator has recorded its delivery (`sentAt`):
    the sink has stored a message before the SMTP exchange that sent it ends, so every mail
    that delivery sent is in the folder by then; the record is what stops a second one."""
    eventually_sync(lambda: _notification(stack, export_id).get("sentAt"), timeout=30)
    return _mails_about(mail_dir, export_id)
