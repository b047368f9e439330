"""An Export's status as a pure function of the world: the Export, its Job and the Job's pods.

Kubebuilder's rule: status must be reconstructible from the state of the world. Nothing here
remembers anything; a terminal phase is the only thing kept, because the Job that proved it
is deleted later (ttlSecondsAfterFinished) and the record must outlive it.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from streamexport_core.contract import EXIT_OUT_OF_MEMORY
from streamexport_core.timestamps import format_time, parse_time
from streamexport_operator.exports import (
    CANCELLED,
    COMPLETED,
    FAILED,
    PROCESSING,
    QUEUED,
    TERMINAL_PHASES,
    Body,
    cancel_requested,
)
from streamexport_operator.jobs import CONTAINER_NAME, EXIT_INVALID_REQUEST
from streamexport_operator.settings import Settings

# Status fields this operator writes; `rowsWritten`/`progressPercentage` belong to the
# exporter while it runs and `notification` to the notifier.
OWNED_FIELDS = (
    "phase",
    "jobName",
    "startedAt",
    "completedAt",
    "expiresAt",
    "reason",
    "message",
    "actualRowCount",
    "fileSizeBytes",
    "objectKey",
    "fileName",
    "checksum",
    "conditions",
    "observedGeneration",
)
# Set from the exporter's result once COMPLETED; never removed (the exporter writes them first).
RESULT_FIELDS = ("rowsWritten", "progressPercentage")
MAX_MESSAGE_LENGTH = 1024

OOM_KILLED = "OOMKilled"  # the kubelet's word: the kernel's OOM killer ended the container
OUT_OF_MEMORY = "OutOfMemory"  # the exporter's memory guard stopped it first (exit 3)
KILLED = "Killed"  # a signal from outside: kill -9, preemption, a node going away
EVICTED = "Evicted"
DEADLINE_EXCEEDED = "DeadlineExceeded"
INVALID_REQUEST = "InvalidRequest"
BACKOFF_LIMIT_EXCEEDED = "BackoffLimitExceeded"


@dataclass(frozen=True)
class Termination:
    """How the exporter's container ended in one pod."""

    exit_code: int
    reason: str
    message: str
    # The pod's own `status.reason` (e.g. Evicted) and whether it was a DisruptionTarget.
    pod_reason: str = ""
    pod_message: str = ""
    disrupted: bool = False


def export_status(
    export: Body,
    job: Body | None,
    pods: Sequence[Body],
    now: dt.datetime,
    settings: Settings,
) -> dict[str, Any]:
    """The operator-owned status fields (see OWNED_FIELDS) the Export should have now."""
    current = dict(export.get("status") or {})
    generation = (export.get("metadata") or {}).get("generation")
    if current.get("phase") in TERMINAL_PHASES:
        return {name: current[name] for name in OWNED_FIELDS if name in current}
    pods = sort_pods(pods)
    if job is None:
        if cancel_requested(export):
            status = _cancelled(now, "The export was cancelled before it started.")
        else:
            status = {"phase": QUEUED, "message": "Waiting for a free export slot."}
    else:
        status = _from_job(export, job, pods, now, settings)
    status["conditions"] = conditions_for(status, current.get("conditions") or [], now, generation)
    if generation is not None:
        status["observedGeneration"] = generation
    return status


def _from_job(
    export: Body, job: Body, pods: Sequence[Body], now: dt.datetime, settings: Settings
) -> dict[str, Any]:
    job_status = job.get("status") or {}
    name = job["metadata"]["name"]
    status: dict[str, Any] = {"jobName": name}
    started = job_status.get("startTime")
    if started:
        status["startedAt"] = started
    complete = job_condition(job, "Complete")
    failed = job_condition(job, "Failed")
    if complete is not None:
        completed_at = (
            parse_time(job_status.get("completionTime"))
            or parse_time(complete.get("lastTransitionTime"))
            or now
        )
        status.update(phase=COMPLETED, completedAt=format_time(completed_at))
        status["expiresAt"] = format_time(
            completed_at + dt.timedelta(seconds=settings.export_expiry_seconds)
        )
        status.update(_result(pods))
        return status
    if failed is not None:
        failed_at = parse_time(failed.get("lastTransitionTime")) or now
        reason, message = failure_reason(failed, pods, settings)
        status.update(
            phase=FAILED, completedAt=format_time(failed_at), reason=reason, message=message
        )
        return status
    if cancel_requested(export):
        status.update(_cancelled(now, "The export was cancelled while it ran."))
        return status
    if (job.get("spec") or {}).get("suspend") and not job_status.get("active"):
        # Kueue has not admitted it yet (or suspended it): it waits, it does not run.
        status.update(phase=QUEUED, message="Waiting for Kueue to admit the Job.")
        return status
    status["phase"] = PROCESSING
    return status


