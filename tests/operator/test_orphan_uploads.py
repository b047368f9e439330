"""An exporter killed without a chance to clean up (OOM, the deadline's SIGKILL, a cancel past
its grace period) leaves its multipart upload open; the operator aborts it once the export is
FAILED or CANCELLED and its pods have ended, and an S3 outage only delays that."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from jobsim import (
    NAMESPACE,
    JobController,
    create_export,
    eventually,
    get_export,
    object_key_of,
    wait_for_job,
    wait_phase,
)
from opharness import OperatorThread

from devstack.faultproxy import FaultProxy
from devstack.services import MotoThread
from streamexport_operator.kube import Export, Job, KubeClient
from streamexport_operator.metrics import REGISTRY
from streamexport_operator.uploads import abort_incomplete_uploads

Start = Callable[..., OperatorThread]
CANCEL = "streamexport.io/cancel-requested"


def open_upload(s3_client: Any, bucket: str, key: str) -> str:
    """A multipart upload with one part, as an exporter killed mid-upload leaves it."""
    upload_id = str(s3_client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"])
    s3_client.upload_part(
        Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"x" * 1024
    )
    return upload_id


def open_uploads(s3_client: Any, bucket: str, prefix: str = "") -> list[str]:
    listing = s3_client.list_multipart_uploads(Bucket=bucket, Prefix=prefix)
    return [upload["Key"] for upload in listing.get("Uploads") or []]


async def cleanup_recorded(kube: KubeClient, name: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        status = (await get_export(kube, name)).get("status") or {}
        cleanup = status.get("uploadCleanup") or {}
        return cleanup if cleanup.get("doneAt") else None

    return await eventually(probe)


def cleanup_failures() -> float:
    return REGISTRY.get_sample_value("streamexport_upload_cleanup_failures_total") or 0.0


def test_aborting_covers_every_upload_under_the_prefix_and_is_idempotent(
    s3_client: Any, bucket: str
) -> None:
    prefix = f"exports/{NAMESPACE}/{uuid.uuid4()}/"
    for _ in range(3):  # e.g. one per retried attempt, all at the same key
        open_upload(s3_client, bucket, prefix + "transactions.csv")
    open_upload(s3_client, bucket, prefix.rstrip("/") + "0/transactions.csv")  # not under it

    assert abort_incomplete_uploads(s3_client, bucket, prefix) == 3
    assert abort_incomplete_uploads(s3_client, bucket, prefix) == 0
    assert open_uploads(s3_client, bucket, prefix) == []
    assert len(open_uploads(s3_client, bucket)) == 1


async def test_an_oom_killed_export_leaves_no_open_upload(
    start_operator: Start, kube: KubeClient, s3_client: Any, bucket: str
) -> None:
    start_operator()
    name = (await create_export(kube))["metadata"]["name"]
    key = object_key_of(await wait_for_job(kube, name))
    open_upload(s3_client, bucket, key)
    # Another export's upload in progress: not this export's to abort.
    other = f"exports/{NAMESPACE}/{uuid.uuid4()}/transactions.csv"
    open_upload(s3_client, bucket, other)

    controller = JobController(kube, name)
    for _ in range(3):  # a kernel OOM kill is retried within backoffLimit (2)
        await controller.run_pod()
        await controller.end_pod(137, "OOMKilled")
    status = (await wait_phase(kube, name, "FAILED"))["status"]
    assert status["reason"] == "OOMKilled"

    cleanup = await cleanup_recorded(kube, name)
    assert cleanup["abortedUploads"] == 1
    assert open_uploads(s3_client, bucket, key) == []
    assert open_uploads(s3_client, bucket) == [other]
    assert (await get_export(kube, name))["status"]["phase"] == "FAILED"


async def test_a_cancelled_export_leaves_no_open_upload_once_its_pod_is_gone(
    start_operator: Start, kube: KubeClient, s3_client: Any, bucket: str
) -> None:
    start_operator()
    name = (await create_export(kube))["metadata"]["name"]
    key = object_key_of(await wait_for_job(kube, name))
    await JobController(kube, name).run_pod()
    await wait_phase(kube, name, "PROCESSING")
    open_upload(s3_client, bucket, key)

    await kube.merge_patch(
        Export, name, {"metadata": {"annotations": {CANCEL: "now"}}}, namespace=NAMESPACE
    )
    await wait_phase(kube, name, "CANCELLED")
    await cleanup_recorded(kube, name)
    # Aborted only after the pod ended.
    assert await kube.get(Job, name, namespace=NAMESPACE) is None
    assert open_uploads(s3_client, bucket, key) == []


async def test_an_s3_outage_delays_the_abort_and_never_changes_the_phase(
    start_operator: Start,
    kube: KubeClient,
    s3_server: MotoThread,
    s3_client: Any,
    bucket: str,
) -> None:
    failures_before = cleanup_failures()
    with FaultProxy((s3_server.host, s3_server.port)) as proxy:
        start_operator(s3_endpoint_url=proxy.url)
        name = (await create_export(kube))["metadata"]["name"]
        key = object_key_of(await wait_for_job(kube, name))
        open_upload(s3_client, bucket, key)
        proxy.cut()

        controller = JobController(kube, name)
        for _ in range(3):  # a kernel OOM kill is retried within backoffLimit (2)
            await controller.run_pod()
            await controller.end_pod(137, "OOMKilled")
        await wait_phase(kube, name, "FAILED")

        async def failed_once() -> bool:
            return cleanup_failures() > failures_before

        await eventually(failed_once, timeout=30)
        status = (await get_export(kube, name))["status"]
        assert status["phase"] == "FAILED"
        assert "uploadCleanup" not in status
        assert open_uploads(s3_client, bucket, key) == [key]

        proxy.restore()
        cleanup = await cleanup_recorded(kube, name)
        assert cleanup["abortedUploads"] == 1
        assert open_uploads(s3_client, bucket, key) == []
        assert (await get_export(kube, name))["status"]["phase"] == "FAILED"
