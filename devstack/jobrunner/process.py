"""Run one container's command as a local subprocess, as the kubelet would run it in a pod.

The memory limit is enforced by a memory cgroup when one can be made (the kernel kills at
the limit, exactly as in Kubernetes, and the cgroup's OOM counter says so); otherwise by an
address-space rlimit, with `MALLOC_ARENA_MAX=2` so glibc's per-thread arenas do not exhaust
it; a process failing an allocation there exits with its own code (the exporter: 3), and
only a cgroup's OOM kill is reported as `OOMKilled` with exit code 137.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from devstack import pdeathsig
from devstack.memlimit import MemoryCap

TERMINATION_MESSAGE_LIMIT = 4096
FALLBACK_LOG_LINES = 80
FALLBACK_LOG_BYTES = 2048
EXIT_OOM_KILLED = 128 + signal.SIGKILL  # what Kubernetes reports for an OOM-killed container
EXIT_START_ERROR = 128  # containerd's exit code when the command cannot be started


@dataclass(frozen=True)
class ContainerResult:
    exit_code: int
    # Completed | Error | OOMKilled | StartError, or why the runner stopped it:
    # DeadlineExceeded | Cancelled
    reason: str
    message: str
    started_at: float
    finished_at: float


@dataclass
class Stop:
    """A request to stop running containers: SIGTERM, then SIGKILL after the grace period.

    `grace_cap` (seconds) shortens every container's grace period, e.g. when the runner
    itself shuts down and must not leave processes behind. A Stop with a `parent` (one pod's,
    under its Job's) is set when either is, and the shorter grace cap of the two applies.
    """

    event: asyncio.Event = field(default_factory=asyncio.Event)
    grace_cap: float | None = None
    parent: Stop | None = None

    def set(self, grace_cap: float | None = None) -> None:
        if grace_cap is not None:
            self.grace_cap = grace_cap if self.grace_cap is None else min(self.grace_cap, grace_cap)
        self.event.set()

    def is_set(self) -> bool:
        return self.event.is_set() or (self.parent is not None and self.parent.is_set())

    async def wait(self) -> None:
        if self.parent is None:
            await self.event.wait()
            return
        waiters = {
            asyncio.ensure_future(self.event.wait()),
            asyncio.ensure_future(self.parent.wait()),
        }
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def grace(self, grace_seconds: float) -> float:
        grace = grace_seconds if self.grace_cap is None else min(grace_seconds, self.grace_cap)
        return grace if self.parent is None else self.parent.grace(grace)


def local_command(command: list[str]) -> list[str]:
    """Run `python` from the image as this machine's interpreter (the venv's)."""
    if command and command[0] in ("python", "python3", "python3.11"):
        return [sys.executable, *command[1:]]
    return command


def _tail(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, path.stat().st_size - 64 * 1024))
            data = handle.read()
    except OSError:
        return ""
    lines = data.decode("utf-8", "replace").splitlines()[-FALLBACK_LOG_LINES:]
    return "\n".join(lines)[-FALLBACK_LOG_BYTES:]


def termination_message(path: Path, log: Path, exit_code: int, fallback_to_logs: bool) -> str:
    """The termination-message file; with FallbackToLogsOnError, the log's tail if it is empty
    and the container failed."""
    try:
        message = path.read_bytes()[:TERMINATION_MESSAGE_LIMIT].decode("utf-8", "replace")
    except OSError:
        message = ""
    if not message.strip() and exit_code != 0 and fallback_to_logs:
        message = _tail(log)
    return message.strip()


def memory_cap_method() -> str:
    """Which way memory limits are enforced on this machine (logged at start-up)."""
    with MemoryCap(512 * 2**20, name=f"jobrunner-probe-{uuid.uuid4().hex[:8]}") as cap:
        return cap.mode


async def run_container(
    *,
    name: str,
    command: list[str],
    env: dict[str, str],
    workdir: Path,
    memory_limit: int | None,
    deadline: float | None,
    stop: Stop,
    grace_seconds: float,
    fallback_to_logs: bool = False,
) -> ContainerResult:
    """Start the command and wait for it to end, the deadline (monotonic) or `stop`."""
    workdir.mkdir(parents=True, exist_ok=True)
    tmp = workdir / "tmp"
    tmp.mkdir(exist_ok=True)
    log = workdir / "container.log"
    message_file = workdir / "termination-log"
    message_file.write_bytes(b"")
    child_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        **env,
        # The local equivalents of the pod's mounts: /dev/termination-log and the /tmp emptyDir.
        "TERMINATION_MESSAGE_PATH": str(message_file),
        "TMPDIR": str(tmp),
    }
    started = time.time()
    if not command:
        return ContainerResult(
            EXIT_START_ERROR, "StartError", "no command: images are not run", started, started
        )
    argv = local_command(command)
    if shutil.which(argv[0], path=child_env["PATH"]) is None:  # before any wrapper hides it
        message = f"exec: {command[0]!r}: executable file not found in $PATH"
        return ContainerResult(EXIT_START_ERROR, "StartError", message, started, time.time())
    with contextlib.ExitStack() as stack:
        cap = None
        if memory_limit:
            # A unique cgroup per run: pod names repeat across namespaces and runners.
            cap = stack.enter_context(
                MemoryCap(memory_limit, name=f"jobrunner-{name}-{uuid.uuid4().hex[:8]}")
            )
            argv, child_env = cap.wrap(argv), cap.env(child_env)
        # A runner killed outright (SIGKILL) must not leave its containers running.
        argv = pdeathsig.launcher(os.getpid(), signal.SIGKILL, argv)
        try:
            with open(log, "ab") as log_handle:
                process = await asyncio.create_subprocess_exec(
                    *argv,
                    env=child_env,
                    cwd=str(workdir),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=log_handle,
                    stderr=log_handle,
                    start_new_session=True,
                )
        except OSError as exc:
            message = f"failed to start {command[0]!r}: {exc}"
            return ContainerResult(EXIT_START_ERROR, "StartError", message, started, time.time())
        try:
            stop_reason = await _wait(process, deadline, stop)
            if stop_reason is not None:
                await _terminate(process, stop, grace_seconds)
        finally:
            if process.returncode is None:  # cancelled: never leave the process behind
                _kill_group(process.pid)
                await process.wait()
            if cap is not None:
                await _empty_cgroup(cap)
        exit_code = _exit_code(process.returncode)
        oom = cap is not None and exit_code != 0 and _oom_killed(cap, log)
    finished = time.time()
    if oom:
        reason, exit_code = "OOMKilled", EXIT_OOM_KILLED
    elif stop_reason is not None:
        reason = stop_reason
    else:
        reason = "Completed" if exit_code == 0 else "Error"
    message = termination_message(message_file, log, exit_code, fallback_to_logs)
    return ContainerResult(exit_code, reason, message, started, finished)


def _exit_code(returncode: int | None) -> int:
    """Killed by a signal: reported as Kubernetes (and a shell) does, 128 + the signal."""
    code = -1 if returncode is None else returncode
    return 128 - code if code < 0 else code


def _oom_killed(cap: MemoryCap, log: Path) -> bool:
    """The cgroup's OOM counter: `OOMKilled` only when the kernel killed the process, as the
    kubelet says it. Under an rlimit nothing is killed; the process's own exit stands."""
    return cap.mode != "rlimit" and cap.oom_killed