def _cancelled(now: dt.datetime, message: str) -> dict[str, Any]:
    return {
        "phase": CANCELLED,
        "completedAt": format_time(now),
        "reason": "Cancelled",
        "message": message,
    }


def _result(pods: Sequence[Body]) -> dict[str, Any]:
    """The exporter's result, from the termination message of the pod that succeeded: the
    exporter names the object, so its key is known only from here."""
    result: dict[str, Any] = {}
    succeeded = [t for t in map(termination_of, pods) if t is not None and t.exit_code == 0]
    if not succeeded:
        return result
    try:
        message = json.loads(succeeded[-1].message)
    except ValueError:
        return result
    if not isinstance(message, dict):
        return result
    fields = {
        "rows": "actualRowCount",
        "bytes": "fileSizeBytes",
        "objectKey": "objectKey",
        "checksum": "checksum",
        "fileName": "fileName",
    }
    for source, target in fields.items():
        value = message.get(source)
        if value is not None:
            result[target] = value
    if isinstance(result.get("actualRowCount"), int):
        result.update(rowsWritten=result["actualRowCount"], progressPercentage=100)
    return result


def failure_reason(
    failed: Mapping[str, Any], pods: Sequence[Body], settings: Settings
) -> tuple[str, str]:
    """(reason, message) for a failed Job: the typed reason and the exporter's last words."""
    job_reason = str(failed.get("reason") or "")
    terminations = [t for t in map(termination_of, pods) if t is not None and t.exit_code != 0]
    last = terminations[-1] if terminations else None
    last_words = exporter_message(last.message) if last else ""
    if job_reason == DEADLINE_EXCEEDED:
        return DEADLINE_EXCEEDED, (
            f"The export ran longer than its deadline of "
            f"{settings.job_active_deadline_seconds} seconds."
        )
    if last is not None and last.reason == OOM_KILLED:
        return OOM_KILLED, (
            f"The exporter was killed for using more memory than its limit "
            f"({settings.job_memory_limit}) on {len(terminations)} attempt(s)."
        )
    if last is not None and last.exit_code == EXIT_OUT_OF_MEMORY:
        return OUT_OF_MEMORY, last_words or (
            f"The exporter stopped near its memory limit ({settings.job_memory_limit})."
        )
    if (last is not None and last.exit_code == EXIT_INVALID_REQUEST) or (
        job_reason == "PodFailurePolicy"
    ):
        return INVALID_REQUEST, last_words or str(failed.get("message") or "Invalid request.")
    if last is not None and (last.pod_reason == EVICTED or last.disrupted):
        return EVICTED, _truncate(last.pod_message or "The exporter's pod was evicted.")
    if last is not None and last.exit_code > 128:
        return KILLED, _killed_message(last.exit_code - 128, len(terminations))
    if job_reason == BACKOFF_LIMIT_EXCEEDED:
        return BACKOFF_LIMIT_EXCEEDED, last_words or str(failed.get("message") or "")
    return job_reason or "Failed", last_words or str(failed.get("message") or "")


def _killed_message(signum: int, attempts: int) -> str:
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = "unknown"
    return (
        f"The exporter was stopped from outside by signal {signum} ({name}) "
        f"on {attempts} attempt(s), e.g. a preemption, a node drain or a manual kill."
    )


def exporter_message(raw: str) -> str:
    """The human part of a termination message: its JSON `message`/`error`, else the text's tail."""
    text = raw.strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        for field in ("message", "error"):
            if isinstance(parsed.get(field), str) and parsed[field]:
                return _truncate(parsed[field])
    return _truncate(text, tail=True)


