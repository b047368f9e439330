"""An Export gets exactly one Job, built by `build_job`, owned by it; bad specs get none."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jobsim import (
    create_export,
    eventually,
    get_export,
    list_jobs,
    wait_events,
    wait_for_job,
    wait_phase,
)
from opharness import OperatorThread, SmtpServer

from streamexport_operator.jobs import build_job
from streamexport_operator.kube import Export, KubeClient
from streamexport_operator.settings import Settings

Start = Callable[..., OperatorThread]


async def test_an_export_gets_exactly_one_job_with_the_full_manifest(
    start_operator: Start, kube: KubeClient, settings: Settings
) -> None:
    start_operator()
    export = await create_export(
        kube, fmt="xlsx", filters={"startDate": "2024-01-01", "status": "SETTLED"}
    )
    name = export["metadata"]["name"]
    job = await wait_for_job(kube, name)

    key = f"exports/default/{name}/transactions_2024-01-01_SETTLED.xlsx"
    expected = build_job(export, settings, key)
    assert job["spec"] == expected["spec"]
    assert job["metadata"]["labels"] == expected["metadata"]["labels"]
    assert job["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "streamexport.io/v1",
            "kind": "Export",
            "name": name,
            "uid": export["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["memory"] == "512Mi"
    assert {"name": "EXPORT_OBJECT_KEY", "value": key} in container["env"]

    status = (await wait_phase(kube, name, "PROCESSING"))["status"]
    assert status["jobName"] == name
    await wait_events(kube, name, "Queued", "Processing")

    # More events for the export (an annotation, a status patch) never make a second Job.
    await kube.merge_patch(
        Export,
        name,
        {"metadata": {"annotations": {"example.com/touched": "1"}}},
        namespace="default",
    )
    await kube.merge_patch(
        Export.Status,
        name,
        {"status": {"rowsWritten": 10, "progressPercentage": 1}},
        namespace="default",
    )

    async def progress_seen() -> dict[str, Any] | None:
        current = await get_export(kube, name)
        return current if current["status"].get("rowsWritten") == 10 else None

    await eventually(progress_seen)
    assert [j["metadata"]["name"] for j in await list_jobs(kube)] == [name]


async def test_an_existing_job_of_that_name_is_taken_as_its_own(
    start_operator: Start, kube: KubeClient, settings: Settings
) -> None:
    export = await create_export(kube)
    name = export["metadata"]["name"]
    # As if an earlier operator created it and died before writing any status.
    key = f"exports/default/{name}/transactions_2024-01-01.csv"
    await kube.create(build_job(export, settings, key), namespace="default")
    start_operator()
    await wait_phase(kube, name, "PROCESSING")
    assert len(await list_jobs(kube)) == 1


async def test_a_spec_the_catalog_rejects_fails_without_a_job(
    start_operator: Start, kube: KubeClient, smtp: SmtpServer
) -> None:
    start_operator()
    export = await create_export(kube, filters={"startDate": "yesterday"})
    name = export["metadata"]["name"]
    status = (await wait_phase(kube, name, "FAILED"))["status"]
    assert status["reason"] == "InvalidRequest"
    assert "startDate" in status["message"]
    assert "jobName" not in status

    async def mailed() -> list[Any]:
        return smtp.messages

    [message] = await eventually(mailed)
    assert message["Subject"] == "Your TRANSACTIONS export failed"
    assert await list_jobs(kube) == []
