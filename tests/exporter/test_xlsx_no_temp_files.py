"""An XLSX export writes no temporary file: the zip streams into the upload as it is made.

The old path wrote the whole uncompressed sheet (3.5x the CSV) under /tmp first; the Job's
/tmp emptyDir is now small, so this is what keeps an export from being evicted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devstack import demo_data

ROWS = 100_000
MAX_FILE = 4 * 1024 * 1024


def largest_file(directory: Path) -> int:
    sizes = [0]
    for path in directory.rglob("*"):
        try:
            if path.is_file():
                sizes.append(path.stat().st_size)
        except OSError:  # gone between listing and stat
            continue
    return max(sizes)


@pytest.mark.timeout(180)
def test_no_large_file_appears_in_tmpdir_during_an_xlsx_export(
    database_url: str,
    tmp_path: Path,
    start_exporter: Callable[..., Any],
    s3_client: Any,
    bucket: str,
) -> None:
    demo_data.load(database_url, ROWS, drop=True)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()

    running = start_exporter(
        "--resource-type",
        "TRANSACTIONS",
        "--format",
        "xlsx",
        "--object-key",
        "big.xlsx",
        env={"TMPDIR": str(tmpdir), "EXPORT_LOG_LEVEL": "info"},
    )
    largest, polls = 0, 0
    deadline = time.monotonic() + 150
    while running.process.poll() is None and time.monotonic() < deadline:
        largest = max(largest, largest_file(tmpdir))
        polls += 1
        time.sleep(0.01)
    run = running.wait(30)

    assert run.returncode == 0, run.stderr
    assert polls > 10  # the directory was watched while the export ran
    assert largest <= MAX_FILE, f"a {largest:,}-byte file appeared under TMPDIR"
    head = s3_client.head_object(Bucket=bucket, Key="big.xlsx")
    assert head["Metadata"]["row-count"] == str(ROWS)
