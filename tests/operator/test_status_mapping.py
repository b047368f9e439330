"""The Export's status as a pure function of the Export, its Job and the Job's pods."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from streamexport_operator.jobs import build_job
from streamexport_operator.settings import Settings
from streamexport_operator.status import export_status, exporter_message, status_patch

SETTINGS = Settings(exporter_image="exporter:1", s3_bucket="exports")
NOW = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
KEY = "exports/default/e-1/transactions.csv"


def export_body(
    status: dict[str, Any] | None = None, annotations: dict[str, str] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "streamexport.io/v1",
        "kind": "Export",
        "metadata": {
            "name": "e-1",
            "namespace": "default",
            "uid": "u-1",
            "generation": 3,
            "annotations": dict(annotations or {}),
        },
        "spec": {
            "resourceType": "TRANSACTIONS",
            "format": "csv",
            "filters": {},
            "requestedBy": {"userId": "u", "email": "a@example.com"},
            "estimatedRowCount": 10,
        },
    }
    if status is not None:
        body["status"] = status
    return body


def job_body(*conditions: dict[str, Any], **status: Any) -> dict[str, Any]:
    job = build_job(export_body(), SETTINGS)
    job["metadata"]["uid"] = "job-uid"
    job["status"] = {"startTime": "2026-03-01T11:00:00Z", **status, "conditions": list(conditions)}
    return job


def condition(
    kind: str, reason: str, message: str = "", when: str = "2026-03-01T11:30:00Z"
) -> dict[str, Any]:
    return {
        "type": kind,
        "status": "True",
        "reason": reason,
        "message": message,
        "lastTransitionTime": when,
    }


def pod(
    exit_code: int,
    reason: str,
    message: str = "",
    created: str = "2026-03-01T11:00:01Z",
    name: str = "e-1-abc",
) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "creationTimestamp": created,
            "ownerReferences": [{"uid": "job-uid"}],
        },
        "status": {
            "phase": "Succeeded" if exit_code == 0 else "Failed",
            "containerStatuses": [
                {
                    "name": "exporter",
                    "state": {
                        "terminated": {"exitCode": exit_code, "reason": reason, "message": message}
                    },
                },
            ],
        },
    }


def conditions_by_type(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in status["conditions"]}


def test_no_job_yet_is_queued() -> None:
    status = export_status(export_body(), None, [], NOW, SETTINGS)
    assert status["phase"] == "QUEUED"
    assert status["observedGeneration"] == 3
    admitted = conditions_by_type(status)["Admitted"]
    assert (admitted["status"], admitted["reason"]) == ("False", "Queued")
    assert admitted["observedGeneration"] == 3
    assert conditions_by_type(status)["Ready"]["status"] == "False"


def test_a_running_job_is_processing_since_its_start() -> None:
    status = export_status(export_body(), job_body(active=1), [], NOW, SETTINGS)
    assert status["phase"] == "PROCESSING"
    assert status["startedAt"] == "2026-03-01T11:00:00Z"
    assert status["jobName"] == "e-1"
    ready = conditions_by_type(status)["Ready"]
    assert (ready["status"], ready["reason"]) == ("False", "Processing")
    assert conditions_by_type(status)["Admitted"]["status"] == "True"


def test_a_complete_job_carries_the_exporters_result() -> None:
    result = {
        "status": "succeeded",
        "rows": 4200,
        "bytes": 123456,
        "objectKey": KEY,
        "fileName": "transactions.csv",
        "checksum": "ab12",
        "format": "csv",
    }
    job = job_body(
        condition("Complete", "CompletionsReached"),
        completionTime="2026-03-01T11:30:00Z",
        succeeded=1,
    )
    status = export_status(
        export_body(), job, [pod(0, "Completed", json.dumps(result))], NOW, SETTINGS
    )
    assert status["phase"] == "COMPLETED"
    assert status["completedAt"] == "2026-03-01T11:30:00Z"
    assert status["expiresAt"] == "2026-03-08T11:30:00Z"
    assert status["actualRowCount"] == status["rowsWritten"] == 4200
    assert status["progressPercentage"] == 100
    assert status["fileSizeBytes"] == 123456
    assert status["objectKey"] == KEY
    assert status["checksum"] == "ab12"
    assert status["fileName"] == "transactions.csv"
    ready = conditions_by_type(status)["Ready"]
    assert (ready["status"], ready["reason"]) == ("True", "Completed")


def test_expiry_follows_the_setting() -> None:
    job = job_body(
        condition("Complete", "CompletionsReached"), completionTime="2026-03-01T11:30:00Z"
    )
    settings = Settings(exporter_image="x", s3_bucket="b", export_expiry_seconds=3600)
    status = export_status(export_body(), job, [], NOW, settings)
    assert status["expiresAt"] == "2026-03-01T12:30:00Z"
    # The exporter names the object: without its result the key is unknown, so no link.
    assert "objectKey" not in status


def test_oom_killed_is_named_from_the_containers_terminated_state() -> None:
    job = job_body(condition("Failed", "PodFailurePolicy", "Container exporter ... 137"))
    status = export_status(export_body(), job, [pod(137, "OOMKilled")], NOW, SETTINGS)
    assert status["phase"] == "FAILED"
    assert status["reason"] == "OOMKilled"
    assert "512Mi" in status["message"]
    assert status["completedAt"] == "2026-03-01T11:30:00Z"
    ready = conditions_by_type(status)["Ready"]
    assert (ready["status"], ready["reason"]) == ("False", "OOMKilled")


def test_deadline_exceeded() -> None:
    job = job_body(condition("Failed", "DeadlineExceeded", "Job was active longer than ..."))
    status = export_status(export_body(), job, [pod(143, "Error", "terminated")], NOW, SETTINGS)
    assert (status["phase"], status["reason"]) == ("FAILED", "DeadlineExceeded")
    assert "3600 seconds" in status["message"]


def test_exit_code_2_is_an_invalid_request_with_the_exporters_message() -> None:
    words = {
        "status": "failed",
        "exitCode": 2,
        "reason": "TooManyRows",
        "message": "the export has 600000 rows; the limit is 500000",
    }
    job = job_body(condition("Failed", "PodFailurePolicy", "exit code 2"))
    status = export_status(export_body(), job, [pod(2, "Error", json.dumps(words))], NOW, SETTINGS)
    assert (status["phase"], status["reason"]) == ("FAILED", "InvalidRequest")
    assert status["message"] == "the export has 600000 rows; the limit is 500000"


def test_backoff_limit_exceeded_keeps_the_last_attempts_words() -> None:
    first = pod(1, "Error", '{"message": "database unreachable"}', "2026-03-01T11:00:01Z", "a")
    last = pod(1, "Error", '{"message": "S3 error: timeout"}', "2026-03-01T11:05:01Z", "b")
    job = job_body(condition("Failed", "BackoffLimitExceeded", "Job has reached the limit"))
    status = export_status(export_body(), job, [last, first], NOW, SETTINGS)
    assert (status["phase"], status["reason"]) == ("FAILED", "BackoffLimitExceeded")
    assert status["message"] == "S3 error: timeout"


def test_cancel_requested_before_a_job_exists() -> None:
    export = export_body(annotations={"streamexport.io/cancel-requested": "2026-03-01T11:59:00Z"})
    status = export_status(export, None, [], NOW, SETTINGS)
    assert (status["phase"], status["reason"]) == ("CANCELLED", "Cancelled")
    assert status["completedAt"] == "2026-03-01T12:00:00Z"


def test_cancel_requested_while_running() -> None:
    export = export_body(annotations={"streamexport.io/cancel-requested": "2026-03-01T11:59:00Z"})
    status = export_status(export, job_body(active=1), [], NOW, SETTINGS)
    assert status["phase"] == "CANCELLED"


def test_a_job_that_finished_wins_over_a_late_cancel() -> None:
    export = export_body(annotations={"streamexport.io/cancel-requested": "2026-03-01T11:59:00Z"})
    job = job_body(condition("Complete", "CompletionsReached"))
    assert export_status(export, job, [], NOW, SETTINGS)["phase"] == "COMPLETED"


@pytest.mark.parametrize("phase", ["COMPLETED", "FAILED", "CANCELLED"])
def test_a_final_phase_outlives_its_job(phase: str) -> None:
    final = {
        "phase": phase,
        "completedAt": "2026-03-01T11:30:00Z",
        "jobName": "e-1",
        "notification": {"sentAt": "2026-03-01T11:31:00Z"},
    }
    status = export_status(export_body(final), None, [], NOW, SETTINGS)
    assert status["phase"] == phase
    assert status_patch(final, status) == {}


def test_condition_transition_time_moves_only_when_its_status_flips() -> None:
    first = export_status(export_body(), job_body(active=1), [], NOW, SETTINGS)
    later = NOW + dt.timedelta(minutes=5)
    again = export_status(export_body(first), job_body(active=1), [], later, SETTINGS)
    assert conditions_by_type(again)["Ready"]["lastTransitionTime"] == "2026-03-01T12:00:00Z"
    done = job_body(condition("Complete", "CompletionsReached"))
    final = export_status(export_body(first), done, [], later, SETTINGS)
    assert conditions_by_type(final)["Ready"]["lastTransitionTime"] == "2026-03-01T12:05:00Z"
    assert conditions_by_type(final)["Admitted"]["lastTransitionTime"] == "2026-03-01T12:00:00Z"


def test_patch_sets_changes_clears_stale_fields_and_leaves_progress_alone() -> None:
    current = {
        "phase": "QUEUED",
        "message": "Waiting",
        "rowsWritten": 500,
        "progressPercentage": 50,
        "notification": {"attempts": 1},
    }
    desired = {"phase": "PROCESSING", "jobName": "e-1"}
    assert status_patch(current, desired) == {
        "phase": "PROCESSING",
        "jobName": "e-1",
        "message": None,
    }


def test_exporter_message_prefers_the_json_message_then_the_log_tail() -> None:
    assert exporter_message('{"message": "bad filter"}') == "bad filter"
    assert (
        exporter_message("Traceback ...\nValueError: boom\n") == "Traceback ...\nValueError: boom"
    )
    assert exporter_message("x" * 5000).startswith("…")
    assert len(exporter_message("x" * 5000)) == 1024
