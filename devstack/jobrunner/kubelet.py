"""One attempt of a Job: create its Pod, then play the kubelet for it.

The Pod is created as the Job controller would (`pods.build_pod`); its container's env is
resolved from the Secrets, ConfigMaps and the Pod itself (retried while a reference is
missing, as the kubelet does: the Pod stays Pending with `CreateContainerConfigError`), its
command runs as a subprocess (`process.run_container`) and the Pod's status is written at
each step.

While it runs, the Pod is watched as the kubelet watches its pods: once it is marked for
deletion (an eviction: `DisruptionTarget` set, then `deletionTimestamp` with
`deletionGracePeriodSeconds`), the container gets SIGTERM, then SIGKILL after that grace
period; the final status keeps the API server's `DisruptionTarget` condition (phase
Failed, the container's exit code as it stopped: 143 or 137), and the Pod is then deleted
for good, as the kubelet does once a terminating pod's containers have stopped. The Job
controller (`runner`) applies the Job's podFailurePolicy to that outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from devstack.jobrunner import pods
from devstack.jobrunner.jobstatus import PodOutcome
from devstack.jobrunner.podenv import EnvError, expand, references, resolve_env
from devstack.jobrunner.process import EXIT_START_ERROR, ContainerResult, Stop, run_container
from devstack.jobrunner.quantity import parse_quantity
from devstack.kubeclient import (
    JSON,
    ApiError,
    ConfigMap,
    KubeClient,
    Pod,
    Secret,
    is_transient,
    status_code,
)

log = logging.getLogger("devstack.jobrunner")
T = TypeVar("T")


@dataclass(frozen=True)
class KubeletSettings:
    workdir: Path
    memory_method: str = "unknown"  # what MemoryCap uses on this machine (for the logs)
    config_retry_seconds: float = 1.0  # how often a missing Secret/ConfigMap is looked up again
    api_retry_seconds: float = 0.5  # pause before retrying a failed API call
    # Node-level defaults under every container's own env, standing in for what a cluster
    # would mount (e.g. STREAMEXPORT_CATALOG for the chart's catalog ConfigMap).
    container_env: Mapping[str, str] = field(default_factory=dict)


class Gone(Exception):
    """The object written (a Pod, its Job) or its namespace no longer exists (HTTP 404)."""


DISRUPTION_TARGET = "DisruptionTarget"


@dataclass
class Deletion:
    """What the kubelet saw of its pod's deletion: set once `deletionTimestamp` appears."""

    requested: bool = False
    grace_seconds: float | None = None
    # The conditions the API server added (DisruptionTarget), kept in every later write.
    conditions: list[JSON] = field(default_factory=list)

    @property
    def disrupted(self) -> bool:
        return any(
            c.get("type") == DISRUPTION_TARGET and c.get("status") == "True"
            for c in self.conditions
        )

    def observe(self, pod: Mapping[str, Any]) -> bool:
        """Record `pod` if it is marked for deletion; True then."""
        meta = pod.get("metadata") or {}
        if not meta.get("deletionTimestamp"):
            return False
        self.requested = True
        grace = meta.get("deletionGracePeriodSeconds")
        self.grace_seconds = None if grace is None else float(grace)
        self.conditions = [
            dict(c)
            for c in (pod.get("status") or {}).get("conditions") or []
            if c.get("type") == DISRUPTION_TARGET
        ]
        return True


async def run_pod(
    kube: KubeClient,
    job: Mapping[str, Any],
    attempt: int,
    *,
    settings: KubeletSettings,
    deadline: float | None,
    stop: Stop,
) -> PodOutcome | None:
    """Run one attempt to its end; None if it was stopped before its container could start,
    or its Pod disappeared."""
    namespace = job["metadata"]["namespace"]
    try:
        create = functools.partial(kube.create, pods.build_pod(job, attempt), namespace=namespace)
        pod = await call_api(create, settings, stop)
    except Gone:
        return None
    if pod is None:
        return None
    deletion = Deletion()
    pod_stop = Stop(parent=stop)  # this pod's deletion, or its Job's
    watcher = asyncio.create_task(_watch_deletion(kube, pod, settings, deletion, pod_stop))
    try:
        return await _run(kube, job, pod, settings, deadline, stop, pod_stop, deletion)
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


