"""The result line, the termination message and the object's metadata describe the upload."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devstack import demo_data


def test_result_json_describes_the_uploaded_object(
    run_exporter: Callable[..., Any], s3_client: Any, bucket: str, tmp_path: Path
) -> None:
    message = tmp_path / "termination-log"
    filters = {"startDate": "2024-01-01", "endDate": "2024-03-01"}

    run = run_exporter(
        "--resource-type",
        "TRANSACTIONS",
        "--filters",
        json.dumps(filters),
        env={"EXPORT_NAME": "5b0c7d1e-demo", "TERMINATION_MESSAGE_PATH": str(message)},
    )

    assert run.returncode == 0, run.stderr
    result = run.result
    assert json.loads(message.read_text()) == result
    body = s3_client.get_object(Bucket=bucket, Key=result["objectKey"])["Body"].read()
    assert result == {
        "status": "succeeded",
        "exportId": "5b0c7d1e-demo",
        "rows": len(list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))) - 1,
        "bytes": len(body),
        "bucket": bucket,
        "objectKey": "exports/5b0c7d1e-demo/transactions_2024-01-01_2024-03-01.csv",
        "fileName": "transactions_2024-01-01_2024-03-01.csv",
        "format": "csv",
        "contentType": "text/csv; charset=utf-8",
        "checksum": hashlib.sha256(body).hexdigest(),
        "checksumAlgorithm": "sha256",
        "durationSeconds": result["durationSeconds"],
    }
    assert 0 < result["durationSeconds"] < 60


def test_object_has_content_type_disposition_and_metadata(
    run_exporter: Callable[..., Any], s3_client: Any, bucket: str
) -> None:
    run = run_exporter(
        "--resource-type", "TRANSACTIONS", "--format", "xlsx", env={"EXPORT_NAME": "abc-123"}
    )

    assert run.returncode == 0, run.stderr
    head = s3_client.head_object(Bucket=bucket, Key=run.result["objectKey"])
    assert head["ContentType"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert head["ContentDisposition"] == 'attachment; filename="transactions.xlsx"'
    assert head["Metadata"] == {
        "export-id": "abc-123",
        "row-count": "2000",
        "resource-type": "TRANSACTIONS",
    }
    assert head["ContentLength"] == run.result["bytes"]


@pytest.mark.timeout(120)
def test_multipart_upload_is_complete_and_checksummed(
    database_url: str, run_exporter: Callable[..., Any], s3_client: Any, bucket: str
) -> None:
    demo_data.load(database_url, 120_000, drop=True)  # ~12 MiB of CSV: three 5 MiB parts

    run = run_exporter(
        "--resource-type", "TRANSACTIONS", "--part-size", "5MiB", "--object-key", "big.csv"
    )

    assert run.returncode == 0, run.stderr
    assert run.result["rows"] == 120_000
    head = s3_client.head_object(Bucket=bucket, Key="big.csv")
    assert head["ETag"].endswith('-3"')  # a multipart ETag: "<md5 of md5s>-<parts>"
    assert head["Metadata"]["row-count"] == "120000"
    body = s3_client.get_object(Bucket=bucket, Key="big.csv")["Body"].read()
    assert len(body) == run.result["bytes"]
    assert hashlib.sha256(body).hexdigest() == run.result["checksum"]
    assert not s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads")
