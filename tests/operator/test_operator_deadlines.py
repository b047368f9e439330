"""Every outbound call of the operator has a deadline: an S3 that stops answering (a fault
proxy holding the traffic, as `kill -STOP` on moto would) and a mail relay that is paused
with SIGSTOP end each attempt within the setting's timeout; the handler is retried and
nothing changes the export's phase."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jobsim import JobController, create_export, eventually, get_export, wait_for_job, wait_phase
from opharness import OperatorThread
from test_orphan_uploads import cleanup_failures, object_key_of, open_upload

from devstack.faultproxy import FaultProxy
from devstack.services import MotoThread, free_port, wait_for_port
from streamexport_operator.kube import KubeClient

Start = Callable[..., OperatorThread]


async def test_a_hung_s3_fails_the_attempt_within_the_timeout(
    start_operator: Start, kube: KubeClient, s3_server: MotoThread, s3_client: Any, bucket: str
) -> None:
    failures_before = cleanup_failures()
    with FaultProxy((s3_server.host, s3_server.port)) as proxy:
        start_operator(s3_endpoint_url=proxy.url, s3_timeout_seconds=1.0)
        name = (await create_export(kube))["metadata"]["name"]
        key = object_key_of(await wait_for_job(kube, name))
        open_upload(s3_client, bucket, key)
        proxy.hold()
        controller = JobController(kube, name)
        for _ in range(3):
            await controller.run_pod()
            await controller.end_pod(137, "OOMKilled")
        await wait_phase(kube, name, "FAILED")
        started = time.monotonic()

        async def failed_once() -> bool:
            return cleanup_failures() > failures_before

        # 1 s per try, 3 tries (botocore's standard mode), and some slack; not 60 s x 3.
        await eventually(failed_once, timeout=15)
        assert time.monotonic() - started < 15
        assert (await get_export(kube, name))["status"]["phase"] == "FAILED"
        proxy.release()


@pytest.fixture
def paused_relay(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """devstack's mail sink as its own process, so that SIGSTOP pauses it."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devstack.mailsink",
            "--port",
            str(port),
            "--dir",
            str(tmp_path / "m"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port("127.0.0.1", port)
        os.kill(process.pid, signal.SIGSTOP)
        yield process, port
    finally:
        os.kill(process.pid, signal.SIGCONT)
        process.kill()  # its SMTP sessions may still hold a graceful stop: none needed here
        process.wait(10)


async def test_a_paused_mail_relay_fails_the_attempt_within_the_smtp_timeout(
    start_operator: Start, kube: KubeClient, paused_relay: tuple[subprocess.Popen[bytes], int]
) -> None:
    _, port = paused_relay
    start_operator(smtp_port=port, smtp_timeout_seconds=1.0)
    name = (await create_export(kube))["metadata"]["name"]
    await wait_for_job(kube, name)
    controller = JobController(kube, name)
    await controller.run_pod()
    await controller.end_pod(2, "Error", '{"message": "bad"}')
    await wait_phase(kube, name, "FAILED")
    started = time.monotonic()

    async def attempt_failed() -> dict[str, Any] | None:
        note = (await get_export(kube, name))["status"].get("notification") or {}
        return note if note.get("lastError") else None

    note = await eventually(attempt_failed, timeout=15)
    assert time.monotonic() - started < 15
    assert "timed out" in note["lastError"].lower() or "timeout" in note["lastError"].lower()
    assert "sentAt" not in note
