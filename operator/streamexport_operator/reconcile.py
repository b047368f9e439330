"""Bringing one Export's status in line with its Job and pods, and admitting queued exports.

The I/O around the pure pieces: `status.export_status`, `jobs.build_job`, `admission.admit`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

import kopf

from streamexport_core.timestamps import parse_time
from streamexport_operator import metrics
from streamexport_operator.admission import Candidate, admit, admit_for_kueue
from streamexport_operator.exports import (
    CANCELLED,
    COMPLETED,
    EXPORT_LABEL,
    FAILED,
    TERMINAL_PHASES,
    Body,
    Key,
    as_body,
    cancel_requested,
    is_deleting,
    is_terminal,
    phase_of,
)
from streamexport_operator.jobs import build_job
from streamexport_operator.kube import Export, Job, Pod
from streamexport_operator.logs import export_logger
from streamexport_operator.runtime import Runtime
from streamexport_operator.status import (
    export_status,
    job_is_finished,
    status_patch,
)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def reconcile(runtime: Runtime, namespace: str, name: str) -> None:
    """Recompute the Export's status from the world and write what changed."""
    logger = export_logger(namespace, name)
    async with runtime.lock((namespace, name)):
        kube = runtime.kube
        export = await kube.get(Export, name, namespace=namespace)
        if export is None or is_deleting(export):
            return
        job = await kube.get(Job, name, namespace=namespace)
        pods = await job_pods(runtime, job) if job is not None and job_is_finished(job) else []
        desired = export_status(export, job, pods, utcnow(), runtime.settings)
        if (
            desired["phase"] == CANCELLED
            and job is not None
            and not job_is_finished(job)
            and not is_deleting(job)
        ):
            # Foreground: the Job is gone only once its pods are; the exporter gets SIGTERM
            # and aborts its multipart upload.
            await kube.delete(Job, name, namespace=namespace, propagation="Foreground")
            logger.info("job deleted reason=cancel-requested propagation=Foreground")
        current = export.get("status") or {}
        patch = status_patch(current, desired)
        if not patch:
            return
        updated = await kube.merge_patch(
            Export.Status, name, {"status": patch}, namespace=namespace
        )
        before, after = phase_of(export), desired["phase"]
        if before != after:
            announce(updated, before, after, logger)


async def job_pods(runtime: Runtime, job: Body) -> list[Body]:
    """The Job's pods (by our label, then by owner uid, so an older Job's leftovers never count)."""
    meta = job["metadata"]
    pods = await runtime.kube.list(
        Pod, namespace=meta["namespace"], labels={EXPORT_LABEL: meta["name"]}
    )
    uid = meta.get("uid")
    return [
        pod
        for pod in pods
        if not uid
        or any(
            ref.get("uid") == uid for ref in pod.get("metadata", {}).get("ownerReferences") or []
        )
    ]


def announce(
    export: Body, before: str | None, after: str, logger: logging.LoggerAdapter[Any]
) -> None:
    """A Kubernetes Event, a log line and the metrics for one phase change."""
    status = export.get("status") or {}
    reason = str(status.get("reason") or "")
    message = _phase_message(after, status)
    kind = "Warning" if after == FAILED else "Normal"
    kopf.event(as_body(export), type=kind, reason=after.title(), message=message)
    logger.info("phase changed from=%s to=%s reason=%s", before or "-", after, reason or "-")
    if after in TERMINAL_PHASES:
        started, ended = parse_time(status.get("startedAt")), parse_time(status.get("completedAt"))
        duration = (ended - started).total_seconds() if started and ended else None
        metrics.record_final(
            after,
            reason,
            duration,
            rows=int(status.get("actualRowCount") or 0) if after == COMPLETED else 0,
            size_bytes=int(status.get("fileSizeBytes") or 0) if after == COMPLETED else 0,
        )


def _phase_message(phase: str, status: Mapping[str, Any]) -> str:
    if phase == COMPLETED:
        return (
            f"Exported {status.get('actualRowCount', '?')} rows, "
            f"{status.get('fileSizeBytes', '?')} bytes, to {status.get('objectKey', '?')}."
        )
    if phase == FAILED:
        return f"{status.get('reason', 'Failed')}: {status.get('message', '')}".strip()
    return str(status.get("message") or f"Job {status.get('jobName', '')}".strip())


async def run_admission(
    runtime: Runtime,
    pending: Mapping[Key, Candidate],
    jobs: Mapping[Key, tuple[str, bool]],
) -> None:
    """Start the queued exports that fit under the limits now.

    `pending` comes from the Export index (exports not finished, not cancelled), `jobs` from
    the Job index (owner, finished). Jobs created here count as running until the Job index
    shows them, so two passes never overbook a slot.
    """
    async with runtime.admission_lock:
        runtime.prune_inflight(confirmed=set(jobs), pending=set(pending))
        running = [owner for owner, finished in jobs.values() if not finished]
        running += [owner for owner, _ in runtime.inflight.values()]
        queued = [
            c for key, c in pending.items() if key not in jobs and key not in runtime.inflight
        ]
        settings = runtime.settings
        if settings.kueue_queue_name:
            chosen = admit_for_kueue(queued)
        else:
            chosen = admit(
                queued,
                running,
                max_running=settings.max_running_exports,
                max_per_owner=settings.max_running_exports_per_owner,
            )
        metrics.QUEUE_DEPTH.set(len(queued) - len(chosen))
        metrics.RUNNING.set(len(running) + len(chosen))
        for candidate in chosen:
            if await start_export(runtime, candidate.namespace, candidate.name):
                runtime.note_inflight((candidate.namespace, candidate.name), candidate.owner)


async def start_export(runtime: Runtime, namespace: str, name: str) -> bool:
    """Create the export's Job; True when it exists afterwards ("already exists" included)."""
    logger = export_logger(namespace, name)
    async with runtime.lock((namespace, name)):
        export = await runtime.kube.get(Export, name, namespace=namespace)
        if export is None or is_deleting(export) or is_terminal(export) or cancel_requested(export):
            return False
        # A spec the catalog rejects gets its Job too: the exporter exits 2 and the Job fails
        # as InvalidRequest, so the spec is validated by the one program that uses it.
        job = build_job(export, runtime.settings)
        created = await runtime.kube.create(job, namespace=namespace)
        logger.info("job %s", "created" if created else "already exists")
        return True
