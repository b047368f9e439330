"""Failures mid-export: S3 going away, SIGTERM, the database unreachable.

Each leaves no orphan multipart upload and no partial object, and exits non-zero with a
one-line reason. S3 is taken away by a TCP proxy in front of the session's moto server, so
moto keeps its state and the test can check what the exporter cleaned up.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

import pytest

from devstack import demo_data, services
from devstack.faultproxy import FaultProxy

MiB = 1024 * 1024
ROWS = 150_000  # ~16 MiB of CSV: four 5 MiB parts


@pytest.fixture
def many_rows(database_url: str) -> None:
    demo_data.load(database_url, ROWS, drop=True)


@pytest.fixture
def proxy_factory(s3_server: services.MotoThread) -> Any:
    proxies: list[FaultProxy] = []

    def make(**kwargs: Any) -> FaultProxy:
        proxy = FaultProxy((s3_server.host, s3_server.port), **kwargs)
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.close()


@pytest.mark.usefixtures("many_rows")
def test_s3_lost_after_the_first_part_exits_1_and_aborts_the_upload(
    proxy_factory: Callable[..., FaultProxy],
    start_exporter: Callable[..., Any],
    s3_client: Any,
    bucket: str,
    objects: Callable[[str], list[str]],
    uploads: Callable[[str], list[dict[str, Any]]],
) -> None:
    # Part 1 (5 MiB) goes through; the link dies during part 2.
    proxy = proxy_factory(cut_after_bytes=7 * MiB)
    exporter = start_exporter(
        "--resource-type",
        "TRANSACTIONS",
        "--part-size",
        "5MiB",
        "--object-key",
        "lost.csv",
        env={"S3_ENDPOINT_URL": proxy.url, "AWS_MAX_ATTEMPTS": "2"},
    )

    assert proxy.wait_cut(timeout=60)
    (upload,) = uploads(bucket)
    parts = s3_client.list_parts(Bucket=bucket, Key="lost.csv", UploadId=upload["UploadId"])
    assert [part["PartNumber"] for part in parts["Parts"]] == [1]
    # The abort cannot reach S3 yet; it is retried. Bring S3 back.
    exporter.wait_for_line("event=abort_retry", timeout=60)
    proxy.restore()
    run = exporter.wait(timeout=60)

    assert run.returncode == 1
    assert "event=multipart_upload_aborted" in run.stderr
    last = run.stderr_lines[-1]
    assert "level=error" in last and "reason=StorageError" in last and "exit_code=1" in last
    assert uploads(bucket) == [] and objects(bucket) == []


@pytest.mark.usefixtures("many_rows")
def test_sigterm_mid_upload_aborts_the_upload(
    proxy_factory: Callable[..., FaultProxy],
    start_exporter: Callable[..., Any],
    s3_client: Any,
    bucket: str,
    objects: Callable[[str], list[str]],
    uploads: Callable[[str], list[dict[str, Any]]],
) -> None:
    # S3 stalls in the middle of part 2: the export is certainly mid-way when SIGTERM comes.
    proxy = proxy_factory(hold_after_bytes=7 * MiB)
    exporter = start_exporter(
        "--resource-type",
        "TRANSACTIONS",
        "--part-size",
        "5MiB",
        "--object-key",
        "stopped.csv",
        env={"S3_ENDPOINT_URL": proxy.url},
    )
    assert proxy.wait_held(timeout=60)
    assert len(uploads(bucket)) == 1

    exporter.process.send_signal(signal.SIGTERM)
    exporter.wait_for_line("event=signal_received signal=SIGTERM", timeout=30)
    proxy.release()
    run = exporter.wait(timeout=60)

    assert run.returncode == 128 + signal.SIGTERM
    assert "event=multipart_upload_aborted" in run.stderr
    assert "reason=Terminated" in run.stderr_lines[-1]
    assert uploads(bucket) == [] and objects(bucket) == []


def test_database_unreachable_exits_1_with_a_clear_message(
    run_exporter: Callable[..., Any],
    bucket: str,
    objects: Callable[[str], list[str]],
    uploads: Callable[[str], list[dict[str, Any]]],
) -> None:
    port = services.free_port()
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    run = run_exporter("--resource-type", "TRANSACTIONS", env={"DATABASE_URL": url})

    assert run.returncode == 1
    last = run.stderr_lines[-1]
    assert "reason=DatabaseUnavailable" in last and "exit_code=1" in last
    assert "database unreachable: connection failed" in last
    assert "Connection refused" in last
    assert "Traceback" not in run.stderr
    assert objects(bucket) == [] and uploads(bucket) == []
