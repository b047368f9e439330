"""`make up`'s supervisor heals and cleans up: a crashed component is restarted with backoff
(as a Deployment's pod would be) and the restart is said; a port already in use is a clear
error naming the port and its STACK_*_PORT variable before anything starts; a killed
supervisor leaves no child behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from devstack.processes import StackError, Supervisor
from devstack.stack import Ports, Stack, StackConfig

SLEEPER = ["python", "-c", "import time; time.sleep(120)"]


def _deadline_poll(condition: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_a_crashed_child_is_restarted_with_backoff_and_said(tmp_path: Path) -> None:
    said: list[str] = []
    supervisor = Supervisor(tmp_path / "logs", backoff_seconds=0.2, say=said.append)
    try:
        child = supervisor.start("operator", SLEEPER)
        first = child.process.pid
        os.kill(first, signal.SIGKILL)
        _deadline_poll(
            lambda: supervisor.heal() or (said and supervisor.children[0].process.pid != first)
        )
        assert "operator exited with code 137" in said[0]
        assert "restart #1" in said[0]
        again = supervisor.children[0]
        assert again.restarts == 1 and again.process.poll() is None
        # The second crash waits twice as long: backoff, not a tight loop.
        os.kill(again.process.pid, signal.SIGKILL)
        _deadline_poll(lambda: supervisor.heal() or len(said) == 2)
        assert "in 0.4s" in said[1]
    finally:
        supervisor.stop_all(grace=2)


def test_a_port_in_use_is_named_with_its_variable_before_anything_starts(
    tmp_path: Path,
) -> None:
    ports = Ports.random()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports.kube))
        taken.listen()
        stack = Stack(StackConfig(root=tmp_path, ports=ports, rows=0))
        with pytest.raises(StackError) as raised:
            stack.start(progress=lambda _: None)
    message = str(raised.value)
    assert str(ports.kube) in message and "STACK_KUBE_PORT" in message
    assert stack.supervisor.children == [] and stack.postgres is None


def test_a_killed_supervisor_leaves_no_child_behind(tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from devstack.processes import Supervisor\n"
        f"s = Supervisor(Path({str(tmp_path)!r}))\n"
        "for name in ('a', 'b'):\n"
        "    s.start(name, ['python', '-c', 'import time; time.sleep(120)'])\n"
        "print(' '.join(str(c.process.pid) for c in s.children), flush=True)\n"
        "time.sleep(120)\n"
    )
    supervisor = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert supervisor.stdout is not None
    pids = [int(p) for p in supervisor.stdout.readline().split()]
    assert len(pids) == 2 and all(psutil.pid_exists(p) for p in pids)
    supervisor.kill()
    supervisor.wait()
    supervisor.stdout.close()

    def gone() -> bool:
        alive = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                pass
        return not alive

    _deadline_poll(gone)
