"""Test helpers: create Exports as the API does, and play the Job controller and kubelet for
their Jobs step by step (the local Job runner's own pure pod and status builders, so both
write what Kubernetes writes), plus polling."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from typing import Any, TypeVar

import polling
from lightkube.resources.core_v1 import Event

from devstack.jobrunner.jobstatus import PodOutcome, decide, job_status, now_rfc3339
from devstack.jobrunner.pods import build_pod
from streamexport_operator.kube import Export, Job, KubeClient, Pod

T = TypeVar("T")
NAMESPACE = "default"


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, timeout: float = 15.0, interval: float = 0.05
) -> T:
    """`polling.eventually` with this suite's default deadline."""
    return await polling.eventually(probe, timeout=timeout, interval=interval)


def owner_label(user_id: str) -> str:
    return hashlib.sha256(user_id.encode()).hexdigest()[:40]


def export_manifest(
    *,
    name: str | None = None,
    user_id: str = "user-1",
    email: str = "alice@example.com",
    fmt: str = "csv",
    filters: dict[str, Any] | None = None,
    estimated_rows: int = 1000,
    resource_type: str = "TRANSACTIONS",
) -> dict[str, Any]:
    """An Export as the API creates it."""
    return {
        "apiVersion": "streamexport.io/v1",
        "kind": "Export",
        "metadata": {
            "name": name or str(uuid.uuid4()),
            "namespace": NAMESPACE,
            "labels": {
                "app.kubernetes.io/managed-by": "streamexport",
                "streamexport.io/owner": owner_label(user_id),
            },
        },
        "spec": {
            "resourceType": resource_type,
            "format": fmt,
            "filters": filters if filters is not None else {"startDate": "2024-01-01"},
            "requestedBy": {"userId": user_id, "email": email},
            "estimatedRowCount": estimated_rows,
        },
    }


async def create_export(kube: KubeClient, **kwargs: Any) -> dict[str, Any]:
    body = export_manifest(**kwargs)
    created = await kube.create(body, namespace=NAMESPACE)
    assert created is not None
    return created


async def get_export(kube: KubeClient, name: str) -> dict[str, Any]:
    export = await kube.get(Export, name, namespace=NAMESPACE)
    assert export is not None, f"export {name} is gone"
    return export


async def phase_is(kube: KubeClient, name: str, phase: str) -> dict[str, Any] | None:
    export = await get_export(kube, name)
    return export if (export.get("status") or {}).get("phase") == phase else None


async def list_jobs(kube: KubeClient) -> list[dict[str, Any]]:
    return await kube.list(Job, namespace=NAMESPACE)


async def wait_for_job(kube: KubeClient, name: str, timeout: float = 15.0) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        return await kube.get(Job, name, namespace=NAMESPACE)

    return await eventually(probe, timeout=timeout)


async def events_for(kube: KubeClient, name: str) -> list[dict[str, Any]]:
    events = await kube.list(Event, namespace=NAMESPACE)
    return [e for e in events if (e.get("involvedObject") or {}).get("name") == name]


def object_key_of(job: dict[str, Any], file_name: str = "transactions_2024-01-01.csv") -> str:
    """The key the exporter would write: the Job's key prefix and the file name it chooses."""
    env = job["spec"]["template"]["spec"]["containers"][0]["env"]
    prefix = next(e["value"] for e in env if e["name"] == "EXPORT_OBJECT_KEY_PREFIX")
    return f"{prefix}{file_name}"


def result_message(
    name: str,
    rows: int = 1234,
    size: int = 56789,
    key: str | None = None,
    file_name: str = "transactions_2024-01-01.csv",
    bucket: str = "exports",
) -> str:
    """The exporter's termination message on success."""
    return json.dumps(
        {
            "rows": rows,
            "bytes": size,
            "objectKey": key or f"exports/{NAMESPACE}/{name}/{file_name}",
            "format": "csv",
            "durationSeconds": 1.5,
            "checksum": "crc32:abcd1234",
            "bucket": bucket,
            "fileName": file_name,
        }
    )


class JobController:
    """Plays the Job controller and the kubelet for one Job, step by step."""

    def __init__(self, kube: KubeClient, name: str) -> None:
        self.kube = kube
        self.name = name
        self.outcomes: list[PodOutcome] = []
        self.start_time = now_rfc3339()
        self.pod: dict[str, Any] | None = None

    async def job(self) -> dict[str, Any]:
        job = await self.kube.get(Job, self.name, namespace=NAMESPACE)
        assert job is not None, f"job {self.name} is gone"
        return job

    async def run_pod(self) -> dict[str, Any]:
        """A new pod for the next attempt, running; the Job active."""
        job = await self.job()
        pod = await self.kube.create(build_pod(job, len(self.outcomes)), namespace=NAMESPACE)
        assert pod is not None
        self.pod = pod
        await self._pod_status(pod, "Running", {"running": {"startedAt": now_rfc3339()}})
        await self._job_status(job, active=1, decision=None)
        return pod

    async def end_pod(self, exit_code: int, reason: str, message: str = "") -> None:
        """The current pod's container ends; the Job decides as Kubernetes would."""
        assert self.pod is not None
        terminated = {
            "exitCode": exit_code,
            "reason": reason,
            "message": message,
            "startedAt": self.start_time,
            "finishedAt": now_rfc3339(),
        }
        phase = "Succeeded" if exit_code == 0 else "Failed"
        await self._pod_status(self.pod, phase, {"terminated": terminated})
        self.outcomes.append(
            PodOutcome(self.pod["metadata"]["name"], "exporter", exit_code, reason, message)
        )
        job = await self.job()
        decision = decide(job["spec"], self.outcomes)
        finished = decision.outcome != "run"
        await self._job_status(job, active=0, decision=decision if finished else None)

    async def succeed(self, message: str) -> None:
        await self.run_pod()
        await self.end_pod(0, "Completed", message)

    async def _pod_status(self, pod: dict[str, Any], phase: str, state: dict[str, Any]) -> None:
        meta = pod["metadata"]
        status = {
            "phase": phase,
            "containerStatuses": [
                {
                    "name": "exporter",
                    "state": state,
                    "ready": phase == "Running",
                    "restartCount": 0,
                    "image": "streamexport/exporter:test",
                    "imageID": "",
                    "started": phase == "Running",
                },
            ],
        }
        await self.kube.merge_patch(
            Pod.Status, meta["name"], {"status": status}, namespace=meta["namespace"]
        )

    async def _job_status(self, job: dict[str, Any], *, active: int, decision: Any) -> None:
        status = job_status(
            job["spec"], self.outcomes, start_time=self.start_time, active=active, decision=decision
        )
        await self.kube.merge_patch(
            Job.Status, self.name, {"status": status}, namespace=NAMESPACE
        )


async def wait_phase(
    kube: KubeClient, name: str, phase: str, timeout: float = 15.0
) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        return await phase_is(kube, name, phase)

    return await eventually(probe, timeout=timeout)


async def wait_events(
    kube: KubeClient, name: str, *reasons: str, timeout: float = 15.0
) -> list[dict[str, Any]]:
    """The export's Events once all `reasons` have been posted."""

    async def probe() -> list[dict[str, Any]] | None:
        events = await events_for(kube, name)
        seen = {e.get("reason") for e in events}
        return events if set(reasons) <= seen else None

    return await eventually(probe, timeout=timeout)


def plain_text(message: EmailMessage) -> str:
    """The text/plain part of a notification email."""
    part = message.get_body(("plain",))
    assert part is not None, "no text/plain part"
    return str(part.get_content())
