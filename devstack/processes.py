"""Start, watch, heal and stop the local stack's processes, each in its own process group.

Every child writes to its own log file; `stop_all` sends SIGTERM, waits, then SIGKILLs, so
nothing is left behind on Ctrl-C or a failure; and every child gets SIGTERM from the kernel
when the supervisor dies, even by SIGKILL (`devstack.pdeathsig`). `heal()` restarts a child
that exited, with exponential backoff, as a Deployment restarts its pod.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from devstack import pdeathsig


class StackError(RuntimeError):
    """A process of the stack failed to start or died; the message points at its log."""


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    restarts: int = 0
    started_at: float = field(default_factory=time.monotonic)
    restart_at: float | None = None  # set while a restart waits for its backoff

    def tail(self, lines: int = 25) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


# A child that ran this long before it exited starts its backoff over (CrashLoopBackOff
# resets after a while of running, too).
BACKOFF_RESET_SECONDS = 60.0


def exit_code(returncode: int) -> int:
    """As a shell and Kubernetes say it: killed by signal N is 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


@dataclass
class Supervisor:
    log_dir: Path
    children: list[Child] = field(default_factory=list)
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    say: Callable[[str], object] = print

    def start(
        self,
        name: str,
        args: Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Child:
        child_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        argv = [sys.executable if a == "python" else a for a in args]
        child = Child(name, self._spawn(name, argv, child_env, cwd, "wb"), self._log(name))
        child.args, child.env, child.cwd = argv, child_env, cwd
        self.children.append(child)
        return child

    def _log(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def _spawn(
        self, name: str, argv: list[str], env: dict[str, str], cwd: Path | None, mode: str
    ) -> subprocess.Popen[bytes]:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        # SIGTERM, not SIGKILL, at the supervisor's death: the job runner stops its exporters.
        command = pdeathsig.launcher(os.getpid(), signal.SIGTERM, argv)
        with open(self._log(name), mode) as handle:
            return subprocess.Popen(
                command,
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )

    def heal(self) -> None:
        """Restart every child that exited, after its backoff (1, 2, 4 … 30 s); say so."""
        now = time.monotonic()
        for child in self.children:
            code = child.process.poll()
            if code is None:
                continue
            if child.restart_at is None:
                if now - child.started_at >= BACKOFF_RESET_SECONDS:
                    child.restarts = 0
                delay = min(self.backoff_seconds * 2**child.restarts, self.max_backoff_seconds)
                child.restart_at = now + delay
                self.say(
                    f"{child.name} exited with code {exit_code(code)}; restarting in {delay:g}s"
                    f" (restart #{child.restarts + 1}); its log: {child.log}"
                )
            elif now >= child.restart_at:
                # Its group may hold what it started (e.g. an exporter): that goes first.
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(child.process.pid, signal.SIGKILL)
                child.process = self._spawn(child.name, child.args, child.env, child.cwd, "ab")
                child.restarts += 1
                child.started_at, child.restart_at = time.monotonic(), None

    def check(self) -> None:
        """Raise if any child has died."""
        for child in self.children:
            code = child.process.poll()
            if code is not None:
                raise StackError(
                    f"{child.name} exited with code {code}; "
                    f"last lines of {child.log}:\n{child.tail()}"
                )

    def wait_until(
        self, child: Child, ready: Callable[[], bool], *, timeout: float = 60.0, what: str = ""
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check()
            if ready():
                return
            time.sleep(0.1)
        raise StackError(
            f"{child.name} not ready after {timeout:.0f}s ({what}); last lines of {child.log}:\n"
            f"{child.tail()}"
        )

    def stop(self, name: str, grace: float = 10.0) -> None:
        """Stop one child (SIGTERM, then SIGKILL after `grace`) and forget it."""
        for child in [c for c in self.children if c.name == name]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGTERM)
            try:
                child.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()
            self.children.remove(child)

    def stop_all(self, grace: float = 10.0) -> None:
        for child in reversed(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for child in reversed(self.children):
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()
            # Anything the child left in its group (e.g. an exporter) goes too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.process.pid, signal.SIGKILL)
        self.children.clear()


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local URL
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
