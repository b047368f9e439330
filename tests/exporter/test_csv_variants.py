"""The gzip and BOM variants of the CSV."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from typing import Any


def plain_csv(run_exporter: Callable[..., Any], s3_client: Any, bucket: str) -> bytes:
    run = run_exporter("--resource-type", "TRANSACTIONS", "--object-key", "plain.csv")
    assert run.returncode == 0, run.stderr
    body: bytes = s3_client.get_object(Bucket=bucket, Key="plain.csv")["Body"].read()
    return body


def test_gzip_object_decompresses_to_the_plain_csv(
    run_exporter: Callable[..., Any], s3_client: Any, bucket: str
) -> None:
    plain = plain_csv(run_exporter, s3_client, bucket)

    run = run_exporter("--resource-type", "TRANSACTIONS", env={"EXPORT_GZIP": "true"})

    assert run.returncode == 0, run.stderr
    result = run.result
    assert result["fileName"] == "transactions.csv.gz"
    assert result["objectKey"].endswith("/transactions.csv.gz")
    response = s3_client.get_object(Bucket=bucket, Key=result["objectKey"])
    assert response["ContentType"] == "application/gzip"
    assert 'filename="transactions.csv.gz"' in response["ContentDisposition"]
    compressed = response["Body"].read()
    assert result["bytes"] == len(compressed) < len(plain)
    assert gzip.decompress(compressed) == plain


def test_bom_prefixes_the_plain_csv(
    run_exporter: Callable[..., Any], s3_client: Any, bucket: str
) -> None:
    plain = plain_csv(run_exporter, s3_client, bucket)

    run = run_exporter("--resource-type", "TRANSACTIONS", "--bom", "--object-key", "bom.csv")

    assert run.returncode == 0, run.stderr
    body = s3_client.get_object(Bucket=bucket, Key="bom.csv")["Body"].read()
    assert body == b"\xef\xbb\xbf" + plain
    assert body.decode("utf-8-sig").startswith("ID,Created At,")
