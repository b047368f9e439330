"""Failure reasons that tell the truth: exit 137 is a SIGKILL from anyone; only the kubelet's
`OOMKilled` (or the exporter stopping itself at its memory limit) is called out of memory."""

from __future__ import annotations

import json
from typing import Any

from test_status_mapping import NOW, SETTINGS, condition, export_body, job_body, pod

from streamexport_core.contract import EXIT_OUT_OF_MEMORY
from streamexport_operator.jobs import pod_failure_policy
from streamexport_operator.status import export_status

BACKOFF = condition("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")


def evicted(exit_code: int = 137) -> dict[str, Any]:
    body = pod(exit_code, "Error", "", name="e-1-evicted")
    body["status"].update(
        reason="Evicted",
        message="The node was low on resource: memory.",
        conditions=[
            {"type": "DisruptionTarget", "status": "True", "reason": "TerminationByKubelet"}
        ],
    )
    return body


def reason_of(job: dict[str, Any], pods: list[dict[str, Any]]) -> tuple[str, str]:
    status = export_status(export_body(), job, pods, NOW, SETTINGS)
    assert status["phase"] == "FAILED"
    return status["reason"], status["message"]


def test_an_external_sigkill_is_killed_not_oom() -> None:
    reason, message = reason_of(job_body(BACKOFF), [pod(137, "Error")])
    assert reason == "Killed"
    assert "memory" not in message
    assert "signal 9" in message


def test_the_kubelets_oomkilled_is_oom_even_after_retries() -> None:
    reason, message = reason_of(job_body(BACKOFF), [pod(137, "OOMKilled")])
    assert reason == "OOMKilled"
    assert "512Mi" in message


def test_the_exporter_stopping_at_its_memory_limit_is_out_of_memory() -> None:
    words = {"message": "memory use 470 MiB reached 90% of the 512 MiB limit"}
    job = job_body(condition("Failed", "PodFailurePolicy", "exit code 3"))
    reason, message = reason_of(job, [pod(EXIT_OUT_OF_MEMORY, "Error", json.dumps(words))])
    assert reason == "OutOfMemory"
    assert "470 MiB" in message


def test_an_eviction_is_evicted() -> None:
    reason, message = reason_of(job_body(BACKOFF), [evicted()])
    assert reason == "Evicted"
    assert "low on resource" in message


def test_a_deadline_wins_over_the_kill_that_enforced_it() -> None:
    job = job_body(condition("Failed", "DeadlineExceeded", "Job was active longer than ..."))
    assert reason_of(job, [pod(137, "Error")])[0] == "DeadlineExceeded"


def test_policy_retries_any_sigkill_and_fails_at_once_on_the_exporters_own_codes() -> None:
    rules = pod_failure_policy()["rules"]
    fail_codes = sorted(
        code
        for rule in rules
        if rule["action"] == "FailJob"
        for code in rule["onExitCodes"]["values"]
    )
    assert fail_codes == [2, EXIT_OUT_OF_MEMORY]
    assert 137 not in fail_codes
