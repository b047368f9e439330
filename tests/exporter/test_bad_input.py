"""A request that can never succeed: exit 2, one clear line on stderr, nothing uploaded."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CASES = {
    "unknown resource": (
        ["--resource-type", "PAYOUTS"],
        "resourceType must be one of the following values: INVOICES, TRANSACTIONS",
    ),
    "unknown filter": (
        ["--resource-type", "TRANSACTIONS", "--filters", '{"colour": "red"}'],
        "filters.colour is not a filter of TRANSACTIONS",
    ),
    "malformed date": (
        ["--resource-type", "TRANSACTIONS", "--filters", '{"startDate": "2024-02-30"}'],
        "filters.startDate must be a valid ISO 8601 date string (YYYY-MM-DD)",
    ),
    "endDate before startDate": (
        [
            "--resource-type",
            "TRANSACTIONS",
            "--filters",
            json.dumps({"startDate": "2024-03-01", "endDate": "2024-02-01"}),
        ],
        "filters.endDate must not be before filters.startDate",
    ),
    "bad status": (
        ["--resource-type", "TRANSACTIONS", "--filters", '{"status": "LOST"}'],
        "filters.status must be one of the following values: PENDING, SETTLED, FAILED, REFUNDED",
    ),
    "unknown format": (
        ["--resource-type", "TRANSACTIONS", "--format", "pdf"],
        "format must be one of csv, xlsx, jsonl, parquet, not 'pdf'",
    ),
    "filters not JSON": (
        ["--resource-type", "TRANSACTIONS", "--filters", "{startDate: 2024}"],
        "--filters (EXPORT_FILTERS) is not valid JSON",
    ),
    "part size too small": (
        ["--resource-type", "TRANSACTIONS", "--part-size", "1MiB"],
        "part size must be between 5MiB and 5GiB",
    ),
    "unknown flag": (["--resource-type", "TRANSACTIONS", "--colour", "red"], "--colour"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_request_exits_2_with_one_line_and_uploads_nothing(
    case: str,
    run_exporter: Callable[..., Any],
    bucket: str,
    objects: Callable[[str], list[str]],
    uploads: Callable[[str], list[dict[str, Any]]],
) -> None:
    args, message = CASES[case]

    run = run_exporter(*args, env={"EXPORT_NAME": "bad-1"})

    assert run.returncode == 2
    assert run.stdout == ""
    assert len(run.stderr_lines) == 1, run.stderr
    line = run.stderr_lines[0]
    assert "level=error" in line and "export=bad-1" in line and "exit_code=2" in line
    assert message in line
    assert objects(bucket) == [] and uploads(bucket) == []


def test_failure_is_written_to_the_termination_message(
    run_exporter: Callable[..., Any], tmp_path: Path
) -> None:
    message = tmp_path / "termination-log"

    run = run_exporter(
        "--resource-type",
        "PAYOUTS",
        env={"EXPORT_NAME": "bad-2", "TERMINATION_MESSAGE_PATH": str(message)},
    )

    assert run.returncode == 2
    assert json.loads(message.read_text()) == {
        "status": "failed",
        "exportId": "bad-2",
        "exitCode": 2,
        "reason": "InvalidRequest",
        "message": "resourceType must be one of the following values: INVOICES, TRANSACTIONS",
    }


def test_too_many_rows_for_xlsx_fails_before_any_upload(
    service_env: dict[str, str],
    bucket: str,
    objects: Callable[[str], list[str]],
    uploads: Callable[[str], list[dict[str, Any]]],
) -> None:
    # 1,048,576+ rows would take a minute to load; the same check with a lower limit.
    import subprocess

    code = (
        "import sys, exporter.writers.xlsx_stream as x; x.XLSX_MAX_ROWS = 1999;"
        "from exporter.cli import main; sys.exit(main())"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code, "--resource-type", "TRANSACTIONS", "--format", "xlsx"],
        env={**service_env, "TERMINATION_MESSAGE_PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 2, completed.stderr
    last = completed.stderr.strip().splitlines()[-1]
    assert "reason=TooManyRows" in last
    assert "2,000 rows do not fit in one XLSX sheet (at most 1,999)" in last
    assert objects(bucket) == [] and uploads(bucket) == []


def test_missing_required_setting_names_flag_and_variable(
    run_exporter: Callable[..., Any],
) -> None:
    run = run_exporter("--resource-type", "TRANSACTIONS", env={"S3_BUCKET": None})

    assert run.returncode == 2
    assert "--bucket (or S3_BUCKET) is required" in run.stderr_lines[-1]
