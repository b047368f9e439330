"""SMTP down, then up: the email is retried with backoff, delivered once, and the export stays
COMPLETED throughout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jobsim import JobController, create_export, eventually, get_export, result_message
from opharness import OperatorThread, SmtpServer

from streamexport_operator.kube import Job, KubeClient
from streamexport_operator.metrics import NOTIFICATION_FAILURES

Start = Callable[..., OperatorThread]


async def test_email_is_retried_until_the_relay_is_back_and_sent_once(
    start_operator: Start, kube: KubeClient, smtp: SmtpServer
) -> None:
    smtp.stop()
    failures_before = NOTIFICATION_FAILURES._value.get()
    start_operator()
    name = (await create_export(kube))["metadata"]["name"]

    async def job_exists() -> bool:
        return await kube.get(Job, name, namespace="default") is not None

    await eventually(job_exists)
    await JobController(kube, name).succeed(result_message(name))

    async def failed_attempt() -> dict[str, Any] | None:
        status = (await get_export(kube, name)).get("status") or {}
        note = status.get("notification") or {}
        if status.get("phase") != "COMPLETED":
            return None
        return note if note.get("attempts", 0) >= 1 and note.get("lastError") else None

    note = await eventually(failed_attempt)
    assert "Connection refused" in note["lastError"] or "Errno" in note["lastError"]
    assert "sentAt" not in note
    assert NOTIFICATION_FAILURES._value.get() > failures_before

    smtp.start()

    async def delivered() -> dict[str, Any] | None:
        status = (await get_export(kube, name))["status"]
        assert status["phase"] == "COMPLETED"  # never changed by the notification
        note = status.get("notification") or {}
        return note if note.get("sentAt") else None

    note = await eventually(delivered, timeout=20)
    assert note["attempts"] >= 2
    assert "lastError" not in note
    assert len(smtp.messages) == 1
