"""podFailurePolicy: a FailJob rule on the exit code fails the Job at once, without retries."""

from __future__ import annotations

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

POLICY = {
    "rules": [
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
        {
            "action": "FailJob",
            "onExitCodes": {"containerName": "main", "operator": "In", "values": [2]},
        },
    ]
}


async def test_fail_job_rule_fails_at_once(kube: KubeClient, runner: RunnerThread) -> None:
    manifest = job_manifest(
        "invalid", "raise SystemExit(2)", backoff_limit=5, pod_failure_policy=POLICY
    )
    await create_job(kube, manifest)

    job = await wait_finished(kube, "invalid")

    assert finished_condition(job) == ("Failed", "PodFailurePolicy")
    failed = next(c for c in job["status"]["conditions"] if c["type"] == "Failed")
    assert "exit code 2 matching FailJob rule at index 1" in failed["message"]
    assert (job["status"]["failed"], job["status"]["active"]) == (1, 0)
    [pod] = await pods_of(kube, job)
    assert terminated(pod)["exitCode"] == 2


async def test_other_exit_codes_still_count_against_the_backoff_limit(
    kube: KubeClient, runner: RunnerThread
) -> None:
    manifest = job_manifest(
        "other", "raise SystemExit(3)", backoff_limit=1, pod_failure_policy=POLICY
    )
    await create_job(kube, manifest)

    job = await wait_finished(kube, "other")

    assert finished_condition(job) == ("Failed", "BackoffLimitExceeded")
    assert job["status"]["failed"] == 2
