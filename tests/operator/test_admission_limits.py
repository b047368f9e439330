"""Queued exports start first come, first served, as soon as a slot frees, never over a limit."""

from __future__ import annotations

import uuid
from collections.abc import Callable

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

from streamexport_operator.kube import KubeClient

Start = Callable[..., OperatorThread]


async def job_names(kube: KubeClient) -> set[str]:
    return {job["metadata"]["name"] for job in await list_jobs(kube)}


async def test_six_exports_under_a_limit_of_two_run_two_at_a_time_in_creation_order(
    start_operator: Start, kube: KubeClient
) -> None:
    start_operator(max_running_exports=2, max_running_exports_per_owner=2)
    # creationTimestamp has one-second precision; ties go by name, so names sort in the
    # order of creation here and the order under test is the creation order either way.
    names = sorted(str(uuid.uuid4()) for _ in range(6))
    for index, name in enumerate(names):
        await create_export(kube, name=name, user_id=f"user-{index % 3}")

    for done, name in enumerate(names):
        expected = set(names[: min(done + 2, len(names))])

        async def admitted(expected: set[str] = expected, done: int = done) -> bool:
            jobs = await job_names(kube)
            # Jobs are never deleted in this test, so an overbooking would stay visible.
            assert len(jobs) <= done + 2, f"more than two running: {sorted(jobs)}"
            return jobs == expected

        await eventually(admitted)
        waiting = await get_export(kube, names[-1])
        if names[-1] not in expected:
            assert waiting["status"]["phase"] == "QUEUED"
        await JobController(kube, name).succeed(result_message(name))
        await wait_phase(kube, name, "COMPLETED")

    finished = [(await get_export(kube, name))["status"]["completedAt"] for name in names]
    assert finished == sorted(finished)
    assert await job_names(kube) == set(names)


async def test_an_owner_at_its_limit_waits_while_others_run(
    start_operator: Start, kube: KubeClient
) -> None:
    start_operator(max_running_exports=4, max_running_exports_per_owner=2)
    alice = sorted(str(uuid.uuid4()) for _ in range(3))
    for name in alice:
        await create_export(kube, name=name, user_id="alice")
    bob = (await create_export(kube, user_id="bob", email="bob@example.com"))["metadata"]["name"]

    async def first_wave() -> bool:
        return await job_names(kube) == {alice[0], alice[1], bob}

    await eventually(first_wave)
    queued = (await wait_phase(kube, alice[2], "QUEUED"))["status"]
    admitted = next(c for c in queued["conditions"] if c["type"] == "Admitted")
    assert (admitted["status"], admitted["reason"]) == ("False", "Queued")

    await JobController(kube, alice[0]).succeed(result_message(alice[0]))

    async def second_wave() -> bool:
        return alice[2] in await job_names(kube)

    await eventually(second_wave)
    assert len(await job_names(kube)) == 4