def _truncate(text: str, *, tail: bool = False) -> str:
    if len(text) <= MAX_MESSAGE_LENGTH:
        return text
    return "…" + text[-MAX_MESSAGE_LENGTH + 1 :] if tail else text[: MAX_MESSAGE_LENGTH - 1] + "…"


def termination_of(pod: Body) -> Termination | None:
    """The exporter container's terminated state in `pod`, if it has ended."""
    pod_status = pod.get("status") or {}
    statuses = pod_status.get("containerStatuses") or []
    disrupted = any(
        c.get("type") == "DisruptionTarget" and c.get("status") == "True"
        for c in pod_status.get("conditions") or []
    )
    for container in statuses:
        if container.get("name") != CONTAINER_NAME:
            continue
        terminated = (container.get("state") or {}).get("terminated")
        if terminated:
            return Termination(
                exit_code=int(terminated.get("exitCode", -1)),
                reason=str(terminated.get("reason") or ""),
                message=str(terminated.get("message") or ""),
                pod_reason=str(pod_status.get("reason") or ""),
                pod_message=str(pod_status.get("message") or ""),
                disrupted=disrupted,
            )
    return None


def sort_pods(pods: Sequence[Body]) -> list[Body]:
    """Oldest first, so the last one is the latest attempt."""

    def key(pod: Body) -> tuple[str, str]:
        meta = pod.get("metadata") or {}
        return str(meta.get("creationTimestamp") or ""), str(meta.get("name") or "")

    return sorted(pods, key=key)


def job_condition(job: Body, kind: str) -> Mapping[str, Any] | None:
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind and condition.get("status") == "True":
            return dict(condition)
    return None


def job_is_finished(job: Body) -> bool:
    return job_condition(job, "Complete") is not None or job_condition(job, "Failed") is not None


def conditions_for(
    status: Mapping[str, Any],
    previous: Sequence[Mapping[str, Any]],
    now: dt.datetime,
    generation: int | None,
) -> list[dict[str, Any]]:
    """`Admitted` and `Ready` conditions per the API conventions; a condition's
    lastTransitionTime moves only when its status flips."""
    phase = status["phase"]
    admitted = "jobName" in status
    admitted_reason = "JobCreated" if admitted else "Cancelled" if phase == CANCELLED else "Queued"
    admitted_message = (
        f"Job {status['jobName']} created." if admitted else str(status.get("message") or "")
    )
    ready_reason = {
        QUEUED: "Queued",
        PROCESSING: "Processing",
        COMPLETED: "Completed",
        CANCELLED: "Cancelled",
    }.get(phase) or str(status.get("reason") or "Failed")
    ready_message = (
        f"{status.get('actualRowCount', 0)} rows, {status.get('fileSizeBytes', 0)} bytes."
        if phase == COMPLETED
        else str(status.get("message") or phase.title())
    )
    return [
        set_condition(
            previous, "Admitted", admitted, admitted_reason, admitted_message, now, generation
        ),
        set_condition(
            previous, "Ready", phase == COMPLETED, ready_reason, ready_message, now, generation
        ),
    ]


def set_condition(
    previous: Sequence[Mapping[str, Any]],
    kind: str,
    value: bool,
    reason: str,
    message: str,
    now: dt.datetime,
    generation: int | None,
) -> dict[str, Any]:
    text = "True" if value else "False"
    before = next((c for c in previous if c.get("type") == kind), {})
    since = before.get("lastTransitionTime") if before.get("status") == text else None
    condition: dict[str, Any] = {
        "type": kind,
        "status": text,
        "reason": reason,
        "message": message,
        "lastTransitionTime": since or format_time(now),
    }
    if generation is not None:
        condition["observedGeneration"] = generation
    return condition


def status_patch(current: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON merge patch of `status` turning the owned fields of `current` into `desired`;
    empty when nothing changes."""
    patch: dict[str, Any] = {}
    for name in OWNED_FIELDS:
        if name in desired and current.get(name) != desired[name]:
            patch[name] = desired[name]
        elif name not in desired and name in current:
            patch[name] = None
    for name in RESULT_FIELDS:
        if name in desired and current.get(name) != desired[name]:
            patch[name] = desired[name]
    return patch
