"""The container's memory limit: a memory cgroup where one can be made (the kernel kills at
the limit, and the container ends OOMKilled with 137), else an address-space rlimit, under
which no kernel kills anything: the process's own exit (a MemoryError) is what is reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from runner_support import (
    RunnerThread,
    create_job,
    finished_condition,
    job_manifest,
    pods_of,
    terminated,
    wait_finished,
)

from devstack import memlimit
from devstack.kubeapi import ThreadedKubeAPI
from devstack.kubeclient import KubeClient

POLICY = {
    "rules": [
        {
            "action": "FailJob",
            "onExitCodes": {"containerName": "main", "operator": "In", "values": [137]},
        }
    ]
}
GREEDY = """
import json, os
with open(os.path.join(os.environ["STATE_DIR"], "env.json"), "w") as f:
    json.dump({"MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX")}, f)
hog = b"x" * (300 * 1024 * 1024)
print("still alive", len(hog))
"""


def _cgroups(pod: str) -> list[Path]:
    """The pod's memory cgroups (named `jobrunner-<pod>-<random>`) still there."""
    root = memlimit.CGROUP_V1 if memlimit.CGROUP_V1.is_dir() else memlimit.CGROUP_V2
    return list(root.glob(f"jobrunner-{pod}-*")) if root.is_dir() else []


async def _run_greedy(
    kube: KubeClient, state_dir: Path, *, expect: tuple[int, str] = (137, "OOMKilled")
) -> tuple[str, dict[str, object]]:
    manifest = job_manifest(
        "greedy",
        GREEDY,
        env={"STATE_DIR": str(state_dir)},
        memory="64Mi",
        backoff_limit=3,
        pod_failure_policy=POLICY,
    )
    await create_job(kube, manifest)

    job = await wait_finished(kube, "greedy")

    [pod, *_] = await pods_of(kube, job)
    state = terminated(pod)
    assert (state["exitCode"], state["reason"]) == expect
    if expect[0] == 137:
        assert finished_condition(job) == ("Failed", "PodFailurePolicy")
    assert pod["status"]["phase"] == "Failed"
    env: dict[str, object] = json.loads((state_dir / "env.json").read_text())
    return pod["metadata"]["name"], env


async def test_memory_limit_kills_the_container_as_oom(
    kube: KubeClient, runner: RunnerThread, state_dir: Path
) -> None:
    assert runner.runner is not None
    method = runner.runner.settings.memory_method

    pod, _ = await _run_greedy(kube, state_dir)

    if method.startswith("cgroup"):
        assert not _cgroups(pod)  # removed again


async def test_rlimit_fallback_reports_the_process_own_exit_not_oom(
    kubeapi: ThreadedKubeAPI,
    kube: KubeClient,
    state_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(memlimit, "CGROUP_V1", tmp_path / "no-cgroup-v1")
    monkeypatch.setattr(memlimit, "CGROUP_V2", tmp_path / "no-cgroup-v2")
    runner = RunnerThread(kubeapi.url, tmp_path / "pods").start()
    try:
        assert runner.runner is not None
        assert runner.runner.settings.memory_method == "rlimit"

        # Python's MemoryError exits 1: no kernel killed it, so it is not called OOMKilled.
        _, env = await _run_greedy(kube, state_dir, expect=(1, "Error"))

        assert env["MALLOC_ARENA_MAX"] == "2"  # glibc's arenas kept small under the rlimit
    finally:
        runner.stop()
