"""The notification email's words: Jinja2 templates rendered from an export's outcome (pure)."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

import jinja2

OUTCOMES = ("completed", "failed")
TEMPLATE_FILES = ("subject.txt.j2", "body.txt.j2", "body.html.j2")
REASON_TEXT = {
    "OOMKilled": "The export needed more memory than it is allowed.",
    "OutOfMemory": "The export needed more memory than it is allowed.",
    "Killed": "The export was stopped from outside on every attempt.",
    "Evicted": "The export's pod was evicted from its node.",
    "DeadlineExceeded": "The export took longer than it is allowed to run.",
    "InvalidRequest": "The request cannot be exported as given.",
    "BackoffLimitExceeded": "The export failed on every attempt.",
}


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str


@functools.lru_cache(maxsize=4)
def environment(templates_dir: Path | None) -> jinja2.Environment:
    """Templates from `templates_dir/<outcome>/` where present, else the packaged defaults."""
    loaders: list[jinja2.BaseLoader] = []
    if templates_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(templates_dir)))
    loaders.append(jinja2.PackageLoader("streamexport_operator", "templates"))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render_email(
    outcome: str, context: Mapping[str, Any], templates_dir: Path | None = None
) -> Email:
    """Subject, plain text and HTML for `outcome` ("completed" or "failed")."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    env = environment(templates_dir)
    subject, text, html = (
        env.get_template(f"{outcome}/{name}").render(**context) for name in TEMPLATE_FILES
    )
    return Email(subject=re.sub(r"\s+", " ", subject).strip(), text=text, html=html)


def email_context(
    export: Mapping[str, Any],
    *,
    download_url: str | None = None,
    download_expires_at: str | None = None,
    api_public_url: str | None = None,
) -> dict[str, Any]:
    """What the templates may use; every name is always defined."""
    meta, spec = export.get("metadata") or {}, export.get("spec") or {}
    status = export.get("status") or {}
    name = str(meta.get("name") or "")
    reason = str(status.get("reason") or "")
    return {
        "export_id": name,
        "namespace": str(meta.get("namespace") or ""),
        "resource_type": str(spec.get("resourceType") or ""),
        "format": str(spec.get("format") or ""),
        "filters": dict(spec.get("filters") or {}),
        "recipient": str((spec.get("requestedBy") or {}).get("email") or ""),
        "phase": str(status.get("phase") or ""),
        "rows": int(status.get("actualRowCount") or 0),
        "size_bytes": int(status.get("fileSizeBytes") or 0),
        "file_name": str(status.get("fileName") or "")
        or str(status.get("objectKey") or "").rsplit("/", 1)[-1],
        "completed_at": str(status.get("completedAt") or ""),
        "expires_at": str(status.get("expiresAt") or ""),
        "reason": reason,
        "reason_text": REASON_TEXT.get(reason, "The export failed."),
        "message": str(status.get("message") or ""),
        "download_url": download_url or "",
        "download_expires_at": download_expires_at or "",
        "api_url": f"{api_public_url}/api/v1/exports/{name}" if api_public_url else "",
    }


def build_message(
    email: Email, *, sender: str, recipient: str, export_ref: str, message_id: str | None = None
) -> EmailMessage:
    """A multipart/alternative message: plain text first, HTML preferred by capable clients."""
    message = EmailMessage()
    message["Subject"] = email.subject
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id or make_msgid(domain="streamexport.io")
    message["X-Streamexport-Export"] = export_ref
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message
