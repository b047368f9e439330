"""Queueing on Kueue when the cluster has it: with a LocalQueue named, every Job is created
suspended with the `kueue.x-k8s.io/queue-name` label, our own FIFO admission steps aside
(Kueue's quotas decide), the Export says QUEUED while its Job waits, and the operator never
unsuspends a Job: only Kueue does."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from jobsim import (
    JobController,
    create_export,
    eventually,
    get_export,
    list_jobs,
    result_message,
    wait_phase,
)
from opharness import OperatorThread
from test_job_manifest import SETTINGS, export_body

from streamexport_operator.jobs import KUEUE_QUEUE_LABEL, build_job
from streamexport_operator.kube import Job, KubeClient

Start = Callable[..., OperatorThread]
QUEUE = "team-exports"


def test_a_kueue_job_is_created_suspended_with_the_queue_label() -> None:
    job = build_job(export_body(), dataclasses.replace(SETTINGS, kueue_queue_name=QUEUE))
    assert job["spec"]["suspend"] is True
    assert job["metadata"]["labels"][KUEUE_QUEUE_LABEL] == QUEUE


def test_without_kueue_nothing_changes() -> None:
    job = build_job(export_body(), SETTINGS)
    assert "suspend" not in job["spec"]
    assert KUEUE_QUEUE_LABEL not in job["metadata"]["labels"]


async def test_the_operator_steps_aside_and_never_unsuspends(
    start_operator: Start, kube: KubeClient
) -> None:
    start_operator(kueue_queue_name=QUEUE, max_running_exports=1, max_running_exports_per_owner=1)
    names = [(await create_export(kube))["metadata"]["name"] for _ in range(3)]

    async def all_jobs() -> list[dict[str, Any]] | None:
        jobs = await list_jobs(kube)
        return jobs if len(jobs) == 3 else None

    # Three Jobs under a limit of one: admission is Kueue's now.
    jobs = await eventually(all_jobs)
    assert all(j["spec"]["suspend"] is True for j in jobs)

    async def waiting_for_kueue(name: str) -> dict[str, Any] | None:
        status = (await get_export(kube, name)).get("status") or {}
        ok = status.get("phase") == "QUEUED" and "Kueue" in str(status.get("message"))
        return status if ok else None

    for name in names:  # each reconciled while its Job waits: the operator has looked
        await eventually(lambda n=name: waiting_for_kueue(n))
    assert all(j["spec"]["suspend"] is True for j in await list_jobs(kube))

    # Kueue admits the first: it unsuspends; the export then runs and completes.
    first = names[0]
    await kube.merge_patch(Job, first, {"spec": {"suspend": False}}, namespace="default")
    await JobController(kube, first).succeed(result_message(first))
    await wait_phase(kube, first, "COMPLETED")
    others = {j["metadata"]["name"]: j for j in await list_jobs(kube)}
    assert all(others[n]["spec"]["suspend"] is True for n in names[1:])
