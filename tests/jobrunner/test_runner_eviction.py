"""An evicted pod, as the kubelet and the Job controller handle it: its container gets SIGTERM
(SIGKILL after the eviction's grace period), its last status is Failed with the API server's
`DisruptionTarget` condition and the container's exit code, the pod is then deleted, and the
Job's podFailurePolicy decides: `Ignore` on DisruptionTarget (the operator's rule) starts a
replacement without counting a failure; without that rule the eviction counts against the
backoffLimit, and the operator names such a failed Job's reason `Evicted`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from runner_support import (
    WRITE_PID,
    RunnerThread,
    create_job,
    eventually,
    finished_condition,
    get_job,
    job_manifest,
    pods_of,
    read_pid,
    wait_finished,
    wait_process_gone,
)

from devstack.kubeclient import JSON, KubeClient, Pod
from streamexport_operator.jobs import CONTAINER_NAME, pod_failure_policy
from streamexport_operator.settings import Settings
from streamexport_operator.status import failure_reason, job_condition

NAMESPACE = "default"
# The first attempt waits to be evicted; the next one finds the marker and completes.
SECOND_ATTEMPT_COMPLETES = """
marker = state / "first-attempt"
if marker.exists():
    raise SystemExit(0)
marker.write_text("started")
"""
ON_SIGTERM_RECORD_AND_DIE = """
import signal, time
def on_term(signum, frame):
    (state / "sigterm").write_text("TERM")
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.raise_signal(signal.SIGTERM)
signal.signal(signal.SIGTERM, on_term)
"""
ON_SIGTERM_STAY = """
import signal, time
signal.signal(signal.SIGTERM, lambda signum, frame: (state / "sigterm").write_text("TERM"))
"""
SLEEP = "for _ in range(600): time.sleep(0.1)\n"


class PodHistory:
    """Every version of the default namespace's pods, from a watch, so that a test can read
    what the kubelet wrote last into a pod that is deleted right after."""

    def __init__(self, kube: KubeClient) -> None:
        self.kube = kube
        self.events: list[tuple[str, JSON]] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> PodHistory:
        _, version = await self.kube.list_with_version(Pod, namespace=NAMESPACE)
        self._task = asyncio.create_task(self._follow(version))
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _follow(self, version: str) -> None:
        events = self.kube.watch(Pod, namespace=NAMESPACE, resource_version=version)
        async with contextlib.aclosing(events):
            async for kind, pod in events:
                self.events.append((kind, pod))

    def last_state(self, name: str) -> JSON:
        """The pod as it was just before it was deleted."""
        versions = [pod for kind, pod in self.events if pod["metadata"]["name"] == name]
        kinds = [kind for kind, pod in self.events if pod["metadata"]["name"] == name]
        assert kinds and kinds[-1] == "DELETED", kinds
        return versions[-2]

    def deleted(self, name: str) -> bool:
        return ("DELETED", name) in [(k, p["metadata"]["name"]) for k, p in self.events]


@pytest.fixture
async def history(kube: KubeClient) -> AsyncIterator[PodHistory]:
    async with PodHistory(kube) as watching:
        yield watching


async def running_pod(kube: KubeClient, job_name: str, attempt: int) -> JSON:
    """The Job's pod of `attempt` once the kubelet reported it Running."""

    async def probe() -> JSON | None:
        job = await get_job(kube, job_name)
        for pod in await pods_of(kube, job):
            annotations = pod["metadata"]["annotations"]
            if int(annotations["devstack.streamexport.io/attempt"]) == attempt and (
                (pod.get("status") or {}).get("phase") == "Running"
            ):
                return pod
        return None

    return await eventually(probe, timeout=15)


def disruption(pod: JSON) -> JSON | None:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition["type"] == "DisruptionTarget":
            return dict(condition)
    return None


def terminated(pod: JSON) -> JSON:
    state = pod["status"]["containerStatuses"][0]["state"]
    assert "terminated" in state, state
    return dict(state["terminated"])


async def test_an_evicted_pod_is_stopped_and_replaced_without_counting_a_failure(
    kube: KubeClient,
    runner: RunnerThread,
    history: PodHistory,
    state_dir: Path,
    spawned: list[int],
) -> None:
    script = WRITE_PID + SECOND_ATTEMPT_COMPLETES + ON_SIGTERM_RECORD_AND_DIE + SLEEP
    manifest = job_manifest(
        "evicted",
        script,
        env={"STATE_DIR": str(state_dir)},
        backoff_limit=0,  # a counted failure would fail the Job at once
        grace=10,
        pod_failure_policy=pod_failure_policy(),
    )
    await create_job(kube, manifest)
    pid = await read_pid(state_dir / "pid", spawned, timeout=15)
    first = await running_pod(kube, "evicted", 0)
    name = first["metadata"]["name"]

    await kube.evict(name, namespace=NAMESPACE)

    await wait_process_gone(pid, 5)  # SIGTERM at once, well within the 10 s grace period
    assert (state_dir / "sigterm").read_text() == "TERM"
    job = await wait_finished(kube, "evicted", timeout=20)
    assert finished_condition(job) == ("Complete", "CompletionsReached")
    assert (job["status"]["succeeded"], job["status"]["failed"]) == (1, 0)
    [replacement] = await pods_of(kube, job)  # the evicted pod was deleted for good
    assert replacement["metadata"]["annotations"]["devstack.streamexport.io/attempt"] == "1"
    assert replacement["status"]["phase"] == "Succeeded"
    await eventually(lambda: _true(history.deleted(name)), timeout=5)
    last = history.last_state(name)
    assert last["status"]["phase"] == "Failed"
    assert terminated(last)["exitCode"] == 143  # 128 + SIGTERM, as the kubelet reports it
    condition = disruption(last)
    assert condition is not None
    assert (condition["status"], condition["reason"]) == ("True", "EvictionByEvictionAPI")


