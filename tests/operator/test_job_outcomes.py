"""Driving the Job and its pods as Kubernetes would gives the right status, Events and emails;
the success email's link downloads the file."""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.request
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest
from jobsim import (
    JobController,
    create_export,
    eventually,
    object_key_of,
    plain_text,
    result_message,
    wait_events,
    wait_for_job,
    wait_phase,
)
from opharness import OperatorThread, SmtpServer

from devstack.services import free_port
from streamexport_operator.kube import KubeClient
from streamexport_operator.metrics import REGISTRY

Start = Callable[..., OperatorThread]
CONTENT = b"ID,Created At,Amount\n1,2024-01-01 00:00:00+00,12.50\n"


async def mail_for(smtp: SmtpServer, name: str) -> EmailMessage:
    async def probe() -> list[EmailMessage]:
        return [m for m in smtp.messages if name in plain_text(m)]

    [message] = await eventually(probe)
    return message


def finished(phase: str) -> float:
    value = REGISTRY.get_sample_value(
        "streamexport_exports_finished_total", {"phase": phase, "reason": ""}
    )
    return value or 0.0


async def test_running_then_complete_then_mailed_with_a_working_link(
    start_operator: Start, kube: KubeClient, smtp: SmtpServer, s3_client: Any, bucket: str
) -> None:
    metrics_port = free_port()
    completed_before = finished("COMPLETED")
    start_operator(metrics_port=metrics_port)
    export = await create_export(kube)
    name = export["metadata"]["name"]
    job = await wait_for_job(kube, name)
    key = object_key_of(job)
    s3_client.put_object(Bucket=bucket, Key=key, Body=CONTENT)

    controller = JobController(kube, name)
    await controller.run_pod()

    async def started() -> dict[str, Any] | None:
        status = (await wait_phase(kube, name, "PROCESSING"))["status"]
        return status if "startedAt" in status else None

    assert (await eventually(started))["startedAt"] == controller.start_time

    await controller.end_pod(
        0, "Completed", result_message(name, rows=1, size=len(CONTENT), key=key, bucket=bucket)
    )
    status = (await wait_phase(kube, name, "COMPLETED"))["status"]
    assert status["actualRowCount"] == status["rowsWritten"] == 1
    assert status["fileSizeBytes"] == len(CONTENT)
    assert status["objectKey"] == key
    assert status["checksum"] == "crc32:abcd1234"
    completed = dt.datetime.fromisoformat(status["completedAt"])
    assert dt.datetime.fromisoformat(status["expiresAt"]) - completed == dt.timedelta(days=7)
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "Completed")

    events = await wait_events(kube, name, "Processing", "Completed", "Notified")
    assert {e["type"] for e in events if e["reason"] == "Completed"} == {"Normal"}

    message = await mail_for(smtp, name)
    assert message["To"] == "alice@example.com"
    assert message["Subject"] == "Your TRANSACTIONS export is ready (1 row, CSV)"
    text = plain_text(message)
    assert f"https://exports.example.com/api/v1/exports/{name}" in text
    [url] = re.findall(r"(http://127\.0\.0\.1\S+X-Amz-Signature=[0-9a-f]+)", text)
    assert "X-Amz-Expires=60479" in url  # seven days (less the seconds already gone)
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - moto on loopback
        assert response.read() == CONTENT

    async def recorded() -> dict[str, Any] | None:
        note = (await wait_phase(kube, name, "COMPLETED"))["status"].get("notification") or {}
        return note if note.get("sentAt") else None

    note = await eventually(recorded)
    assert note["attempts"] == 1 and "lastError" not in note

    assert finished("COMPLETED") == completed_before + 1
    url = f"http://127.0.0.1:{metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
        exposition = response.read().decode()
    for metric in (
        "streamexport_exports_finished_total",
        "streamexport_export_duration_seconds",
        "streamexport_rows_exported_total",
        "streamexport_bytes_exported_total",
        "streamexport_queued_exports",
        "streamexport_running_exports",
        "streamexport_notification_failures_total",
    ):
        assert metric in exposition


FAILURE_WORDS = json.dumps(
    {
        "status": "failed",
        "exitCode": 2,
        "reason": "TooManyRows",
        "message": "the export has 600000 rows; the limit is 500000",
    }
)
RETRYABLE_WORDS = json.dumps(
    {
        "status": "failed",
        "exitCode": 1,
        "reason": "StorageError",
        "message": "S3 error: connection reset",
    }
)


@pytest.mark.parametrize(
    ("attempts", "exit_code", "container_reason", "words", "reason", "message_part"),
    [
        # 137 is retried (a kill from outside exits 137 too); the kubelet's reason names it.
        ([1, 2, 3], 137, "OOMKilled", "", "OOMKilled", "more memory than its limit (512Mi)"),
        ([1, 2, 3], 137, "Error", "", "Killed", "signal 9 (SIGKILL)"),
        ([1], 3, "Error", '{"message": "memory use 470 MiB reached 90%"}', "OutOfMemory", "470"),
        ([1], 143, "DeadlineExceeded", "", "DeadlineExceeded", "deadline of 3600 seconds"),
        ([1], 2, "Error", FAILURE_WORDS, "InvalidRequest", "the limit is 500000"),
        ([1, 2, 3], 1, "Error", RETRYABLE_WORDS, "BackoffLimitExceeded", "connection reset"),
    ],
    ids=["oom-killed", "killed", "out-of-memory", "deadline", "exit-2", "backoff-limit"],
)
async def test_a_failed_job_fails_the_export_with_a_typed_reason(
    start_operator: Start,
    kube: KubeClient,
    smtp: SmtpServer,
    attempts: list[int],
    exit_code: int,
    container_reason: str,
    words: str,
    reason: str,
    message_part: str,
) -> None:
    start_operator()
    export = await create_export(kube)
    name = export["metadata"]["name"]
    await wait_for_job(kube, name)
    controller = JobController(kube, name)
    for _ in attempts:  # exit 2 and 3 fail the Job at once: never retried blindly
        await controller.run_pod()
        await controller.end_pod(exit_code, container_reason, words)

    status = (await wait_phase(kube, name, "FAILED"))["status"]
    assert status["reason"] == reason
    assert message_part in status["message"]
    assert status["completedAt"]
    assert "expiresAt" not in status
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", reason)

    events = await wait_events(kube, name, "Failed")
    assert {e["type"] for e in events if e["reason"] == "Failed"} == {"Warning"}

    message = await mail_for(smtp, name)
    assert message["Subject"] == "Your TRANSACTIONS export failed"
    text = plain_text(message)
    assert reason in text and message_part in text
