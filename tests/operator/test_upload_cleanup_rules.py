"""Which exports get their incomplete uploads aborted, and when: pure rules, no server."""

from __future__ import annotations

from typing import Any

import pytest

from streamexport_operator.uploads import exporter_may_run, needs_upload_cleanup

FAILED_JOB = {"status": {"conditions": [{"type": "Failed", "status": "True"}]}}
RUNNING_JOB: dict[str, Any] = {"status": {"active": 1}}
DELETING_JOB = {"metadata": {"deletionTimestamp": "2024-01-01T00:00:00Z"}, "status": {}}


def pod(phase: str) -> dict[str, Any]:
    return {"status": {"phase": phase}}


def export(phase: str, **status: Any) -> dict[str, Any]:
    return {"status": {"phase": phase, **status}}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (export("FAILED", jobName="e"), True),
        (export("CANCELLED", jobName="e"), True),
        (export("FAILED", jobName="e", uploadCleanup={"doneAt": "2024-01-01T00:00:00Z"}), False),
        (export("FAILED", reason="InvalidRequest"), False),  # never had a Job (older operators)
        (export("CANCELLED"), False),  # cancelled while queued
        (export("COMPLETED", jobName="e"), False),
        (export("PROCESSING", jobName="e"), False),
    ],
)
def test_failed_and_cancelled_exports_that_had_a_job(body: dict[str, Any], expected: bool) -> None:
    assert needs_upload_cleanup(body) is expected


@pytest.mark.parametrize(
    ("job", "pods", "expected"),
    [
        (None, [], False),
        (FAILED_JOB, [pod("Failed")], False),
        (FAILED_JOB, [pod("Failed"), pod("Running")], True),  # still being killed
        (RUNNING_JOB, [], True),  # may still create a pod
        (DELETING_JOB, [pod("Running")], True),  # cancel: the pod has its grace period
        (DELETING_JOB, [], False),
    ],
)
def test_the_exporter_may_run_until_its_job_and_pods_are_done(
    job: dict[str, Any] | None, pods: list[dict[str, Any]], expected: bool
) -> None:
    assert exporter_may_run(job, pods) is expected