async def test_a_container_ignoring_sigterm_is_killed_after_the_evictions_grace_period(
    kube: KubeClient,
    runner: RunnerThread,
    history: PodHistory,
    state_dir: Path,
    spawned: list[int],
) -> None:
    script = WRITE_PID + SECOND_ATTEMPT_COMPLETES + ON_SIGTERM_STAY + SLEEP
    manifest = job_manifest(
        "stubborn",
        script,
        env={"STATE_DIR": str(state_dir)},
        grace=60,  # the eviction's own grace period (1 s) wins
        pod_failure_policy=pod_failure_policy(),
    )
    await create_job(kube, manifest)
    pid = await read_pid(state_dir / "pid", spawned, timeout=15)
    name = (await running_pod(kube, "stubborn", 0))["metadata"]["name"]

    await kube.evict(name, namespace=NAMESPACE, grace_period=1)

    await wait_process_gone(pid, 8)
    assert (state_dir / "sigterm").read_text() == "TERM"  # it outlived SIGTERM
    job = await wait_finished(kube, "stubborn", timeout=20)
    assert finished_condition(job) == ("Complete", "CompletionsReached")
    assert job["status"]["failed"] == 0
    last = history.last_state(name)
    assert terminated(last)["exitCode"] == 137 and disruption(last) is not None


async def test_an_eviction_with_grace_0_kills_at_once_and_is_replaced(
    kube: KubeClient,
    runner: RunnerThread,
    history: PodHistory,
    state_dir: Path,
    spawned: list[int],
) -> None:
    script = WRITE_PID + SECOND_ATTEMPT_COMPLETES + ON_SIGTERM_STAY + SLEEP
    manifest = job_manifest(
        "forced",
        script,
        env={"STATE_DIR": str(state_dir)},
        grace=60,
        pod_failure_policy=pod_failure_policy(),
    )
    await create_job(kube, manifest)
    pid = await read_pid(state_dir / "pid", spawned, timeout=15)
    name = (await running_pod(kube, "forced", 0))["metadata"]["name"]

    await kube.evict(name, namespace=NAMESPACE, grace_period=0)

    assert await wait_process_gone(pid, 5) < 3  # SIGKILL at once, not after 60 s
    job = await wait_finished(kube, "forced", timeout=20)
    assert finished_condition(job) == ("Complete", "CompletionsReached")
    assert job["status"]["failed"] == 0
    # Removed by the API server right after its grace-0 mark: that mark is its last state.
    last = history.last_state(name)
    assert last["metadata"]["deletionGracePeriodSeconds"] == 0 and disruption(last)


async def test_without_the_ignore_rule_an_eviction_counts_and_the_operator_says_evicted(
    kube: KubeClient,
    runner: RunnerThread,
    history: PodHistory,
    state_dir: Path,
    spawned: list[int],
) -> None:
    script = WRITE_PID + SECOND_ATTEMPT_COMPLETES + ON_SIGTERM_RECORD_AND_DIE + SLEEP
    manifest = job_manifest("counted", script, env={"STATE_DIR": str(state_dir)}, grace=10)
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    container["name"] = CONTAINER_NAME  # the operator reads the exporter's container
    await create_job(kube, manifest)
    pid = await read_pid(state_dir / "pid", spawned, timeout=15)
    name = (await running_pod(kube, "counted", 0))["metadata"]["name"]

    await kube.evict(name, namespace=NAMESPACE)

    await wait_process_gone(pid, 5)
    job = await wait_finished(kube, "counted", timeout=20)
    assert finished_condition(job) == ("Failed", "BackoffLimitExceeded")
    assert job["status"]["failed"] == 1
    await eventually(lambda: _true(history.deleted(name)), timeout=5)
    # What the operator makes of this Job and the pod exactly as the kubelet reported it
    # (the operator may still see a pod that is being deleted).
    failed = job_condition(job, "Failed")
    assert failed is not None
    settings = Settings(exporter_image="exporter:1", s3_bucket="exports")
    reason, message = failure_reason(failed, [history.last_state(name)], settings)
    assert (reason, message) == ("Evicted", "The exporter's pod was evicted.")


async def test_evictions_until_the_deadline_never_count_and_end_deadline_exceeded(
    kube: KubeClient,
    runner: RunnerThread,
    state_dir: Path,
    spawned: list[int],
) -> None:
    script = WRITE_PID + ON_SIGTERM_RECORD_AND_DIE + SLEEP
    manifest = job_manifest(
        "disrupted",
        script,
        env={"STATE_DIR": str(state_dir)},
        backoff_limit=0,
        deadline=4,
        pod_failure_policy=pod_failure_policy(),
    )
    await create_job(kube, manifest)

    evicted: set[str] = set()

    async def evict_every_pod() -> JSON | None:
        job = await get_job(kube, "disrupted")
        if finished_condition(job):
            return job
        for pod in await pods_of(kube, job):
            name = pod["metadata"]["name"]
            if name not in evicted and (pod.get("status") or {}).get("phase") == "Running":
                await kube.evict(name, namespace=NAMESPACE)
                evicted.add(name)
        return None

    job = await eventually(evict_every_pod, timeout=30, interval=0.1)

    assert finished_condition(job) == ("Failed", "DeadlineExceeded")
    # Replaced after each eviction until the deadline: with backoffLimit 0, one counted
    # eviction would have failed the Job (BackoffLimitExceeded) at once.
    assert len(evicted) >= 2
    assert job["status"]["failed"] <= 1  # at most the pod the deadline itself stopped


async def _true(value: bool) -> bool:
    return value
