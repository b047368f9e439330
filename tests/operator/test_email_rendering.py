"""Notification emails: Jinja2 subject, text and HTML, overridable per outcome (pure)."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path
from typing import Any

import pytest

from streamexport_operator.notify import build_message, email_context, render_email


def finished_export(phase: str = "COMPLETED", **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "5b0f3d4e-0000-4000-8000-000000000001", "namespace": "default"},
        "spec": {
            "resourceType": "TRANSACTIONS",
            "format": "xlsx",
            "requestedBy": {"userId": "u-1", "email": "alice@example.com"},
        },
        "status": {
            "phase": phase,
            "actualRowCount": 123456,
            "fileSizeBytes": 5 * 1024 * 1024,
            "objectKey": "exports/default/5b0f/transactions_2024-01-01.xlsx",
            "expiresAt": "2026-03-08T11:30:00Z",
            **status,
        },
    }


def completed_context() -> dict[str, Any]:
    return email_context(
        finished_export(),
        download_url="https://s3.example.com/exports/x?X-Amz-Signature=abc&a=1",
        download_expires_at="2026-03-08T11:30:00Z",
        api_public_url="https://exports.example.com",
    )


def test_success_mail_has_everything_the_requester_needs() -> None:
    mail = render_email("completed", completed_context())
    assert mail.subject == "Your TRANSACTIONS export is ready (123,456 rows, XLSX)"
    for part in (mail.text, mail.html):
        assert "TRANSACTIONS" in part
        assert "123,456" in part
        assert "5.0 MiB" in part
        assert "transactions_2024-01-01.xlsx" in part
        assert "2026-03-08T11:30:00Z" in part
        assert (
            "https://exports.example.com/api/v1/exports/5b0f3d4e-0000-4000-8000-000000000001"
            in part
        )
    assert "https://s3.example.com/exports/x?X-Amz-Signature=abc&a=1" in mail.text
    # HTML is escaped: the URL's & becomes &amp; inside the href.
    assert 'href="https://s3.example.com/exports/x?X-Amz-Signature=abc&amp;a=1"' in mail.html


def test_failure_mail_names_the_reason_and_the_exporters_message() -> None:
    export = finished_export("FAILED", reason="OOMKilled", message="ran out of <memory>")
    mail = render_email("failed", email_context(export))
    assert mail.subject == "Your TRANSACTIONS export failed"
    assert "OOMKilled" in mail.text and "more memory" in mail.text
    assert "ran out of <memory>" in mail.text
    assert "ran out of &lt;memory&gt;" in mail.html


def test_no_api_link_without_a_public_url() -> None:
    mail = render_email("failed", email_context(finished_export("FAILED", reason="X")))
    assert "/api/v1/exports/" not in mail.text


def test_a_templates_directory_overrides_only_what_it_has(tmp_path: Path) -> None:
    (tmp_path / "completed").mkdir()
    (tmp_path / "completed" / "subject.txt.j2").write_text("Export {{ export_id }} done\n")
    mail = render_email("completed", completed_context(), tmp_path)
    assert mail.subject == "Export 5b0f3d4e-0000-4000-8000-000000000001 done"
    assert "123,456" in mail.text  # the packaged body still applies


def test_a_typo_in_a_template_is_an_error_not_a_blank(tmp_path: Path) -> None:
    (tmp_path / "failed").mkdir()
    (tmp_path / "failed" / "subject.txt.j2").write_text("{{ no_such_name }}")
    with pytest.raises(Exception, match="no_such_name"):
        render_email("failed", email_context(finished_export("FAILED")), tmp_path)


def test_message_is_multipart_alternative_text_then_html() -> None:
    mail = render_email("completed", completed_context())
    message = build_message(
        mail,
        sender="streamexport <noreply@example.com>",
        recipient="alice@example.com",
        export_ref="default/5b0f",
    )
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert parsed["To"] == "alice@example.com"
    assert parsed["Subject"] == mail.subject
    assert parsed.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in parsed.iter_parts()]
    assert kinds == ["text/plain", "text/html"]
