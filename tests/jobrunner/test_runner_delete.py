"""Deleting a running Job stops its process: SIGTERM, then SIGKILL after the grace period.
The runner runs as the e2e stack runs it: `python -m devstack.jobrunner`."""

from __future__ import annotations

import time
from pathlib import Path

from runner_support import (
    NAMESPACE,
    WRITE_PID,
    RunnerProcess,
    create_job,
    job_manifest,
    read_pid,
    wait_process_gone,
)

from devstack.kubeclient import Job, KubeClient

ON_SIGTERM_EXIT = """
import signal, sys, time
def on_term(signum, frame):
    (state / "sigterm").write_text("TERM")
    sys.exit(0)
signal.signal(signal.SIGTERM, on_term)
"""
ON_SIGTERM_STAY = """
import signal, time
def on_term(signum, frame):
    (state / "sigterm").write_text("TERM")
signal.signal(signal.SIGTERM, on_term)
"""
SLEEP = "for _ in range(600): time.sleep(0.1)\n"


async def test_deleting_the_job_terminates_its_process(
    kube: KubeClient,
    runner_process: RunnerProcess,
    state_dir: Path,
    spawned: list[int],
) -> None:
    script = WRITE_PID + ON_SIGTERM_EXIT + SLEEP
    manifest = job_manifest("victim", script, env={"STATE_DIR": str(state_dir)}, grace=10)
    manifest["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "limits": {"memory": "256Mi"}  # under a memory cgroup too, as the exporter runs
    }
    await create_job(kube, manifest)
    pid = await read_pid(state_dir / "pid", spawned, timeout=15)

    await kube.delete(Job, "victim", namespace=NAMESPACE, propagation="Background")

    await wait_process_gone(pid, 5)  # well within the 10 s grace period: it exits on SIGTERM
    assert (state_dir / "sigterm").read_text() == "TERM"
    assert "event=stop reason=deleted" in runner_process.output()


async def test_a_process_ignoring_sigterm_is_killed_after_the_grace_period(
    kube: KubeClient,
    runner_process: RunnerProcess,
    state_dir: Path,
    spawned: list[int],
) -> None:
    script = WRITE_PID + ON_SIGTERM_STAY + SLEEP
    manifest = job_manifest("stubborn", script, env={"STATE_DIR": str(state_dir)}, grace=1)
    await create_job(kube, manifest)
    pid = await read_pid(state_dir / "pid", spawned, timeout=15)

    deleted = time.monotonic()
    await kube.delete(Job, "stubborn", namespace=NAMESPACE, propagation="Background")

    await wait_process_gone(pid, 6)
    assert time.monotonic() - deleted >= 0.9  # it outlived SIGTERM until the SIGKILL
    assert (state_dir / "sigterm").read_text() == "TERM"
