"""The Pod objects the Job controller creates and the statuses the kubelet writes: pure.

`runner.py` and `kubelet.py` do the I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from devstack.jobrunner.process import ContainerResult

JSON = dict[str, Any]
ATTEMPT_ANNOTATION = "devstack.streamexport.io/attempt"
# What the container's terminated state says for each way a run can end (the runner's own
# reasons, DeadlineExceeded and Cancelled, are a SIGTERM/SIGKILL for the container: Error).
CONTAINER_REASONS = {"Completed", "Error", "OOMKilled", "StartError"}


def rfc3339(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def job_labels(job: Mapping[str, Any]) -> dict[str, str]:
    """The labels the Job controller puts on its pods (legacy and `batch.kubernetes.io/`)."""
    meta = job["metadata"]
    return {
        "batch.kubernetes.io/controller-uid": meta["uid"],
        "batch.kubernetes.io/job-name": meta["name"],
        "controller-uid": meta["uid"],
        "job-name": meta["name"],
    }


def build_pod(job: Mapping[str, Any], attempt: int) -> JSON:
    """The Pod the Job controller would create for one attempt (named `<job>-<random>`)."""
    meta = job["metadata"]
    template = job["spec"]["template"]
    template_meta = template.get("metadata") or {}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": f"{meta['name']}-",
            "namespace": meta["namespace"],
            "labels": {**(template_meta.get("labels") or {}), **job_labels(job)},
            "annotations": {
                **(template_meta.get("annotations") or {}),
                ATTEMPT_ANNOTATION: str(attempt),
            },
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {**template["spec"], "nodeName": "localhost"},
    }


def pod_status(
    phase: str,
    container: str,
    state: JSON,
    *,
    start_time: float,
    reason: str | None = None,
    message: str | None = None,
) -> JSON:
    """A Pod's `status` with its single container in `state` (waiting/running/terminated)."""
    running = phase == "Running" and "running" in state
    status: JSON = {
        "phase": phase,
        "hostIP": "127.0.0.1",
        "podIP": "127.0.0.1",
        "startTime": rfc3339(start_time),
        "conditions": [
            _condition("PodScheduled", True, start_time),
            _condition("Ready", running, start_time),
            _condition("ContainersReady", running, start_time),
        ],
        "containerStatuses": [
            {
                "name": container,
                "state": state,
                "ready": running,
                "started": running,
                "restartCount": 0,
                "image": "local",
                "imageID": "local",
            }
        ],
    }
    if reason:
        status["reason"] = reason
    if message:
        status["message"] = message
    return status


def waiting_state(reason: str, message: str) -> JSON:
    return {"waiting": {"reason": reason, "message": message}}


def running_state(started_at: float) -> JSON:
    return {"running": {"startedAt": rfc3339(started_at)}}


def terminated_state(result: ContainerResult) -> JSON:
    reason = result.reason if result.reason in CONTAINER_REASONS else "Error"
    if reason == "Error" and result.exit_code == 0:
        reason = "Completed"  # stopped, but it exited 0 on SIGTERM
    terminated: JSON = {
        "exitCode": result.exit_code,
        "reason": reason,
        "startedAt": rfc3339(result.started_at),
        "finishedAt": rfc3339(result.finished_at),
    }
    if result.message:
        terminated["message"] = result.message
    return {"terminated": terminated}


def final_status(container: str, result: ContainerResult, start_time: float) -> JSON:
    """The Pod's status once its container ended: Succeeded only if it completed by itself."""
    succeeded = result.reason == "Completed" and result.exit_code == 0
    pod_reason = message = None
    if result.reason == "DeadlineExceeded":
        pod_reason, message = "DeadlineExceeded", "Job was active longer than specified deadline"
    return pod_status(
        "Succeeded" if succeeded else "Failed",
        container,
        terminated_state(result),
        start_time=start_time,
        reason=pod_reason,
        message=message,
    )


def with_conditions(status: JSON, conditions: Sequence[Mapping[str, Any]]) -> JSON:
    """`status` with `conditions` it does not own added (e.g. the API server's
    DisruptionTarget, which every later kubelet write must keep: a merge patch replaces the
    whole list)."""
    if not conditions:
        return status
    kinds = {c.get("type") for c in conditions}
    own = [c for c in status.get("conditions") or [] if c.get("type") not in kinds]
    return {**status, "conditions": [*own, *(dict(c) for c in conditions)]}


def _condition(kind: str, status: bool, moment: float) -> dict[str, str]:
    return {"type": kind, "status": str(status), "lastTransitionTime": rfc3339(moment)}
