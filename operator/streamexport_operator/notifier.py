"""Delivering an export's notification email once, as far as SMTP allows.

SMTP has no idempotency: a relay's "250" and our record of it cannot be one step. So the
intent is recorded first (`notification.messageId`, stable per Export and outcome, and
`sendingAt`), then the message is sent, then `sentAt` is recorded. A crash between the send
and the record resends after the restart, with the same Message-ID, which mail clients and
many relays collapse into one message; a crash before the send sends it once.
"""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Mapping
from typing import Any

import jinja2
import kopf

from streamexport_core.timestamps import format_time, parse_time
from streamexport_operator import metrics
from streamexport_operator.exports import (
    COMPLETED,
    FAILED,
    Body,
    as_body,
    phase_of,
    wants_email,
)
from streamexport_operator.kube import Export
from streamexport_operator.logs import export_logger
from streamexport_operator.notify import build_message, email_context, render_email, send_message
from streamexport_operator.presign import link_lifetime
from streamexport_operator.reconcile import utcnow
from streamexport_operator.runtime import Runtime
from streamexport_operator.settings import Settings

MAX_ERROR_LENGTH = 500
MAX_RETRY_DELAY = 300.0


def needs_email(export: Body, settings: Settings) -> bool:
    """Finished (COMPLETED or FAILED), email wanted and possible, and not sent yet."""
    status = export.get("status") or {}
    recipient = ((export.get("spec") or {}).get("requestedBy") or {}).get("email")
    return (
        settings.email_enabled
        and phase_of(export) in (COMPLETED, FAILED)
        and wants_email(export)
        and bool(recipient)
        and not (status.get("notification") or {}).get("sentAt")
    )


def retry_delay(attempts: int) -> float:
    """2, 4, 8 … seconds after the 1st, 2nd, 3rd failure; at most five minutes."""
    return min(2.0 ** max(attempts, 1), MAX_RETRY_DELAY)


async def deliver(runtime: Runtime, namespace: str, name: str) -> None:
    """Send the email unless the Export (read fresh) says it was sent; record the attempt.

    Raises `kopf.TemporaryError` after a failed attempt so that kopf retries with backoff.
    The phase is never touched.
    """
    logger = export_logger(namespace, name)
    async with runtime.lock((namespace, name)):
        export = await runtime.kube.get(Export, name, namespace=namespace)
        if export is None or not needs_email(export, runtime.settings):
            return
        notification = (export.get("status") or {}).get("notification") or {}
        attempts = int(notification.get("attempts") or 0) + 1
        message_id = stable_message_id(export)
        if notification.get("messageId") == message_id and notification.get("sendingAt"):
            logger.warning(
                "email resent: an earlier attempt may have been delivered message_id=%s",
                message_id,
            )
        intent = {"attempts": attempts, "messageId": message_id, "sendingAt": format_time(utcnow())}
        await _record(runtime, namespace, name, intent)
        try:
            # Presigning may resolve credentials over the network: off the loop, like SMTP.
            message = await asyncio.to_thread(_compose, runtime, export, message_id)
            await asyncio.to_thread(send_message, message, runtime.settings)
        except (OSError, smtplib.SMTPException, jinja2.TemplateError) as error:
            text = f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH]
            await _record(runtime, namespace, name, {"attempts": attempts, "lastError": text})
            metrics.NOTIFICATION_FAILURES.inc()
            delay = retry_delay(attempts)
            logger.warning(
                "email failed attempts=%d retry_in=%.0fs error=%s", attempts, delay, text
            )
            raise kopf.TemporaryError(f"email not delivered: {text}", delay=delay) from error
        sent_at = format_time(utcnow())
        await _record(
            runtime, namespace, name, {"attempts": attempts, "lastError": None, "sentAt": sent_at}
        )
        metrics.NOTIFICATIONS_SENT.inc()
        kopf.event(
            as_body(export),
            type="Normal",
            reason="Notified",
            message=f"Email sent to the requester after {attempts} attempt(s).",
        )
        logger.info("email sent attempts=%d phase=%s", attempts, phase_of(export))


def stable_message_id(export: Mapping[str, Any]) -> str:
    """The same Message-ID for every attempt at one Export's email (uid: names are reused)."""
    meta = export.get("metadata") or {}
    uid = str(meta.get("uid") or f"{meta.get('namespace')}.{meta.get('name')}")
    return f"<{uid}.{str(phase_of(export)).lower()}@streamexport.io>"


def _compose(runtime: Runtime, export: Mapping[str, Any], message_id: str) -> Any:
    settings = runtime.settings
    status = export.get("status") or {}
    meta = export.get("metadata") or {}
    download_url = download_expires = None
    if phase_of(export) == COMPLETED and status.get("objectKey"):
        now = utcnow()
        lifetime = link_lifetime(
            now, parse_time(status.get("expiresAt")), settings.export_expiry_seconds
        )
        if runtime.signer.refresh_needed():
            runtime.signer.refresh()  # blocking is fine: _compose runs in a thread
        link = runtime.signer.sign(
            str(status["objectKey"]),
            lifetime_seconds=lifetime,
            now=now,
            file_name=status.get("fileName"),
        )
        download_url, download_expires = link.url, format_time(link.expires_at)
    outcome = "completed" if phase_of(export) == COMPLETED else "failed"
    context = email_context(
        export,
        download_url=download_url,
        download_expires_at=download_expires,
        api_public_url=settings.api_public_url,
    )
    email = render_email(outcome, context, settings.email_templates_dir)
    return build_message(
        email,
        sender=settings.smtp_from,
        recipient=context["recipient"],
        export_ref=f"{meta.get('namespace')}/{meta.get('name')}",
        message_id=message_id,
    )


async def _record(runtime: Runtime, namespace: str, name: str, fields: Mapping[str, Any]) -> None:
    await runtime.kube.merge_patch(
        Export.Status, name, {"status": {"notification": dict(fields)}}, namespace=namespace
    )
