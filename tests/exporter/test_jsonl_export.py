"""JSON Lines rendered by PostgreSQL: one object per row, value for value the database's, and
hostile text byte-exact (COPY passes the JSON through unescaped)."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import psycopg
import pytest

NAMES = [
    "id",
    "created_at",
    "amount",
    "currency",
    "status",
    "customer_email",
    "description",
    "merchant_id",
]
# Every character JSON must escape, the two bytes the COPY uses as delimiter and quote, the
# backslash COPY's text format would double, and text beyond ASCII.
HOSTILE = {
    90001: 'back\\slash "quoted" \\N',
    90002: "line\nfeed\r\ncrlf\ttab",
    90003: "\x01delimiter\x02quote\x1fus\x7fdel",
    90004: "ünïcødé ✓ 💾 \u2028 </script>",
    90005: "",
    90006: ",;|",
}
DAY = {"startDate": "2025-02-01", "endDate": "2025-02-01"}


def export(run_exporter: Callable[..., Any], *args: str) -> Any:
    run = run_exporter("--resource-type", "TRANSACTIONS", "--format", "jsonl", *args)
    assert run.returncode == 0, run.stderr
    return run.result


def body(s3_client: Any, bucket: str, key: str) -> bytes:
    data: bytes = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return data


def test_each_line_is_the_database_row(
    run_exporter: Callable[..., Any],
    s3_client: Any,
    bucket: str,
    fetch_rows: Callable[..., list[tuple[Any, ...]]],
) -> None:
    result = export(run_exporter)

    assert result["fileName"] == "transactions.jsonl"
    response = s3_client.get_object(Bucket=bucket, Key=result["objectKey"])
    assert response["ContentType"] == "application/jsonl; charset=utf-8"
    lines = response["Body"].read().decode("utf-8").split("\n")
    assert lines[-1] == ""  # every line ends with LF, no header
    objects = [json.loads(line, parse_float=Decimal) for line in lines[:-1]]
    rows = fetch_rows()
    assert len(objects) == len(rows) == result["rows"]
    for obj, row in zip(objects, rows, strict=True):
        assert list(obj) == NAMES
        assert isinstance(obj["id"], int) and isinstance(obj["merchant_id"], int)
        assert isinstance(obj["amount"], Decimal)  # a JSON number, exact
        typed = (
            obj["id"],
            dt.datetime.fromisoformat(obj["created_at"]),  # RFC 3339
            obj["amount"],
            obj["currency"],
            obj["status"],
            obj["customer_email"],
            obj["description"],
            obj["merchant_id"],
        )
        assert typed == row


@pytest.fixture
def hostile_rows(db: psycopg.Connection[Any]) -> None:
    db.cursor().executemany(
        "INSERT INTO transactions (id, created_at, amount, currency, status, description)"
        " VALUES (%s, '2025-02-01 12:00:00+00', 1, 'EUR', 'SETTLED', %s)",
        list(HOSTILE.items()),
    )


@pytest.mark.usefixtures("hostile_rows")
def test_hostile_text_is_byte_exact_json(
    run_exporter: Callable[..., Any], s3_client: Any, bucket: str
) -> None:
    result = export(
        run_exporter, "--filters", json.dumps(DAY), "--columns", "id,description"
    )

    expected = b"".join(
        json.dumps({"id": i, "description": text}, ensure_ascii=False, separators=(",", ":"))
        .encode()
        + b"\n"
        for i, text in HOSTILE.items()
    )
    assert body(s3_client, bucket, result["objectKey"]) == expected


def test_gzip_decompresses_to_the_plain_lines(
    run_exporter: Callable[..., Any], s3_client: Any, bucket: str
) -> None:
    plain = body(s3_client, bucket, export(run_exporter)["objectKey"])

    result = export(run_exporter, "--gzip")

    assert result["fileName"] == "transactions.jsonl.gz"
    response = s3_client.get_object(Bucket=bucket, Key=result["objectKey"])
    assert response["ContentType"] == "application/gzip"
    assert gzip.decompress(response["Body"].read()) == plain
