"""The runner outlives its watch: when the stream ends (timeoutSeconds) it lists the Jobs
again without re-running finished ones or starting a second pod for a running one; and it
waits out an API server that goes away and comes back."""

from __future__ import annotations

from pathlib import Path

from runner_support import (
    RunnerThread,
    create_job,
    eventually,
    finished_condition,
    get_job,
    job_manifest,
    pods_of,
    wait_finished,
)

from devstack.kubeapi import ThreadedKubeAPI
from devstack.kubeclient import KubeClient

COUNT_RUNS = """
import os, pathlib, time
runs = pathlib.Path(os.environ["STATE_DIR"]) / os.environ["JOB"]
with runs.open("a") as f:
    f.write("run\\n")
time.sleep(float(os.environ["SLEEP"]))
"""


async def test_relisting_neither_reruns_nor_doubles_jobs(
    kubeapi: ThreadedKubeAPI, kube: KubeClient, tmp_path: Path, state_dir: Path
) -> None:
    runner = RunnerThread(kubeapi.url, tmp_path / "pods", watch_timeout_seconds=1).start()
    try:
        assert runner.runner is not None
        jobs = runner.runner

        async def relisted(times: int) -> bool:
            return jobs.lists >= times

        env = {"STATE_DIR": str(state_dir), "JOB": "quick", "SLEEP": "0"}
        await create_job(kube, job_manifest("quick", COUNT_RUNS, env=env))
        quick = await wait_finished(kube, "quick")
        env = {"STATE_DIR": str(state_dir), "JOB": "long", "SLEEP": "2.5"}
        await create_job(kube, job_manifest("long", COUNT_RUNS, env=env))
        lists_at_start = jobs.lists

        long = await wait_finished(kube, "long")
        assert jobs.lists >= lists_at_start + 2  # the watch ended and was re-listed meanwhile
        target = jobs.lists + 2
        await eventually(lambda: relisted(target), timeout=5)  # and after it finished

        for job, name in ((quick, "quick"), (long, "long")):
            assert finished_condition(job) == ("Complete", "CompletionsReached")
            assert len(await pods_of(kube, job)) == 1
            assert (state_dir / name).read_text() == "run\n"
            again = await get_job(kube, name)
            assert again["metadata"]["resourceVersion"] == job["metadata"]["resourceVersion"]
    finally:
        runner.stop()


async def test_runner_waits_for_a_restarted_api_server(tmp_path: Path) -> None:
    first = ThreadedKubeAPI().start()
    url = first.url
    port = int(url.rsplit(":", 1)[1])
    runner = RunnerThread(url, tmp_path / "pods").start()
    try:
        async with KubeClient(url) as kube:
            await create_job(kube, job_manifest("before", "pass"))
            await wait_finished(kube, "before")
        first.stop()
        with ThreadedKubeAPI(port=port) as second:
            assert second.url == url
            async with KubeClient(url) as kube:  # a new client: the old one's sockets are dead
                await create_job(kube, job_manifest("after", "pass"))
                job = await wait_finished(kube, "after")
                assert finished_condition(job) == ("Complete", "CompletionsReached")
    finally:
        runner.stop()
        first.stop()
