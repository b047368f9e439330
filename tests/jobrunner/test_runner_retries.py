"""backoffLimit: failed pods are replaced until one succeeds or the limit is passed."""

from __future__ import annotations

from pathlib import Path

from runner_support import (
    RunnerThread,
    create_job,
    finished_condition,
    job_manifest,
    pods_of,
    terminated,
    wait_finished,
)

from devstack.kubeclient import KubeClient

FAIL_TWICE = """
import os, pathlib, sys
counter = pathlib.Path(os.environ["STATE_DIR"]) / "attempts"
attempt = int(counter.read_text()) + 1 if counter.exists() else 1
counter.write_text(str(attempt))
sys.exit(1 if attempt <= 2 else 0)
"""


async def test_failures_are_retried_until_success(
    kube: KubeClient, runner: RunnerThread, state_dir: Path
) -> None:
    manifest = job_manifest("flaky", FAIL_TWICE, env={"STATE_DIR": str(state_dir)}, backoff_limit=2)
    await create_job(kube, manifest)

    job = await wait_finished(kube, "flaky")

    assert finished_condition(job) == ("Complete", "CompletionsReached")
    assert (job["status"]["succeeded"], job["status"]["failed"]) == (1, 2)
    pods = await pods_of(kube, job)
    assert [p["status"]["phase"] for p in pods] == ["Failed", "Failed", "Succeeded"]
    assert [terminated(p)["exitCode"] for p in pods] == [1, 1, 0]
    assert (state_dir / "attempts").read_text() == "3"


async def test_failures_beyond_the_backoff_limit_fail_the_job(
    kube: KubeClient, runner: RunnerThread
) -> None:
    await create_job(kube, job_manifest("broken", "raise SystemExit(1)", backoff_limit=1))

    job = await wait_finished(kube, "broken")

    assert finished_condition(job) == ("Failed", "BackoffLimitExceeded")
    assert (job["status"]["succeeded"], job["status"]["failed"]) == (0, 2)
    assert "completionTime" not in job["status"]
    pods = await pods_of(kube, job)
    assert [terminated(p)["reason"] for p in pods] == ["Error", "Error"]
