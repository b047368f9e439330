"""Cancel deletes the Job and ends CANCELLED; retention deletes the Export and its file."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import botocore.exceptions  # type: ignore[import-untyped]
import pytest
from jobsim import (
    NAMESPACE,
    JobController,
    create_export,
    eventually,
    list_jobs,
    now_rfc3339,
    object_key_of,
    result_message,
    wait_events,
    wait_for_job,
    wait_phase,
)
from opharness import OperatorThread, SmtpServer

from streamexport_core.clock import shifted
from streamexport_operator.kube import Export, Job, KubeClient, Pod
from streamexport_operator.settings import Settings

Start = Callable[..., OperatorThread]
CANCEL = "streamexport.io/cancel-requested"


async def request_cancel(kube: KubeClient, name: str) -> None:
    await kube.merge_patch(
        Export, name, {"metadata": {"annotations": {CANCEL: now_rfc3339()}}}, namespace=NAMESPACE
    )


async def test_cancelling_a_running_export_deletes_its_job(
    start_operator: Start, kube: KubeClient, smtp: SmtpServer
) -> None:
    start_operator()
    name = (await create_export(kube))["metadata"]["name"]
    await wait_for_job(kube, name)
    await JobController(kube, name).run_pod()
    await wait_phase(kube, name, "PROCESSING")

    await request_cancel(kube, name)

    async def job_gone() -> bool:
        return await kube.get(Job, name, namespace=NAMESPACE) is None

    await eventually(job_gone)
    # Foreground propagation: the Job went only with its pods (Orphan would leave them).
    pods = await kube.list(Pod, namespace=NAMESPACE, labels={"streamexport.io/export": name})
    assert pods == []
    status = (await wait_phase(kube, name, "CANCELLED"))["status"]
    assert status["reason"] == "Cancelled"
    assert status["completedAt"]
    await wait_events(kube, name, "Cancelled")
    assert smtp.messages == []  # only COMPLETED and FAILED are mailed


async def test_cancelling_a_queued_export_means_it_never_starts(
    start_operator: Start, kube: KubeClient
) -> None:
    start_operator(max_running_exports=1)
    first, second = sorted(str(uuid.uuid4()) for _ in range(2))
    await create_export(kube, name=first)
    await create_export(kube, name=second)
    await wait_for_job(kube, first)
    await wait_phase(kube, second, "QUEUED")

    await request_cancel(kube, second)
    await wait_phase(kube, second, "CANCELLED")
    await JobController(kube, first).succeed(result_message(first))
    await wait_phase(kube, first, "COMPLETED")
    # Sync point: a third export takes the freed slot; the cancelled one never did.
    third = (await create_export(kube))["metadata"]["name"]
    await wait_for_job(kube, third)
    assert {j["metadata"]["name"] for j in await list_jobs(kube)} == {first, third}


async def test_retention_deletes_the_object_and_the_export(
    start_operator: Start, kube: KubeClient, s3_client: Any, bucket: str
) -> None:
    # The default retention (30 days), seen by an operator whose clock runs 31 days ahead.
    start_operator(clock=shifted(31 * 86400), retention_seconds=Settings.retention_seconds)
    name = (await create_export(kube))["metadata"]["name"]
    job = await wait_for_job(kube, name)
    key = object_key_of(job)
    s3_client.put_object(Bucket=bucket, Key=key, Body=b"id\n1\n")
    await JobController(kube, name).succeed(result_message(name, key=key, bucket=bucket))
    # Due at once (it completed 31 days ago by that clock): the COMPLETED Export may be gone
    # before a poll sees it; retention only ever deletes finished exports.

    async def export_gone() -> bool:
        return await kube.get(Export, name, namespace=NAMESPACE) is None

    await eventually(export_gone)
    with pytest.raises(botocore.exceptions.ClientError, match="404"):
        s3_client.head_object(Bucket=bucket, Key=key)

    async def job_collected() -> bool:  # owner-reference garbage collection
        return await kube.get(Job, name, namespace=NAMESPACE) is None

    await eventually(job_collected)
