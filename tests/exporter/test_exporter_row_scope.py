"""The exporter reads only the rows of its recorded scope (EXPORT_SCOPE / --scope), and a
scoped resource without one is refused (exit 2), never exported whole."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from streamexport_core.catalog import DEFAULT_CATALOG_PATH


def _scope(*merchants: int) -> str:
    return json.dumps({"column": "merchant_id", "claim": "merchantId", "values": list(merchants)})


def _exported(s3_client: Any, bucket: str, key: str) -> list[dict[str, str]]:
    body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    return list(csv.DictReader(io.StringIO(body, newline="")))


def _ids(db: psycopg.Connection[Any], merchants: list[int]) -> list[int]:
    rows = db.execute(
        "SELECT id FROM transactions WHERE merchant_id = ANY(%s) ORDER BY created_at, id",
        (merchants,),
    ).fetchall()
    return [row[0] for row in rows]


@pytest.mark.parametrize("merchants", [[2], [1, 3]], ids=["one merchant", "two merchants"])
def test_only_the_scopes_rows_are_exported(
    merchants: list[int],
    run_exporter: Callable[..., Any],
    db: psycopg.Connection[Any],
    s3_client: Any,
    bucket: str,
) -> None:
    run = run_exporter(
        "--resource-type",
        "TRANSACTIONS",
        "--object-key",
        "s.csv",
        env={"EXPORT_SCOPE": _scope(*merchants)},
    )
    assert run.returncode == 0, run.stderr
    rows = _exported(s3_client, bucket, "s.csv")
    assert [int(r["ID"]) for r in rows] == _ids(db, merchants)
    assert {int(r["Merchant ID"]) for r in rows} == set(merchants)
    assert run.result["rows"] == len(rows) < 2000
    assert any(
        f'scope="merchant_id={",".join(map(str, merchants))}"' in line for line in run.stderr_lines
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_no_scope_for_a_scoped_resource_exits_2_and_uploads_nothing(
    fmt: str,
    run_exporter: Callable[..., Any],
    bucket: str,
    objects: Callable[[str], list[str]],
) -> None:
    run = run_exporter(
        "--resource-type", "TRANSACTIONS", "--format", fmt, env={"EXPORT_SCOPE": None}
    )
    assert run.returncode == 2
    last = run.stderr_lines[-1]
    assert "reason=InvalidRequest" in last
    assert "scoped by claim 'merchantId'" in last and "without a scope" in last
    assert objects(bucket) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scope", '{"column": "id", "claim": "merchantId", "values": [1]}'], "but the catalog"),
        (
            ["--scope", '{"column": "merchant_id", "claim": "merchantId", "values": []}'],
            "scope.values must name at least one value",
        ),
        (
            ["--scope", '{"column": "merchant_id", "claim": "merchantId", "values": ["1"]}'],
            "scope.values must be an integer",
        ),
        (["--scope", "[1]"], "--scope (EXPORT_SCOPE) must be a JSON object"),
        (
            ["--scope", _scope(2), "--filters", '{"merchantId": 3}'],
            "filters.merchantId names 3, which the token's 'merchantId' claim does not grant",
        ),
    ],
    ids=["other column", "no values", "wrong type", "not an object", "filter outside"],
)
def test_a_scope_that_does_not_fit_exits_2(
    args: list[str],
    message: str,
    run_exporter: Callable[..., Any],
    bucket: str,
    objects: Callable[[str], list[str]],
) -> None:
    run = run_exporter("--resource-type", "TRANSACTIONS", *args)
    assert run.returncode == 2, run.stderr
    assert message in run.stderr_lines[-1]
    assert objects(bucket) == []


def test_an_open_resource_is_exported_whole_and_logged_as_open(
    run_exporter: Callable[..., Any], tmp_path: Path, s3_client: Any, bucket: str
) -> None:
    document = yaml.safe_load(DEFAULT_CATALOG_PATH.read_text())
    open_copy = dict(document["resources"]["TRANSACTIONS"])
    del open_copy["scope"]
    document["resources"]["OPEN_TRANSACTIONS"] = open_copy
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(document))

    run = run_exporter(
        "--resource-type",
        "OPEN_TRANSACTIONS",
        "--catalog",
        str(path),
        "--object-key",
        "o.csv",
        env={"EXPORT_SCOPE": None},
    )
    assert run.returncode == 0, run.stderr
    assert len(_exported(s3_client, bucket, "o.csv")) == 2000
    (line,) = [x for x in run.stderr_lines if "event=catalog_open_resources" in x]
    assert "resources=OPEN_TRANSACTIONS" in line
    given = run_exporter(
        "--resource-type", "OPEN_TRANSACTIONS", "--catalog", str(path), "--scope", _scope(1)
    )
    assert given.returncode == 2 and "is not scoped by the catalog" in given.stderr_lines[-1]