async def _wait(
    process: asyncio.subprocess.Process, deadline: float | None, stop: Stop
) -> str | None:
    """None when the process ended by itself, else why it must be stopped."""
    waiter = asyncio.ensure_future(process.wait())
    stopper = asyncio.ensure_future(stop.wait())
    timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
    try:
        done, _ = await asyncio.wait(
            {waiter, stopper}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        stopper.cancel()
        waiter.cancel()
    if waiter in done:
        return None
    return "Cancelled" if stop.is_set() else "DeadlineExceeded"


async def _terminate(process: asyncio.subprocess.Process, stop: Stop, grace_seconds: float) -> None:
    """SIGTERM, then SIGKILL after the grace period, to the whole process group. The grace
    period is re-read while waiting: the runner shutting down may shorten it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    started = time.monotonic()
    while process.returncode is None:
        left = stop.grace(grace_seconds) - (time.monotonic() - started)
        if left <= 0:
            _kill_group(process.pid)
            await process.wait()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), min(left, 0.2))


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


async def _empty_cgroup(cap: MemoryCap, timeout: float = 5.0) -> None:
    """SIGKILL what is left in the cgroup (e.g. a child that started its own session) and
    wait for it to go, so that nothing outlives the pod and the cgroup can be removed."""
    if cap.path is None:
        return
    procs = cap.path / "cgroup.procs"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pids = [int(p) for p in procs.read_text().split()]
        except (OSError, ValueError):
            return
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.02)
