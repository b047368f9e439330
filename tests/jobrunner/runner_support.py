"""Helpers for the runner's tests: the runner on its own thread or as a subprocess, Job
manifests whose container is a small `python -c` script, and polling with deadlines."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import polling
import psutil  # type: ignore[import-untyped]  # no types-psutil in the env

from devstack.jobrunner.runner import JobRunner
from devstack.kubeclient import JSON, Job, KubeClient, Pod

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "default"


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, timeout: float = 10.0, interval: float = 0.05
) -> T:
    """`polling.eventually` with this suite's default deadline."""
    return await polling.eventually(probe, timeout=timeout, interval=interval)


def job_manifest(
    name: str,
    script: str,
    *,
    env: dict[str, str] | None = None,
    env_from: list[JSON] | None = None,
    backoff_limit: int = 0,
    memory: str | None = None,
    deadline: int | None = None,
    grace: int | None = None,
    pod_failure_policy: JSON | None = None,
    labels: dict[str, str] | None = None,
) -> JSON:
    """A batch/v1 Job running `python -c <script>` in a container named `main`."""
    container: JSON = {
        "name": "main",
        "image": "python:3.11-slim",
        "command": ["python", "-c", textwrap.dedent(script)],
        "env": [{"name": k, "value": v} for k, v in (env or {}).items()] + (env_from or []),
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }
    if memory:
        container["resources"] = {"limits": {"memory": memory}, "requests": {"memory": memory}}
    pod_spec: JSON = {"restartPolicy": "Never", "containers": [container]}
    if grace is not None:
        pod_spec["terminationGracePeriodSeconds"] = grace
    spec: JSON = {
        "backoffLimit": backoff_limit,
        "template": {"metadata": {"labels": labels or {}}, "spec": pod_spec},
    }
    if deadline is not None:
        spec["activeDeadlineSeconds"] = deadline
    if pod_failure_policy is not None:
        spec["podFailurePolicy"] = pod_failure_policy
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": spec}


async def create_job(kube: KubeClient, manifest: JSON) -> JSON:
    return await kube.create(manifest, namespace=NAMESPACE)


async def get_job(kube: KubeClient, name: str) -> JSON:
    return await kube.get(Job, name, namespace=NAMESPACE)


def finished_condition(job: JSON) -> tuple[str, str] | None:
    """(type, reason) of the Job's Complete or Failed condition, if it has one."""
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition["type"] in ("Complete", "Failed") and condition["status"] == "True":
            return condition["type"], condition["reason"]
    return None


async def wait_finished(kube: KubeClient, name: str, timeout: float = 15.0) -> JSON:
    async def probe() -> JSON | None:
        job = await get_job(kube, name)
        return job if finished_condition(job) else None

    return await eventually(probe, timeout=timeout)


async def pods_of(kube: KubeClient, job: JSON) -> list[JSON]:
    """The Job's pods, oldest attempt first."""
    labels = {"controller-uid": job["metadata"]["uid"]}
    found = await kube.list(Pod, namespace=NAMESPACE, labels=labels)
    return sorted(
        found, key=lambda p: int(p["metadata"]["annotations"]["devstack.streamexport.io/attempt"])
    )


def terminated(pod: JSON) -> JSON:
    state = pod["status"]["containerStatuses"][0]["state"]
    assert "terminated" in state, state
    result: JSON = state["terminated"]
    return result


async def read_pid(path: Path, spawned: list[int], timeout: float = 10.0) -> int:
    """The pid a script wrote (atomically, by rename) into `path`; added to `spawned`."""

    async def probe() -> int | None:
        return int(path.read_text()) if path.exists() else None

    pid = await eventually(probe, timeout=timeout)
    spawned.append(pid)
    return pid


def process_gone(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


async def wait_process_gone(pid: int, timeout: float) -> float:
    """Wait (at most `timeout`) for the process to end; how long that took."""
    start = time.monotonic()

    async def probe() -> bool:
        return process_gone(pid)

    await eventually(probe, timeout=timeout)
    return time.monotonic() - start


WRITE_PID = """
import os, pathlib
state = pathlib.Path(os.environ["STATE_DIR"])
(state / "pid.tmp").write_text(str(os.getpid()))
(state / "pid.tmp").rename(state / "pid")
"""


class RunnerThread:
    """`JobRunner` on its own thread and event loop, with its own KubeClient."""

    def __init__(self, url: str, workdir: Path, **options: Any) -> None:
        self.url = url
        self.workdir = workdir
        self.options = {"backoff_seconds": 0.1, "retry_seconds": 0.2, **options}
        self.runner: JobRunner | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._error: BaseException | None = None

    def start(self) -> RunnerThread:
        self._thread.start()
        assert self._ready.wait(10), "the runner did not start"
        return self

    def stop(self, timeout: float = 15.0) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the runner did not stop"
        if self._error is not None:
            raise self._error

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        try:
            async with KubeClient(self.url) as kube:
                self.runner = JobRunner(kube, workdir=self.workdir, **self.options)
                task = asyncio.create_task(self.runner.run())
                self._ready.set()
                stopping = asyncio.create_task(self._stopping.wait())
                await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        except BaseException as exc:  # reported by stop()
            self._error = exc
        finally:
            self._ready.set()


class RunnerProcess:
    """`python -m devstack.jobrunner` as a subprocess, its output in `log`."""

    def __init__(self, url: str, workdir: Path, *extra: str) -> None:
        self.log = workdir / "runner.log"
        self.command = [
            sys.executable,
            "-m",
            "devstack.jobrunner",
            "--kube-url",
            url,
            "--workdir",
            str(workdir / "pods"),
            "--backoff-seconds",
            "0.1",
            *extra,
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RunnerProcess:
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, as the stack's supervisor sends it; the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"the runner ignored SIGTERM:\n{self.output()}") from None
