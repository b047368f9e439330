"""Run a command under a memory cap, the way a pod's `resources.limits.memory` caps it.

A memory cgroup (v1 under /sys/fs/cgroup/memory, or v2 under /sys/fs/cgroup) when one can
be created: it counts what Kubernetes counts and OOM-kills the process like the kubelet's
cgroup does. Otherwise an address-space rlimit (`ulimit -v`) with MALLOC_ARENA_MAX=2 (glibc
reserves 64 MiB of address space per thread arena, which would trip a 512 MiB rlimit).

    with MemoryCap(512 * 1024 * 1024) as cap:
        process = cap.popen([sys.executable, "-m", "exporter", ...], env=env)
        process.wait()
        cap.oom_killed, cap.peak_bytes

No `preexec_fn` (unsafe in a process with threads): the command starts through `sh`, which
joins the cgroup (or sets the rlimit) and then `exec`s it, keeping the pid.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

CGROUP_V1 = Path("/sys/fs/cgroup/memory")
CGROUP_V2 = Path("/sys/fs/cgroup")

Mode = Literal["cgroup-v1", "cgroup-v2", "rlimit"]


class MemoryCap:
    """A memory limit for the processes started with `popen()`; a context manager."""

    def __init__(self, limit_bytes: int, *, name: str | None = None) -> None:
        self.limit_bytes = limit_bytes
        self.name = name or f"streamexport-{uuid.uuid4().hex[:12]}"
        self.path: Path | None = None
        self.mode: Mode = "rlimit"
        self._final: tuple[int | None, bool] | None = None  # (peak, oom) kept by close()

    def __enter__(self) -> Self:
        self.path, self.mode = self._create()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _create(self) -> tuple[Path | None, Mode]:
        for root, mode in ((CGROUP_V1, "cgroup-v1"), (CGROUP_V2, "cgroup-v2")):
            if mode == "cgroup-v2" and not (root / "cgroup.controllers").exists():
                continue
            if mode == "cgroup-v1" and not (root / "memory.limit_in_bytes").exists():
                continue
            path = root / self.name
            try:
                path.mkdir()
            except OSError:
                continue
            try:
                if mode == "cgroup-v1":
                    (path / "memory.limit_in_bytes").write_text(str(self.limit_bytes))
                    # Without swap accounting this file is absent; with it, no swapping out.
                    with contextlib.suppress(OSError):
                        (path / "memory.memsw.limit_in_bytes").write_text(str(self.limit_bytes))
                else:
                    (path / "memory.max").write_text(str(self.limit_bytes))
                    with contextlib.suppress(OSError):
                        (path / "memory.swap.max").write_text("0")
            except OSError:
                with contextlib.suppress(OSError):
                    path.rmdir()
                continue
            return path, mode  # type: ignore[return-value]
        return None, "rlimit"

    def wrap(self, command: Sequence[str]) -> list[str]:
        """`command` prefixed so that it runs inside the cap."""
        if self.path is not None:
            procs = self.path / "cgroup.procs"
            script = f'echo $$ > "{procs}" && exec "$@"'
        else:
            script = f'ulimit -v {self.limit_bytes // 1024} && exec "$@"'
        return ["/bin/sh", "-c", script, "memcap", *command]

    def env(self, env: dict[str, str] | None = None) -> dict[str, str]:
        merged = dict(os.environ if env is None else env)
        if self.path is None:
            merged.setdefault("MALLOC_ARENA_MAX", "2")
        return merged

    def popen(
        self, command: Sequence[str], *, env: dict[str, str] | None = None, **kwargs: Any
    ) -> subprocess.Popen[Any]:
        return subprocess.Popen(self.wrap(command), env=self.env(env), **kwargs)

    @property
    def peak_bytes(self) -> int | None:
        """The cgroup's peak usage (includes page cache, as the kubelet's does); None on rlimit."""
        if self.path is None:
            return self._final[0] if self._final else None
        name = "memory.max_usage_in_bytes" if self.mode == "cgroup-v1" else "memory.peak"
        with contextlib.suppress(OSError, ValueError):
            return int((self.path / name).read_text())
        return None

    @property
    def oom_killed(self) -> bool:
        """Whether the kernel OOM-killed a process of the cgroup (False on rlimit)."""
        if self.path is None:
            return self._final[1] if self._final else False
        name = "memory.oom_control" if self.mode == "cgroup-v1" else "memory.events"
        with contextlib.suppress(OSError):
            for line in (self.path / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
        return False

    def close(self) -> None:
        """Remove the cgroup (its processes must have exited)."""
        if self.path is not None:
            self._final = (self.peak_bytes, self.oom_killed)
            with contextlib.suppress(OSError):
                self.path.rmdir()
            self.path = None
