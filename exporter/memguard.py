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
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

GUARD_FRACTION = 0.9
POLL_SECONDS = 0.1
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
    """A daemon thread watching one cgroup; `start()` returns None when there is no limit."""

    def __init__(self, cgroup: CgroupMemory, limit: int, *, poll: float = POLL_SECONDS) -> None:
        self.cgroup, self.limit, self.poll = cgroup, limit, poll
        self.reason: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="memguard", daemon=True)

    @classmethod
    def start(cls, *, poll: float = POLL_SECONDS) -> MemoryGuard | None:
        """Install the SIGUSR1 handler and start watching (main thread only)."""
        try:
            cgroup = find_cgroup(Path("/proc/self/cgroup").read_text())
            limit = cgroup.limit_bytes() if cgroup is not None else None
        except (OSError, ValueError):
            return None
        if cgroup is None or limit is None:
            return None
        guard = cls(cgroup, limit, poll=poll)
        signal.signal(signal.SIGUSR1, guard._raise)
        guard._thread.start()
        return guard

    def stop(self) -> None:
        self._stop.set()

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
                with contextlib.suppress(OSError):
                    os.kill(os.getpid(), signal.SIGUSR1)
                return

    def _raise(self, signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGUSR1, signal.SIG_IGN)  # once: let the cleanup run
        raise MemoryLimitReached(self.reason or "memory limit reached")