async def _run(
    kube: KubeClient,
    job: Mapping[str, Any],
    pod: JSON,
    settings: KubeletSettings,
    deadline: float | None,
    stop: Stop,
    pod_stop: Stop,
    deletion: Deletion,
) -> PodOutcome | None:
    namespace = pod["metadata"]["namespace"]
    name = pod["metadata"]["name"]
    container = pod["spec"]["containers"][0]
    container_name = str(container.get("name", ""))
    start = time.time()

    async def write(status: JSON) -> None:
        status = pods.with_conditions(status, deletion.conditions)
        with contextlib.suppress(Gone):  # e.g. collected with its deleted Job
            patch = functools.partial(
                kube.merge_patch, Pod.Status, name, {"status": status}, namespace=namespace
            )
            await call_api(patch, settings, stop)

    env = await _resolve_env(kube, pod, container, settings, deadline, pod_stop, write, start)
    if env is None and deletion.requested and not stop.is_set():
        await write(
            pods.pod_status(
                "Failed",
                container_name,
                pods.waiting_state("CreateContainerConfigError", "the pod was deleted"),
                start_time=start,
            )
        )
        await _remove(kube, pod, settings, stop)
        return _deleted_outcome(name, container_name, 0, "", deletion)
    if env is None:
        if stop.is_set() or deadline is None or time.monotonic() < deadline:
            return None
        outcome = PodOutcome(name, container_name, 0, "DeadlineExceeded")
        await write(
            pods.pod_status(
                "Failed",
                container_name,
                pods.waiting_state("CreateContainerConfigError", "stopped at the Job's deadline"),
                start_time=start,
                reason="DeadlineExceeded",
            )
        )
        return outcome
    if stop.is_set():
        return None  # deleted (or the runner stops) before the container started
    workdir = settings.workdir / namespace / name
    log.info(
        "job=%s pod=%s event=container-start workdir=%s", job["metadata"]["name"], name, workdir
    )
    await write(
        pods.pod_status("Running", container_name, pods.running_state(start), start_time=start)
    )
    result = await _run_container(pod, container, env, workdir, settings, deadline, pod_stop)
    # Written even when stopped: an orphaned Pod (Job deleted with propagation Orphan) stays.
    await write(pods.final_status(container_name, result, start))
    if deletion.requested and not stop.is_set():
        log.info(
            "job=%s pod=%s event=pod-deleted exit_code=%d disrupted=%s",
            job["metadata"]["name"],
            name,
            result.exit_code,
            deletion.disrupted,
        )
        await _remove(kube, pod, settings, stop)
        if result.reason == "Cancelled":  # stopped for the deletion, not ended by itself
            return _deleted_outcome(
                name, container_name, result.exit_code, result.message, deletion
            )
    return PodOutcome(
        name,
        container_name,
        result.exit_code,
        result.reason,
        result.message,
        conditions=(DISRUPTION_TARGET,) if deletion.disrupted else (),
    )


def _deleted_outcome(
    name: str, container: str, exit_code: int, message: str, deletion: Deletion
) -> PodOutcome:
    """A pod its deletion stopped: failed (its container's reason `Error`), disrupted if
    the API server said so (an eviction)."""
    conditions = (DISRUPTION_TARGET,) if deletion.disrupted else ()
    return PodOutcome(name, container, exit_code, "Error", message, conditions=conditions)


async def _remove(kube: KubeClient, pod: JSON, settings: KubeletSettings, stop: Stop) -> None:
    """Delete a terminating pod for good (grace 0) once its container has stopped."""
    meta = pod["metadata"]
    delete = functools.partial(
        kube.delete, Pod, meta["name"], namespace=meta["namespace"], grace_period=0
    )
    with contextlib.suppress(Gone):
        await call_api(delete, settings, stop)


async def _watch_deletion(
    kube: KubeClient, pod: JSON, settings: KubeletSettings, deletion: Deletion, pod_stop: Stop
) -> None:
    """Follow the pod (a watch by name, from its creation) until it is marked for deletion,
    then stop its container within the deletion's grace period. Ends when the pod is gone;
    after a watch error it reads the pod again and resumes from there."""
    meta = pod["metadata"]
    namespace, name, version = meta["namespace"], meta["name"], meta.get("resourceVersion")
    while True:
        try:
            events = kube.watch(
                Pod,
                namespace=namespace,
                resource_version=version,
                fields={"metadata.name": name},
            )
            async with contextlib.aclosing(events):
                async for kind, obj in events:
                    if kind == "DELETED":
                        return  # removed outright (e.g. with its Job): nothing to stop here
                    version = obj["metadata"].get("resourceVersion", version)
                    if deletion.observe(obj):
                        log.info(
                            "pod=%s event=deletion-requested grace_seconds=%s disrupted=%s",
                            name,
                            deletion.grace_seconds,
                            deletion.disrupted,
                        )
                        pod_stop.set(grace_cap=deletion.grace_seconds)
                        return
        except Exception as exc:  # a 410, the API server away: read the pod again
            log.warning("pod=%s event=pod-watch-retry error=%r", name, exc)
        await asyncio.sleep(settings.api_retry_seconds)
        try:
            current = await kube.get(Pod, name, namespace=namespace)
        except Exception as exc:
            if isinstance(exc, ApiError) and status_code(exc) == 404:
                return
            log.warning("pod=%s event=pod-read-retry error=%r", name, exc)
            continue
        version = current["metadata"].get("resourceVersion")
        if deletion.observe(current):
            pod_stop.set(grace_cap=deletion.grace_seconds)
            return


