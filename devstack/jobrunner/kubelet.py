"""One attempt of a Job: create its Pod, then play the kubelet for it.

The Pod is created as the Job controller would (`pods.build_pod`); its container's env is
resolved from the Secrets, ConfigMaps and the Pod itself (retried while a reference is
missing, as the kubelet does: the Pod stays Pending with `CreateContainerConfigError`), its
command runs as a subprocess (`process.run_container`) and the Pod's status is written at
each step.
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
    name = pod["metadata"]["name"]
    container = pod["spec"]["containers"][0]
    container_name = str(container.get("name", ""))
    start = time.time()

    async def write(status: JSON) -> None:
        with contextlib.suppress(Gone):  # e.g. collected with its deleted Job
            patch = functools.partial(
                kube.merge_patch, Pod.Status, name, {"status": status}, namespace=namespace
            )
            await call_api(patch, settings, stop)

    env = await _resolve_env(kube, pod, container, settings, deadline, stop, write, start)
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
    result = await _run_container(pod, container, env, workdir, settings, deadline, stop)
    # Written even when stopped: an orphaned Pod (Job deleted with propagation Orphan) stays.
    await write(pods.final_status(container_name, result, start))
    return PodOutcome(name, container_name, result.exit_code, result.reason, result.message)


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
