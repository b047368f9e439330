"""Stop the export before the kernel's OOM killer does, with an exit code of our own.

A container killed by the OOM killer exits 137, exactly like one killed by `kill -9`, a
preemption or a node drain, so a podFailurePolicy rule on 137 cannot tell "will never fit"
from "try again" (Kubernetes sets no pod condition for OOM). This guard reads the container's
own memory cgroup (v2 `memory.current`/`memory.max`, or v1) every POLL_SECONDS and, when the
working set (usage minus inactive page cache, as the kubelet counts it) reaches
GUARD_FRACTION of the limit, raises `MemoryLimitReached` in the main thread: the upload is
aborted on the way out and the process exits EXIT_OUT_OF_MEMORY, which the Job fails on at
once. A spike faster than one poll still meets the kernel; that 137 is retried and reported
from the kubelet's `OOMKilled` reason.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Self

GUARD_FRACTION = 0.9
POLL_SECONDS = 0.1
RETRY_SECONDS = 0.05  # after a signal that could not raise (see MemoryGuard)
CGROUP_ROOT = Path("/sys/fs/cgroup")
# cgroup v1 writes "no limit" as a page-rounded 2**63 - 1.
_UNLIMITED = 2**62
_MIB = 1024 * 1024


class MemoryLimitReached(BaseException):
    """Raised in the main thread; a BaseException so that no `except Exception` swallows it."""


@dataclass(frozen=True)
class CgroupMemory:
    """The files of one memory cgroup that say its usage and limit."""

    usage: Path
    limit: Path
    stat: Path
    inactive_key: str

    def limit_bytes(self) -> int | None:
        text = self.limit.read_text().strip()
        if text == "max":
            return None
        value = int(text)
        return None if value >= _UNLIMITED else value

    def working_set_bytes(self) -> int:
        usage = int(self.usage.read_text())
        inactive = 0
        for line in self.stat.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == self.inactive_key:
                inactive = int(value)
        return max(0, usage - inactive)


def find_cgroup(proc_self_cgroup: str, root: Path = CGROUP_ROOT) -> CgroupMemory | None:
    """This process's memory cgroup from `/proc/self/cgroup`; v1's memory controller wins
    on a hybrid host because it is the one that enforces the limit there."""
    v2: CgroupMemory | None = None
    for line in proc_self_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        relative = path.lstrip("/")
        if "memory" in controllers.split(","):
            base = root / "memory" / relative
            if (base / "memory.limit_in_bytes").exists():
                return CgroupMemory(
                    base / "memory.usage_in_bytes",
                    base / "memory.limit_in_bytes",
                    base / "memory.stat",
                    "total_inactive_file",
                )
        elif hierarchy == "0" and controllers == "":
            base = root / relative
            if (base / "memory.max").exists():
                v2 = CgroupMemory(
                    base / "memory.current",
                    base / "memory.max",
                    base / "memory.stat",
                    "inactive_file",
                )
    return v2


def over_limit(working_set: int, limit: int, fraction: float = GUARD_FRACTION) -> bool:
    return working_set >= fraction * limit


class MemoryGuard:
    """A daemon thread watching one cgroup; `start()` returns None when there is no limit.

    The exception is raised asynchronously, from a signal handler, wherever the main thread
    happens to be, so two places are avoided:

    - frozen bootstrap code (importlib): a raise between its `_imp.acquire_lock()` and its
      `try` leaves the global import lock held, and every other thread that imports (the S3
      client's) then hangs. Seen: a raise inside importlib's module-lock weakref callback
      left the S3 client "not ready after 60 s" and the export failed as a StorageError.
    - callbacks whose exceptions the interpreter ignores (weakref callbacks, `__del__`):
      the raise is printed as "Exception ignored" and lost. `sys.unraisablehook` sees it
      and asks for another.

    In both cases the watcher signals again RETRY_SECONDS later, until the exception is
    raised in ordinary code; after that, never again (the cleanup must run).
    """

    def __init__(self, cgroup: CgroupMemory, limit: int, *, poll: float = POLL_SECONDS) -> None:
        self.cgroup, self.limit, self.poll = cgroup, limit, poll
        self.reason: str | None = None
        self.deferred = 0  # signals that found the main thread where it must not raise
        self._stop = threading.Event()
        self._pending = threading.Event()  # set: the exception is still to be raised
        self._thread = threading.Thread(target=self._watch, name="memguard", daemon=True)
        self._previous_hook = sys.unraisablehook

    @classmethod
    def start(cls, *, poll: float = POLL_SECONDS) -> MemoryGuard | None:
        """Watch this process's memory cgroup (main thread only); None without a limit."""
        try:
            cgroup = find_cgroup(Path("/proc/self/cgroup").read_text())
            limit = cgroup.limit_bytes() if cgroup is not None else None
        except (OSError, ValueError):
            return None
        if cgroup is None or limit is None:
            return None
        return cls(cgroup, limit, poll=poll).install()

    def install(self) -> Self:
        """The SIGUSR1 handler, the unraisable hook and the watcher (main thread only)."""
        signal.signal(signal.SIGUSR1, self._raise)
        sys.unraisablehook = self._unraisable
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._pending.set()  # wakes the watcher if it waits for a pending raise

    def _watch(self) -> None:
        while not self._stop.wait(self.poll):
            try:
                used = self.cgroup.working_set_bytes()
            except (OSError, ValueError):
                continue
            if over_limit(used, self.limit):
                self.reason = (
                    f"memory use {used // _MIB} MiB reached {GUARD_FRACTION:.0%} of the "
                    f"{self.limit // _MIB} MiB limit; the exporter stopped itself"
                )
                self._pending.set()
                break
        while True:
            self._pending.wait()
            if self._stop.is_set():
                return
            with contextlib.suppress(OSError):
                os.kill(os.getpid(), signal.SIGUSR1)
            if self._stop.wait(RETRY_SECONDS):
                return

    def _raise(self, signum: int, frame: FrameType | None) -> None:
        if not self._pending.is_set():
            return  # raised already: let the cleanup run
        if frame is not None and not raises_safely_in(frame):
            self.deferred += 1
            return  # still pending: the watcher signals again
        self._pending.clear()
        raise MemoryLimitReached(self.reason or "memory limit reached")

    def _unraisable(self, unraisable: Any) -> None:
        self._previous_hook(unraisable)
        if isinstance(unraisable.exc_value, MemoryLimitReached):
            self._pending.set()  # swallowed where it was raised: raise it again elsewhere


def raises_safely_in(frame: FrameType) -> bool:
    """Whether an exception may be raised in `frame`, the code a signal interrupted: not in
    frozen bootstrap code such as importlib's, which holds the import lock outside `try`."""
    return not frame.f_code.co_filename.startswith("<frozen ")
