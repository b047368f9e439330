"""Who gets an email and when it is retried (pure rules of the notifier)."""

from __future__ import annotations

from typing import Any

import pytest

from streamexport_operator.notifier import needs_email, retry_delay
from streamexport_operator.settings import Settings

WITH_SMTP = Settings(exporter_image="x", s3_bucket="b", smtp_host="smtp.example.com")
WITHOUT_SMTP = Settings(exporter_image="x", s3_bucket="b")


def export(
    phase: str, notification: dict[str, Any] | None = None, notify: dict[str, Any] | None = None
) -> dict[str, Any]:
    spec: dict[str, Any] = {"requestedBy": {"userId": "u", "email": "a@example.com"}}
    if notify is not None:
        spec["notify"] = notify
    return {"spec": spec, "status": {"phase": phase, "notification": notification or {}}}


@pytest.mark.parametrize("phase", ["COMPLETED", "FAILED"])
def test_a_finished_export_is_mailed_once(phase: str) -> None:
    assert needs_email(export(phase), WITH_SMTP)
    assert needs_email(export(phase, {"attempts": 3, "lastError": "x"}), WITH_SMTP)
    assert not needs_email(export(phase, {"sentAt": "2026-03-01T12:00:00Z"}), WITH_SMTP)


@pytest.mark.parametrize("phase", ["QUEUED", "PROCESSING", "CANCELLED"])
def test_other_phases_are_not_mailed(phase: str) -> None:
    assert not needs_email(export(phase), WITH_SMTP)


def test_no_relay_means_no_email() -> None:
    assert not needs_email(export("COMPLETED"), WITHOUT_SMTP)


def test_the_requester_can_opt_out() -> None:
    assert not needs_email(export("COMPLETED", notify={"email": False}), WITH_SMTP)
    assert needs_email(export("COMPLETED", notify={"email": True}), WITH_SMTP)


def test_retries_back_off_exponentially_up_to_five_minutes() -> None:
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert retry_delay(20) == 300
