"""An operator stopped and started mid-export: no second Job, status converges, one email."""

from __future__ import annotations

from collections.abc import Callable

from jobsim import (
    JobController,
    create_export,
    eventually,
    list_jobs,
    plain_text,
    result_message,
    wait_for_job,
    wait_phase,
)
from opharness import OperatorThread, SmtpServer

from streamexport_operator.kube import KubeClient

Start = Callable[..., OperatorThread]


def mails_about(smtp: SmtpServer, name: str) -> int:
    return sum(name in plain_text(m) for m in smtp.messages)


async def test_status_converges_after_a_restart_without_a_second_job_or_email(
    start_operator: Start, kube: KubeClient, smtp: SmtpServer
) -> None:
    first = start_operator()
    name = (await create_export(kube))["metadata"]["name"]
    job = await wait_for_job(kube, name)
    controller = JobController(kube, name)
    await controller.run_pod()
    await wait_phase(kube, name, "PROCESSING")
    first.stop()

    # The export finishes while no operator runs.
    await controller.end_pod(0, "Completed", result_message(name, rows=77))

    second = start_operator()
    status = (await wait_phase(kube, name, "COMPLETED"))["status"]
    assert status["actualRowCount"] == 77
    jobs = await list_jobs(kube)
    assert [j["metadata"]["uid"] for j in jobs] == [job["metadata"]["uid"]]

    async def mailed() -> bool:
        return mails_about(smtp, name) == 1

    await eventually(mailed)

    async def recorded() -> bool:
        status = (await wait_phase(kube, name, "COMPLETED"))["status"]
        return bool((status.get("notification") or {}).get("sentAt"))

    await eventually(recorded)
    second.stop()

    # A third start must not mail again. Sync point: another export's email, which the
    # restarted operator can only send after it has listed (and skipped) the first export.
    start_operator()
    other = (await create_export(kube))["metadata"]["name"]
    await wait_for_job(kube, other)
    await JobController(kube, other).succeed(result_message(other))

    async def other_mailed() -> bool:
        return mails_about(smtp, other) == 1

    await eventually(other_mailed)
    assert mails_about(smtp, name) == 1
    assert len(await list_jobs(kube)) == 2