async def _run_container(
    pod: JSON,
    container: Mapping[str, Any],
    env: dict[str, str],
    workdir: Path,
    settings: KubeletSettings,
    deadline: float | None,
    stop: Stop,
) -> ContainerResult:
    limits = (container.get("resources") or {}).get("limits") or {}
    try:
        memory = parse_quantity(limits["memory"]) if "memory" in limits else None
    except ValueError as exc:
        now = time.time()
        return ContainerResult(EXIT_START_ERROR, "StartError", str(exc), now, now)
    log.info(
        "pod=%s event=memory-limit bytes=%s method=%s",
        pod["metadata"]["name"],
        memory,
        settings.memory_method if memory else "none",
    )
    command = [
        expand(str(part), env)
        for part in list(container.get("command") or []) + list(container.get("args") or [])
    ]
    return await run_container(
        name=pod["metadata"]["name"],
        command=command,
        env={**settings.container_env, **env},
        workdir=workdir,
        memory_limit=memory,
        deadline=deadline,
        stop=stop,
        grace_seconds=float(pod["spec"].get("terminationGracePeriodSeconds", 30)),
        fallback_to_logs=container.get("terminationMessagePolicy") == "FallbackToLogsOnError",
    )


async def _resolve_env(
    kube: KubeClient,
    pod: JSON,
    container: Mapping[str, Any],
    settings: KubeletSettings,
    deadline: float | None,
    stop: Stop,
    write: Callable[[JSON], Awaitable[None]],
    start: float,
) -> dict[str, str] | None:
    """The container's env, retried until its references resolve; None if stopped first."""
    namespace = pod["metadata"]["namespace"]
    reported = ""
    while True:
        try:
            objects = await _referenced(kube, namespace, container, settings, stop)
            return resolve_env(container, pod, objects)
        except EnvError as exc:
            error = str(exc)
        except Gone:
            return None
        if error != reported:
            log.warning("pod=%s event=config-error error=%s", pod["metadata"]["name"], error)
            reported = error
            await write(
                pods.pod_status(
                    "Pending",
                    str(container.get("name", "")),
                    pods.waiting_state("CreateContainerConfigError", error),
                    start_time=start,
                )
            )
        pause = settings.config_retry_seconds
        if deadline is not None:
            pause = min(pause, max(0.0, deadline - time.monotonic()))
            if pause <= 0:
                return None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)
        if stop.is_set():
            return None


async def _referenced(
    kube: KubeClient,
    namespace: str,
    container: Mapping[str, Any],
    settings: KubeletSettings,
    stop: Stop,
) -> dict[tuple[str, str], Mapping[str, Any] | None]:
    objects: dict[tuple[str, str], Mapping[str, Any] | None] = {}
    for kind, name in sorted(references(container)):
        res = Secret if kind == "secret" else ConfigMap
        try:
            objects[(kind, name)] = await call_api(
                functools.partial(kube.get, res, name, namespace=namespace), settings, stop
            )
        except Gone:
            objects[(kind, name)] = None  # a missing Secret is the Pod's problem, not gone
    return objects


async def call_api(
    call: Callable[[], Awaitable[T]], settings: KubeletSettings, stop: Stop
) -> T | None:
    """`call()`, retried while the API server is unreachable or failing; None if `stop` is
    set meanwhile. A 404 raises Gone; other client errors propagate."""
    while True:
        try:
            return await call()
        except ApiError as exc:
            if status_code(exc) == 404:
                raise Gone(str(exc)) from exc
            if not is_transient(exc):
                raise
            error: Exception = exc
        except Exception as exc:
            if not is_transient(exc):
                raise
            error = exc
        log.warning("event=api-retry error=%s", error)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.api_retry_seconds)
        if stop.is_set():
            return None
