"""What the Job controller decides after each pod: retry, complete or fail, and with which reason.

Pure functions of the Job's spec and the outcomes of its pods so far; `runner.py` does the I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Action = Literal["FailJob", "Ignore", "Count"]


@dataclass(frozen=True)
class PodOutcome:
    """How one pod's (single) container ended."""

    pod_name: str
    container: str
    exit_code: int
    # Completed | Error | OOMKilled | StartError | DeadlineExceeded (stopped at the Job's
    # deadline) | Cancelled (stopped because the Job went away or the runner stops); an
    # evicted pod's container is `Error` (stopped by SIGTERM/SIGKILL: 143/137) with the
    # DisruptionTarget condition
    reason: str
    message: str = ""
    conditions: tuple[str, ...] = field(default_factory=tuple)  # e.g. DisruptionTarget

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0 and self.reason == "Completed"


@dataclass(frozen=True)
class Decision:
    outcome: Literal["run", "complete", "fail"]
    reason: str = ""
    message: str = ""


DEADLINE_EXCEEDED = Decision(
    "fail", "DeadlineExceeded", "Job was active longer than specified deadline"
)


def now_rfc3339(now: dt.datetime | None = None) -> str:
    moment = now or dt.datetime.now(dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def policy_action(job_spec: Mapping[str, Any], outcome: PodOutcome) -> tuple[Action, int]:
    """The first matching `podFailurePolicy` rule's action and index; (`Count`, -1) if none."""
    rules = (job_spec.get("podFailurePolicy") or {}).get("rules", [])
    for index, rule in enumerate(rules):
        on_codes = rule.get("onExitCodes")
        if on_codes is not None:
            if on_codes.get("containerName") not in (None, outcome.container):
                continue
            inside = outcome.exit_code in on_codes.get("values", [])
            if (on_codes.get("operator", "In") == "In") == inside and outcome.exit_code != 0:
                return rule["action"], index
        for condition in rule.get("onPodConditions", []):
            if (
                condition.get("type") in outcome.conditions
                and condition.get("status", "True") == "True"
            ):
                return rule["action"], index
    return "Count", -1


def decide(job_spec: Mapping[str, Any], outcomes: Sequence[PodOutcome]) -> Decision:
    """After the latest pod ended: run another, or finish the Job the way Kubernetes would."""
    if outcomes and outcomes[-1].succeeded:
        return Decision("complete")
    failed = 0
    for outcome in outcomes:
        if outcome.reason == "DeadlineExceeded":
            return DEADLINE_EXCEEDED
        action, index = policy_action(job_spec, outcome)
        if action == "FailJob":
            return Decision(
                "fail",
                "PodFailurePolicy",
                f"Container {outcome.container} for pod {outcome.pod_name} failed with exit "
                f"code {outcome.exit_code} matching FailJob rule at index {index}",
            )
        if action == "Count":
            failed += 1
    if failed > int(job_spec.get("backoffLimit", 6)):
        return Decision(
            "fail", "BackoffLimitExceeded", "Job has reached the specified backoff limit"
        )
    return Decision("run")


def failed_count(job_spec: Mapping[str, Any], outcomes: Sequence[PodOutcome]) -> int:
    return sum(1 for o in outcomes if not o.succeeded and policy_action(job_spec, o)[0] != "Ignore")


def job_status(
    job_spec: Mapping[str, Any],
    outcomes: Sequence[PodOutcome],
    *,
    start_time: str,
    active: int,
    decision: Decision | None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The Job's `status` as the Job controller writes it."""
    stamp = now_rfc3339(now)
    status: dict[str, Any] = {
        "startTime": start_time,
        "active": active,
        "ready": active,
        "succeeded": sum(1 for o in outcomes if o.succeeded),
        "failed": failed_count(job_spec, outcomes),
        "terminating": 0,
        "uncountedTerminatedPods": {},
    }
    if decision is not None and decision.outcome == "complete":
        status["completionTime"] = stamp
        status["conditions"] = [
            _condition(
                "SuccessCriteriaMet",
                "CompletionsReached",
                "Reached expected number of succeeded pods",
                stamp,
            ),
            _condition(
                "Complete", "CompletionsReached", "Reached expected number of succeeded pods", stamp
            ),
        ]
    elif decision is not None and decision.outcome == "fail":
        status["conditions"] = [
            _condition("FailureTarget", decision.reason, decision.message, stamp),
            _condition("Failed", decision.reason, decision.message, stamp),
        ]
    return status


def _condition(kind: str, reason: str, message: str, stamp: str) -> dict[str, str]:
    return {
        "type": kind,
        "status": "True",
        "reason": reason,
        "message": message,
        "lastProbeTime": stamp,
        "lastTransitionTime": stamp,
    }


def is_finished(job: Mapping[str, Any]) -> bool:
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True":
            return True
    return False
