"""activeDeadlineSeconds: the running process is stopped and the Job fails DeadlineExceeded."""

from __future__ import annotations

import time
from pathlib import Path

from runner_support import (
    WRITE_PID,
    RunnerThread,
    create_job,
    finished_condition,
    job_manifest,
    pods_of,
    read_pid,
    terminated,
    wait_finished,
    wait_process_gone,
)

from devstack.kubeclient import KubeClient

SLEEPER = WRITE_PID + "import time; time.sleep(60)\n"


async def test_deadline_stops_the_process_and_fails_the_job(
    kube: KubeClient, runner: RunnerThread, state_dir: Path, spawned: list[int]
) -> None:
    manifest = job_manifest(
        "slow", SLEEPER, env={"STATE_DIR": str(state_dir)}, deadline=2, backoff_limit=3
    )
    created = time.monotonic()
    await create_job(kube, manifest)
    pid = await read_pid(state_dir / "pid", spawned)

    job = await wait_finished(kube, "slow", timeout=10)

    assert time.monotonic() - created >= 1.5  # not before its deadline
    assert finished_condition(job) == ("Failed", "DeadlineExceeded")
    assert (job["status"]["failed"], job["status"]["active"]) == (1, 0)
    await wait_process_gone(pid, timeout=5)
    [pod] = await pods_of(kube, job)  # no retry after the deadline
    assert pod["status"]["phase"] == "Failed"
    assert pod["status"]["reason"] == "DeadlineExceeded"
    assert terminated(pod)["exitCode"] == 143  # SIGTERM
