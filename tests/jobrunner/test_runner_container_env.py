"""`container_env` (the CLI's --container-env) gives every container a default, as a cluster's
node-level mount would (the stack uses it for STREAMEXPORT_CATALOG); the container's own env
wins."""

from __future__ import annotations

import json
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

from devstack.kubeapi import ThreadedKubeAPI
from devstack.kubeclient import KubeClient

DUMP = """
import json, os
with open(os.environ["TERMINATION_MESSAGE_PATH"], "w") as f:
    json.dump({n: os.environ.get(n) for n in ("STREAMEXPORT_CATALOG", "MINE")}, f)
"""


async def test_defaults_reach_every_container_under_its_own_env(
    kube: KubeClient, kubeapi: ThreadedKubeAPI, tmp_path: Path
) -> None:
    runner = RunnerThread(
        kubeapi.url,
        tmp_path / "pods",
        container_env={"STREAMEXPORT_CATALOG": "/c/catalog.yaml", "MINE": "node"},
    ).start()
    try:
        await create_job(kube, job_manifest("defaults", DUMP, env={"MINE": "container"}))
        job = await wait_finished(kube, "defaults")
    finally:
        runner.stop()
    assert finished_condition(job) == ("Complete", "CompletionsReached")
    [pod] = await pods_of(kube, job)
    assert json.loads(terminated(pod)["message"]) == {
        "STREAMEXPORT_CATALOG": "/c/catalog.yaml",
        "MINE": "container",
    }
