"""`python -m devstack.jobrunner`: its help, and a clean stop on SIGTERM that leaves no
process of a running Job behind (the stack's supervisor stops it this way)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from runner_support import (
    NAMESPACE,
    ROOT,
    WRITE_PID,
    RunnerProcess,
    create_job,
    eventually,
    job_manifest,
    process_gone,
    read_pid,
)

from devstack.kubeapi import ThreadedKubeAPI
from devstack.kubeclient import Job, KubeClient


def test_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "devstack.jobrunner", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "--kube-url" in result.stdout
    assert "not a production" in result.stdout


async def test_sigterm_stops_running_jobs_within_the_shutdown_grace(
    kubeapi: ThreadedKubeAPI, kube: KubeClient, tmp_path: Path, spawned: list[int]
) -> None:
    runner = RunnerProcess(kubeapi.url, tmp_path, "--shutdown-grace", "1").start()
    script = WRITE_PID + "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    script += "time.sleep(120)\n"
    pids = []
    try:
        for name in ("busy", "leaving"):
            state = tmp_path / name
            state.mkdir()
            manifest = job_manifest(name, script, env={"STATE_DIR": str(state)}, grace=60)
            await create_job(kube, manifest)
            pids.append(await read_pid(state / "pid", spawned, timeout=15))
        # Already in its 60 s grace period when the runner is told to stop: shortened too.
        await kube.delete(Job, "leaving", namespace=NAMESPACE, propagation="Background")
        await eventually(_async(lambda: "reason=deleted" in runner.output()))
    finally:
        code = runner.stop(timeout=8)  # far less than the pods' 60 s grace period

    assert code == 0, runner.output()
    assert all(process_gone(pid) for pid in pids)
    output = runner.output()
    assert "memory_method=" in output
    assert "event=stopped" in output


def _async(check: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return check()

    return probe
