"""200k rows, CSV and XLSX, under the Job's 512 MiB memory limit (a memory cgroup here)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import psutil
import pytest

from devstack import demo_data
from devstack.memlimit import MemoryCap

EXPORTER = (sys.executable, "-m", "exporter")
LIMIT = 512 * 1024 * 1024
ROWS = 200_000


@pytest.fixture
def rows_200k(database_url: str) -> None:
    demo_data.load(database_url, ROWS, drop=True)


def peak_rss_of(process: subprocess.Popen[Any]) -> int:
    """Poll the RSS of the process and its children until it exits; the peak, in bytes."""
    peak = 0
    watched = psutil.Process(process.pid)
    while process.poll() is None:
        try:
            tree = [watched, *watched.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree))
        except psutil.Error:
            pass
        try:
            process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
    return peak


@pytest.mark.usefixtures("rows_200k")
@pytest.mark.timeout(240)
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_200k_rows_export_under_512mib(
    fmt: str, service_env: dict[str, str], s3_client: Any, bucket: str
) -> None:
    env = {**service_env, "TERMINATION_MESSAGE_PATH": "", "EXPORT_LOG_LEVEL": "warning"}
    with MemoryCap(LIMIT) as cap:
        process = cap.popen(
            [
                *EXPORTER,
                "--resource-type",
                "TRANSACTIONS",
                "--format",
                fmt,
                "--object-key",
                f"big.{fmt}",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        peak = peak_rss_of(process)
        assert process.stderr is not None
        stderr = process.stderr.read().decode()
        process.stderr.close()
        returncode = process.wait()

    assert not cap.oom_killed
    assert returncode == 0, stderr
    head = s3_client.head_object(Bucket=bucket, Key=f"big.{fmt}")
    assert head["Metadata"]["row-count"] == str(ROWS)
    # Far below the limit (the benchmark reports the numbers): a regression guard.
    assert peak < 200 * 1024 * 1024, f"peak RSS {peak / 2**20:.0f} MiB ({cap.mode})"
