"""The runner decides retry / complete / fail exactly as the Job controller would."""

from __future__ import annotations

from typing import Any

from devstack.jobrunner.jobstatus import PodOutcome, decide, is_finished, job_status
from devstack.jobrunner.quantity import parse_quantity

SPEC: dict[str, Any] = {
    "backoffLimit": 2,
    "podFailurePolicy": {
        "rules": [
            {
                "action": "FailJob",
                "onExitCodes": {"containerName": "exporter", "operator": "In", "values": [2]},
            },
            {
                "action": "Ignore",
                "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
            },
        ]
    },
}


def _failed(code: int = 1, reason: str = "Error", **kw: Any) -> PodOutcome:
    return PodOutcome("p", "exporter", code, reason, **kw)


def test_success_completes_the_job() -> None:
    assert (
        decide(SPEC, [_failed(), PodOutcome("p", "exporter", 0, "Completed")]).outcome == "complete"
    )


def test_retryable_failures_are_retried_up_to_the_backoff_limit() -> None:
    assert decide(SPEC, [_failed()]).outcome == "run"
    assert decide(SPEC, [_failed(), _failed()]).outcome == "run"
    final = decide(SPEC, [_failed(), _failed(), _failed()])
    assert (final.outcome, final.reason) == ("fail", "BackoffLimitExceeded")


def test_exit_code_two_fails_the_job_at_once_by_policy() -> None:
    decision = decide(SPEC, [_failed(2)])
    assert (decision.outcome, decision.reason) == ("fail", "PodFailurePolicy")
    assert "exit code 2 matching FailJob rule at index 0" in decision.message


def test_disruptions_are_ignored_and_not_counted() -> None:
    outcomes = [_failed(137, conditions=("DisruptionTarget",))] * 5
    assert decide(SPEC, outcomes).outcome == "run"
    assert job_status(SPEC, outcomes, start_time="t", active=0, decision=None)["failed"] == 0


def test_deadline_fails_with_its_reason() -> None:
    decision = decide(SPEC, [_failed(143, "DeadlineExceeded")])
    assert (decision.outcome, decision.reason) == ("fail", "DeadlineExceeded")


def test_finished_status_carries_the_conditions_kubernetes_sets() -> None:
    outcomes = [PodOutcome("p", "exporter", 0, "Completed")]
    status = job_status(SPEC, outcomes, start_time="t", active=0, decision=decide(SPEC, outcomes))
    assert status["succeeded"] == 1 and "completionTime" in status
    assert [c["type"] for c in status["conditions"]] == ["SuccessCriteriaMet", "Complete"]
    assert is_finished({"status": status})
    failed = job_status(
        SPEC, [_failed(2)], start_time="t", active=0, decision=decide(SPEC, [_failed(2)])
    )
    assert [c["type"] for c in failed["conditions"]] == ["FailureTarget", "Failed"]
    assert "completionTime" not in failed


def test_memory_quantities() -> None:
    assert parse_quantity("512Mi") == 512 * 2**20
    assert parse_quantity("1.5Gi") == 3 * 2**29
    assert parse_quantity("500M") == 500_000_000
    assert parse_quantity("64") == 64
