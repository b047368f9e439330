"""The local Job runner: plays the Job controller (and, through `kubelet`, the kubelet).

Development stand-in only. It lists and watches batch/v1 Jobs (re-listing whenever the
watch ends: its timeout, an expired resourceVersion, the API server restarting), runs each
Job that has not finished one Pod at a time (`kubelet.run_pod`), writes the Job's status as
the Job controller would (`jobstatus`), honours backoffLimit, podFailurePolicy and
activeDeadlineSeconds, and stops the Job's process (SIGTERM, then SIGKILL after the
grace period) when the Job is deleted. An evicted pod (`kubelet`: its container stopped
within the eviction's grace period, the `DisruptionTarget` condition kept) is a failed
pod like any other to the podFailurePolicy: the operator's `Ignore` rule on DisruptionTarget
leaves it out of `status.failed` and the backoffLimit, and the next pod starts.

Each Job (by uid) is run at most once by one runner: watch events that arrive late or a
re-list never start it again. Not supported: more than one container, init containers,
completions or parallelism above 1, suspending a running Job, and picking up a Job where
an earlier runner left off (a restarted runner runs an unfinished Job from its start).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2

from devstack.jobrunner import pods
from devstack.jobrunner.jobstatus import (
    DEADLINE_EXCEEDED,
    Decision,
    PodOutcome,
    decide,
    is_finished,
    job_status,
)
from devstack.jobrunner.kubelet import Gone, KubeletSettings, call_api, run_pod
from devstack.jobrunner.process import Stop, memory_cap_method
from devstack.kubeclient import JSON, ApiError, Job, KubeClient, status_code

log = logging.getLogger("devstack.jobrunner")
# What a list or watch can fail with: the API server down or restarting, or a bad answer.
API_ERRORS = (ApiError, httpx2.HTTPError, OSError, asyncio.TimeoutError, ValueError)


@dataclass
class _Run:
    task: asyncio.Task[None]
    stop: Stop


class JobRunner:
    """Run every Job of `namespace` (or of all namespaces) that has not finished."""

    def __init__(
        self,
        kube: KubeClient,
        *,
        workdir: Path,
        namespace: str | None = None,
        backoff_seconds: float = 1.0,
        watch_timeout_seconds: int = 300,
        shutdown_grace_seconds: float = 5.0,
        retry_seconds: float = 1.0,
        memory_method: str | None = None,
        container_env: Mapping[str, str] | None = None,
    ) -> None:
        self.kube = kube
        self.namespace = namespace
        self.backoff_seconds = backoff_seconds
        self.watch_timeout_seconds = watch_timeout_seconds
        self.shutdown_grace_seconds = shutdown_grace_seconds
        self.retry_seconds = retry_seconds
        self.settings = KubeletSettings(
            workdir=workdir,
            memory_method=memory_method or memory_cap_method(),
            config_retry_seconds=retry_seconds,
            api_retry_seconds=min(retry_seconds, 0.5),
            container_env=dict(container_env or {}),
        )
        self.lists = 0  # how often the Jobs were listed: once, then after each watch ended
        self._runs: dict[str, _Run] = {}  # by Job uid, while running
        self._started: set[str] = set()  # Job uids this runner has run (never run twice)

    # --- watching ---------------------------------------------------------------------------

    async def run(self) -> None:
        """List, then watch Jobs until cancelled; on the way out, stop every running Job's
        process within the shutdown grace period."""
        log.info(
            "event=start namespace=%s memory_method=%s workdir=%s",
            self.namespace or "*",
            self.settings.memory_method,
            self.settings.workdir,
        )
        try:
            while True:
                version = await self._list()
                if version is None:
                    await asyncio.sleep(self.retry_seconds)
                    continue
                await self._watch(version)
        finally:
            await self._shutdown()

    async def _list(self) -> str | None:
        """Consider every listed Job, stop those that vanished; the list's resourceVersion."""
        try:
            items, version = await self.kube.list_with_version(Job, namespace=self.namespace)
        except API_ERRORS as exc:
            log.warning("event=list-failed error=%r", exc)
            return None
        self.lists += 1
        present = {job["metadata"]["uid"] for job in items}
        for uid, run in list(self._runs.items()):
            if uid not in present:  # deleted while no watch was open
                log.info("job=%s event=stop reason=gone-from-list", run.task.get_name())
                run.stop.set()
        for job in items:
            self._consider(job)
        return version

    async def _watch(self, version: str) -> None:
        """Follow the Jobs from `version` for one watch period, then return (to list again)."""
        try:
            events = self.kube.watch(
                Job,
                namespace=self.namespace,
                resource_version=version,
                timeout_seconds=self.watch_timeout_seconds,
            )
            # lightkube re-opens a stream the server ended; a period of our own keeps the
            # periodic re-list (an informer's resync) that catches anything a watch missed.
            async with contextlib.aclosing(events), asyncio.timeout(self.watch_timeout_seconds):
                async for kind, job in events:
                    if kind == "DELETED" or (job.get("metadata") or {}).get("deletionTimestamp"):
                        self._stop(job, "deleted")
                    elif kind in ("ADDED", "MODIFIED"):
                        self._consider(job)
        except TimeoutError:
            return  # the period ended: list again
        except ApiError as exc:
            if status_code(exc) == 410:  # the version is too old: list again at once
                log.info("event=watch-expired status=%s", exc.status.message)
                return
            log.warning("event=watch-failed error=%r", exc)
            await asyncio.sleep(self.retry_seconds)
        except API_ERRORS as exc:
            log.warning("event=watch-failed error=%r", exc)
            await asyncio.sleep(self.retry_seconds)

    def _consider(self, job: JSON) -> None:
        meta = job["metadata"]
        uid = meta["uid"]
        if uid in self._started or is_finished(job) or meta.get("deletionTimestamp"):
            return
        if (job.get("spec") or {}).get("suspend"):
            return
        self._started.add(uid)
        stop = Stop()
        name = f"{meta['namespace']}/{meta['name']}"
        task = asyncio.create_task(self._run_job(job, stop), name=name)
        self._runs[uid] = _Run(task, stop)
        task.add_done_callback(lambda _: self._runs.pop(uid, None))

    def _stop(self, job: Mapping[str, Any], reason: str) -> None:
        run = self._runs.get((job.get("metadata") or {}).get("uid", ""))
        if run is not None and not run.stop.is_set():
            log.info("job=%s event=stop reason=%s", run.task.get_name(), reason)
            run.stop.set()

    async def _shutdown(self) -> None:
        runs = list(self._runs.values())
        for run in runs:
            run.stop.set(grace_cap=self.shutdown_grace_seconds)
        if runs:
            log.info("event=shutdown stopping=%d", len(runs))
            await asyncio.gather(*(run.task for run in runs), return_exceptions=True)

    # --- one Job ----------------------------------------------------------------------------

    async def _run_job(self, job: JSON, stop: Stop) -> None:
        try:
            await self._attempts(job, stop)
        except Gone:
            log.info("job=%s event=gone", job["metadata"]["name"])
        except Exception:
            log.exception("job=%s event=runner-error", job["metadata"]["name"])

    async def _attempts(self, job: JSON, stop: Stop) -> None:
        """Pods, one after another, until the Job completes or fails; then its final status."""
        meta, spec = job["metadata"], job["spec"]
        name = meta["name"]
        if int(spec.get("completions") or 1) != 1 or int(spec.get("parallelism") or 1) != 1:
            log.warning("job=%s event=unsupported completions/parallelism: running 1 pod", name)
        start_text = (job.get("status") or {}).get("startTime")
        started = pods.parse_time(start_text)
        if start_text is None or started is None:
            started = time.time()
            start_text = pods.rfc3339(started)
        deadline = None
        if spec.get("activeDeadlineSeconds") is not None:
            elapsed = max(0.0, time.time() - started)
            deadline = time.monotonic() + float(spec["activeDeadlineSeconds"]) - elapsed
        outcomes: list[PodOutcome] = []
        while True:
            if deadline is not None and time.monotonic() >= deadline:
                decision = DEADLINE_EXCEEDED
                break
            if not await self._status(job, outcomes, start_text, 1, None, stop):
                return
            outcome = await run_pod(
                self.kube,
                job,
                len(outcomes),
                settings=self.settings,
                deadline=deadline,
                stop=stop,
            )
            if outcome is None or outcome.reason == "Cancelled" or stop.is_set():
                return  # the Job is gone (or the runner stops): no status to write
            outcomes.append(outcome)
            decision = decide(spec, outcomes)
            log.info(
                "job=%s event=pod-ended pod=%s exit_code=%d reason=%s conditions=%s decision=%s",
                name,
                outcome.pod_name,
                outcome.exit_code,
                outcome.reason,
                ",".join(outcome.conditions) or "-",
                decision.outcome,
            )
            if decision.outcome != "run":
                break
            if not await self._status(job, outcomes, start_text, 0, None, stop):
                return
            pause = self.backoff_seconds * len(outcomes)  # Kubernetes: 10 s, doubling
            if deadline is not None:
                pause = min(pause, max(0.0, deadline - time.monotonic()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
            if stop.is_set():
                return
        if await self._status(job, outcomes, start_text, 0, decision, stop):
            log.info(
                "job=%s event=finished outcome=%s reason=%s",
                name,
                decision.outcome,
                decision.reason or "-",
            )

    async def _status(
        self,
        job: JSON,
        outcomes: Sequence[PodOutcome],
        start_time: str,
        active: int,
        decision: Decision | None,
        stop: Stop,
    ) -> bool:
        """Write the Job's status; False if the Job is gone or the runner stops meanwhile."""
        meta = job["metadata"]
        status = job_status(
            job["spec"], outcomes, start_time=start_time, active=active, decision=decision
        )
        try:
            written = await call_api(
                functools.partial(
                    self.kube.merge_patch,
                    Job.Status,
                    meta["name"],
                    {"status": status},
                    namespace=meta["namespace"],
                ),
                self.settings,
                stop,
            )
        except Gone:
            return False
        return written is not None
