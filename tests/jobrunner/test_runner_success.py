"""A Job whose script succeeds: Complete, its Pod Succeeded with the termination message."""

from __future__ import annotations

import json

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

SUCCEED = """
import json, os, sys
with open(os.environ["TERMINATION_MESSAGE_PATH"], "w") as f:
    json.dump({"rows": 3, "argv": sys.argv[1:]}, f)
print("done")
"""


async def test_success_completes_the_job_with_the_termination_message(
    kube: KubeClient, runner: RunnerThread
) -> None:
    manifest = job_manifest("ok", SUCCEED, env={"WHO": "world"})
    manifest["spec"]["template"]["spec"]["containers"][0]["args"] = ["hello-$(WHO)", "$$(WHO)"]
    await create_job(kube, manifest)

    job = await wait_finished(kube, "ok")

    assert finished_condition(job) == ("Complete", "CompletionsReached")
    status = job["status"]
    assert (status["succeeded"], status["failed"], status["active"]) == (1, 0, 0)
    assert status["startTime"] <= status["completionTime"]
    [pod] = await pods_of(kube, job)
    assert pod["status"]["phase"] == "Succeeded"
    state = terminated(pod)
    assert (state["exitCode"], state["reason"]) == (0, "Completed")
    # args are expanded as Kubernetes expands them: $(VAR) from the env, $$ an escaped $
    assert json.loads(state["message"]) == {"rows": 3, "argv": ["hello-world", "$(WHO)"]}


async def test_failure_without_a_message_falls_back_to_the_log(
    kube: KubeClient, runner: RunnerThread
) -> None:
    script = "import sys; print('first line'); sys.exit('cannot reach the database')"
    await create_job(kube, job_manifest("logs", script))

    job = await wait_finished(kube, "logs")

    assert finished_condition(job) == ("Failed", "BackoffLimitExceeded")
    [pod] = await pods_of(kube, job)
    assert pod["status"]["phase"] == "Failed"
    state = terminated(pod)
    assert (state["exitCode"], state["reason"]) == (1, "Error")
    assert state["message"] == "first line\ncannot reach the database"


async def test_a_command_that_cannot_start_fails_the_pod(
    kube: KubeClient, runner: RunnerThread
) -> None:
    manifest = job_manifest("missing", "pass", memory="128Mi")  # behind the cgroup's wrapper
    manifest["spec"]["template"]["spec"]["containers"][0]["command"] = ["/no/such/exporter"]
    await create_job(kube, manifest)

    job = await wait_finished(kube, "missing")

    assert finished_condition(job) == ("Failed", "BackoffLimitExceeded")
    [pod] = await pods_of(kube, job)
    state = terminated(pod)
    assert (state["exitCode"], state["reason"]) == (128, "StartError")
    assert "/no/such/exporter" in state["message"]
