"""`kueue.localQueue` reaches the operator as KUEUE_QUEUE_NAME, which its real settings
parser reads; without it the operator gets no such variable (its own admission stays)."""

from __future__ import annotations

from chart_helpers import Rendered, container_env


def _operator_env(rendered: Rendered) -> dict[str, object]:
    pod = rendered.one("Deployment", "operator")["spec"]["template"]["spec"]
    return container_env(pod["containers"][0])


def test_the_local_queue_reaches_the_operator(all_on: Rendered) -> None:
    assert _operator_env(all_on)["KUEUE_QUEUE_NAME"] == "team-exports"


def test_without_kueue_no_variable(defaults: Rendered) -> None:
    assert "KUEUE_QUEUE_NAME" not in _operator_env(defaults)
