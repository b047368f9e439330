"""An Export gets exactly one Job, built by `build_job`, owned by it; a bad spec fails through
the exporter's exit code 2."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from jobsim import (
    JobController,
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
REJECTED = {
    "status": "failed",
    "exitCode": 2,
    "reason": "InvalidRequest",
    "message": "startDate must be a valid ISO 8601 date string (YYYY-MM-DD)",
}


async def test_an_export_gets_exactly_one_job_with_the_full_manifest(
    start_operator: Start, kube: KubeClient, settings: Settings
) -> None:
    start_operator()
    export = await create_export(
        kube, fmt="xlsx", filters={"startDate": "2024-01-01", "status": "SETTLED"}
    )
    name = export["metadata"]["name"]
    job = await wait_for_job(kube, name)

    expected = build_job(export, settings)
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
    prefix = {"name": "EXPORT_OBJECT_KEY_PREFIX", "value": f"exports/default/{name}/"}
    assert prefix in container["env"]

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
    await kube.create(build_job(export, settings), namespace="default")
    start_operator()
    await wait_phase(kube, name, "PROCESSING")
    assert len(await list_jobs(kube)) == 1


async def test_a_spec_the_catalog_rejects_fails_as_invalid_request_through_exit_code_2(
    start_operator: Start, kube: KubeClient, smtp: SmtpServer
) -> None:
    start_operator()
    export = await create_export(kube, filters={"startDate": "yesterday"})
    name = export["metadata"]["name"]
    await wait_for_job(kube, name)
    # What the exporter does with this spec (tests/exporter/test_bad_input.py): exit 2 with
    # its reason in the termination message; the Job's podFailurePolicy fails it at once.
    controller = JobController(kube, name)
    await controller.run_pod()
    await controller.end_pod(2, "Error", json.dumps(REJECTED))
    status = (await wait_phase(kube, name, "FAILED"))["status"]
    assert status["reason"] == "InvalidRequest"
    assert "startDate" in status["message"]
    assert len(controller.outcomes) == 1  # never retried

    async def mailed() -> list[Any]:
        return smtp.messages

    [message] = await eventually(mailed)
    assert message["Subject"] == "Your TRANSACTIONS export failed"
    assert [j["metadata"]["name"] for j in await list_jobs(kube)] == [name]
