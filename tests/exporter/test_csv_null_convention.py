"""The CSV's bytes: NULL is an empty unquoted field, '' a quoted empty field, LF line ends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg


def test_null_is_unquoted_empty_and_empty_string_is_quoted(
    db: psycopg.Connection[Any],
    run_exporter: Callable[..., Any],
    s3_client: Any,
    bucket: str,
) -> None:
    db.execute("TRUNCATE transactions")
    db.execute(
        """
        INSERT INTO transactions VALUES
          (1, '2024-05-01 12:00:00+00', 10.50, 'EUR', 'SETTLED', NULL, '', 1),
          (2, '2024-05-01 12:00:01.5+00', -3, 'USD', 'FAILED', 'a@b.c', E'x,"y"\\r\\nz', 2)
        """
    )

    run = run_exporter("--resource-type", "TRANSACTIONS", "--object-key", "raw.csv")

    assert run.returncode == 0, run.stderr
    body = s3_client.get_object(Bucket=bucket, Key="raw.csv")["Body"].read()
    assert body == (
        b"ID,Created At,Amount,Currency,Status,Customer Email,Description,Merchant ID\n"
        b'1,2024-05-01 12:00:00+00,10.50,EUR,SETTLED,,"",1\n'
        b'2,2024-05-01 12:00:01.5+00,-3.00,USD,FAILED,a@b.c,"x,""y""\r\nz",2\n'
    )
