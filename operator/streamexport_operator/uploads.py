"""Aborting the multipart uploads an exporter could not abort itself (SIGKILL: OOM, the
deadline's kill, a cancel past the grace period), once its export is FAILED or CANCELLED.

DESIGN: failed exports leave no orphan parts. The exporter aborts its upload on any failure it
survives; this covers the ones it does not. The abort waits until no pod of the export's Job
can still be running, so no exporter starts a new upload after the listing. Recorded in
`status.uploadCleanup`; S3 errors are retried (kopf.TemporaryError) and never touch the phase.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import kopf
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from streamexport_core.timestamps import format_time
from streamexport_operator import metrics
from streamexport_operator.exports import (
    CANCELLED,
    FAILED,
    Body,
    is_deleting,
    phase_of,
)
from streamexport_operator.jobs import export_prefix
from streamexport_operator.kube import ApiError, Export, Job
from streamexport_operator.logs import export_logger
from streamexport_operator.reconcile import job_pods, utcnow
from streamexport_operator.runtime import Runtime
from streamexport_operator.status import job_is_finished

MAX_RETRY_DELAY = 300.0
POD_ENDED = ("Succeeded", "Failed")


def needs_upload_cleanup(export: Body) -> bool:
    """FAILED or CANCELLED after a Job was created (none, no upload), and not cleaned up yet."""
    status = export.get("status") or {}
    return (
        phase_of(export) in (FAILED, CANCELLED)
        and bool(status.get("jobName"))
        and not (status.get("uploadCleanup") or {}).get("doneAt")
    )


def exporter_may_run(job: Body | None, pods: Sequence[Body]) -> bool:
    """True while the Job may still start a pod, or one of its pods has not ended."""
    if job is None:
        return False
    if not job_is_finished(job) and not is_deleting(job):
        return True
    return any((pod.get("status") or {}).get("phase") not in POD_ENDED for pod in pods)


def retry_delay(retry: int) -> float:
    """2, 4, 8 … seconds after the 1st, 2nd, 3rd failure; at most five minutes."""
    return min(2.0 ** (retry + 1), MAX_RETRY_DELAY)


def abort_incomplete_uploads(s3: Any, bucket: str, prefix: str) -> int:
    """Abort every incomplete multipart upload under `prefix`; how many this call aborted.
    Blocking (boto3): run it off the event loop."""
    aborted = 0
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix):
        for upload in page.get("Uploads") or []:
            try:
                s3.abort_multipart_upload(
                    Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "NoSuchUpload":
                    raise
                continue  # aborted or completed meanwhile: nothing left to free
            aborted += 1
    return aborted


async def clean_up(runtime: Runtime, namespace: str, name: str, retry: int) -> None:
    """Abort the export's incomplete uploads unless the Export (read fresh) says it is done.

    Returns quietly while the exporter may still run (the timer calls again); raises
    `kopf.TemporaryError` after an S3 error. The phase is never touched.
    """
    logger = export_logger(namespace, name)
    async with runtime.lock((namespace, name)):
        export = await runtime.kube.get(Export, name, namespace=namespace)
        if export is None or not needs_upload_cleanup(export):
            return
        job = await runtime.kube.get(Job, name, namespace=namespace)
        if exporter_may_run(job, await job_pods(runtime, job) if job is not None else []):
            logger.debug("upload cleanup waits for the exporter's pod to end")
            return
        prefix = export_prefix(namespace, name)
        bucket = runtime.settings.s3_bucket
        try:
            aborted = await asyncio.to_thread(abort_incomplete_uploads, runtime.s3, bucket, prefix)
        except (BotoCoreError, ClientError) as error:
            metrics.UPLOAD_CLEANUP_FAILURES.inc()
            delay = retry_delay(retry)
            logger.warning(
                "upload cleanup failed prefix=%s retry_in=%.0fs error=%s", prefix, delay, error
            )
            raise kopf.TemporaryError(f"uploads not aborted: {error}", delay=delay) from error
        metrics.UPLOADS_ABORTED.inc(aborted)
        record = {"doneAt": format_time(utcnow()), "abortedUploads": aborted}
        try:
            await runtime.kube.merge_patch(
                Export.Status, name, {"status": {"uploadCleanup": record}}, namespace=namespace
            )
        except ApiError as error:
            if error.status.code != 404:  # deleted meanwhile (retention): nothing to record
                raise
        logger.info("upload cleanup done prefix=%s aborted=%d", prefix, aborted)
