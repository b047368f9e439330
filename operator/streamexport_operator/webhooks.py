"""Signed webhooks when an export ends: one event per Export, delivered at least once.

An Export in a terminal phase (COMPLETED, FAILED, CANCELLED) whose spec names a
`notify.webhookUrl` gets a kopf daemon that POSTs the event (`streamexport_core.webhooks`:
the GET body without URLs, `eventId`, `type`, signed with WEBHOOK_SECRET) until the receiver
answers 2xx, with exponential backoff, at most WEBHOOK_MAX_ATTEMPTS times.

Everything the delivery knows is on the Export's `status.webhook`, so that a restarted
operator carries on where the last one stopped: before each attempt the intent is recorded
(`eventId`, `attempts`, `lastAttemptAt` and the `nextAttemptAt` a failure would wait for),
then the request is sent, then its outcome (`deliveredAt`, or `lastStatus`/`lastError`, or
`gaveUpAt`). A crash between a receiver's 2xx and that record sends the event again, with the
same `eventId`: receivers drop duplicates by it.

Before every attempt the URL is checked again against the operator's own allow-list
(WEBHOOK_ALLOWED_HOSTS): a host removed from it since the request is never called. Redirects
are not followed (a 3xx is a failed attempt), and every POST has a deadline
(WEBHOOK_TIMEOUT_SECONDS).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp
import kopf
from yarl import URL

from streamexport_core.errors import InvalidRequest
from streamexport_core.export_view import webhook_url
from streamexport_core.timestamps import format_time, parse_time
from streamexport_core.webhooks import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    check_webhook_url,
    encode_body,
    event_id,
    event_type,
    sign,
    webhook_body,
)
from streamexport_operator import metrics
from streamexport_operator.exports import (
    GROUP,
    PLURAL,
    VERSION,
    Body,
    as_body,
    is_deleting,
    is_terminal,
)
from streamexport_operator.kube import Export
from streamexport_operator.logs import export_logger
from streamexport_operator.runtime import Runtime
from streamexport_operator.settings import Settings

MAX_ERROR_LENGTH = 300
USER_AGENT = "streamexport-webhooks/1"


def needs_webhook(export: Body) -> bool:
    """Ended, a webhook asked for, and neither delivered nor given up yet."""
    record = (export.get("status") or {}).get("webhook") or {}
    return (
        is_terminal(export)
        and not is_deleting(export)
        and webhook_url(export) is not None
        and not record.get("deliveredAt")
        and not record.get("gaveUpAt")
    )


def retry_delay(attempts: int, settings: Settings) -> float:
    """Seconds after the `attempts`-th failure: initial, 2x, 4x … up to the cap."""
    initial, cap = settings.webhook_retry_initial_seconds, settings.webhook_retry_max_seconds
    return float(min(initial * 2.0 ** max(attempts - 1, 0), cap))


def refusal(url: str, settings: Settings) -> str | None:
    """Why this URL must not be called now (None: it may)."""
    if not settings.webhook_secret:
        return "not sent: the operator has no WEBHOOK_SECRET to sign it with"
    try:
        check_webhook_url(url, settings.webhook_allowed_hosts)
    except InvalidRequest as exc:
        return f"not sent: {'; '.join(exc.errors)} (the operator's WEBHOOK_ALLOWED_HOSTS)"
    # The HTTP client parses the URL itself: it must reach the host that was checked.
    if URL(url, encoded=True).host != urlsplit(url).hostname:
        return "not sent: the URL's host is ambiguous"
    return None


@dataclass(frozen=True)
class Step:
    """The next step of one export's delivery, decided from its status (`next_step`)."""

    action: Literal["done", "wait", "give_up", "send"]
    wait_seconds: float = 0.0
    record: dict[str, Any] = field(default_factory=dict)  # status.webhook, written first
    event: str = ""
    kind: str = ""
    attempts: int = 0  # counting the one about to be sent
    resend: bool = False  # the last attempt's outcome was never recorded (a crash)


def next_step(export: Body | None, now: dt.datetime, settings: Settings) -> Step:
    """Pure: done, wait until `nextAttemptAt`, give up (why in `record`), or send now (the
    intent in `record`: recorded before the request, so a restart resends the same event)."""
    if export is None or not needs_webhook(export):
        return Step("done")
    record = (export.get("status") or {}).get("webhook") or {}
    due = parse_time(record.get("nextAttemptAt"))
    if due is not None and due > now:
        return Step("wait", wait_seconds=(due - now).total_seconds())
    url = str(webhook_url(export))
    event = str(record.get("eventId") or event_id(export))
    kind = event_type(export)
    attempts = int(record.get("attempts") or 0)
    reason = refusal(url, settings)
    if reason is None and attempts >= settings.webhook_max_attempts:
        last = record.get("lastError") or "the last attempt's outcome was not recorded"
        reason = f"gave up after {attempts} attempts: {last}"
    if reason is not None:
        given_up = {
            "eventId": event,
            "type": kind,
            "gaveUpAt": format_time(now),
            "lastError": reason,
            "nextAttemptAt": None,
        }
        return Step("give_up", record=given_up, event=event, kind=kind, attempts=attempts)
    attempts += 1
    delay = retry_delay(attempts, settings)
    intent = {
        "eventId": event,
        "type": kind,
        "attempts": attempts,
        "lastAttemptAt": format_time(now),
        "nextAttemptAt": format_time(now + dt.timedelta(seconds=delay)),
        "lastStatus": None,
        "lastError": None,
    }
    resend = bool(record.get("lastAttemptAt")) and not {"lastStatus", "lastError"} & set(record)
    return Step(
        "send",
        wait_seconds=delay,
        record=intent,
        event=event,
        kind=kind,
        attempts=attempts,
        resend=resend,
    )


async def attempt(runtime: Runtime, namespace: str, name: str) -> float | None:
    """One step of the delivery: seconds to wait before the next one, None when done."""
    settings = runtime.settings
    logger = export_logger(namespace, name)
    export = await runtime.kube.get(Export, name, namespace=namespace)
    now = runtime.clock()
    step = next_step(export, now, settings)
    if step.action == "done":
        return None
    if step.action == "wait":
        return step.wait_seconds
    assert export is not None
    await _record(runtime, namespace, name, step.record)
    if step.action == "give_up":
        reason = str(step.record["lastError"])
        metrics.WEBHOOKS_GIVEN_UP.inc()
        kopf.event(as_body(export), type="Warning", reason="WebhookGivenUp", message=reason)
        logger.warning("webhook given up event_id=%s reason=%s", step.event, reason)
        return None
    if step.resend:
        logger.warning(
            "webhook resent: an earlier attempt may have been delivered event_id=%s", step.event
        )
    url = str(webhook_url(export))
    event, kind, attempts, delay = step.event, step.kind, step.attempts, step.wait_seconds
    status, error = await post(url, webhook_body(export, event), event, kind, now, settings)
    if error is None:
        done = {
            "deliveredAt": format_time(runtime.clock()),
            "lastStatus": status,
            "nextAttemptAt": None,
        }
        await _record(runtime, namespace, name, done)
        metrics.WEBHOOKS_DELIVERED.inc()
        kopf.event(
            as_body(export),
            type="Normal",
            reason="WebhookDelivered",
            message=f"Webhook {kind} delivered after {attempts} attempt(s) (HTTP {status}).",
        )
        logger.info("webhook delivered event_id=%s attempts=%d status=%s", event, attempts, status)
        return None

    metrics.WEBHOOK_FAILURES.inc()
    failed: dict[str, Any] = {"lastStatus": status, "lastError": error}
    if attempts >= settings.webhook_max_attempts:
        failed.update(gaveUpAt=format_time(runtime.clock()), nextAttemptAt=None)
        await _record(runtime, namespace, name, failed)
        metrics.WEBHOOKS_GIVEN_UP.inc()
        message = f"Webhook {kind} not delivered after {attempts} attempts: {error}"
        kopf.event(as_body(export), type="Warning", reason="WebhookGivenUp", message=message)
        logger.warning("webhook given up event_id=%s attempts=%d error=%s", event, attempts, error)
        return None
    await _record(runtime, namespace, name, failed)
    logger.warning(
        "webhook failed event_id=%s attempts=%d retry_in=%.1fs error=%s",
        event,
        attempts,
        delay,
        error,
    )
    return delay


async def post(
    url: str,
    body: Mapping[str, Any],
    event: str,
    kind: str,
    now: dt.datetime,
    settings: Settings,
) -> tuple[int | None, str | None]:
    """POST the signed body: (HTTP status or None, None when delivered else what went wrong)."""
    data = encode_body(body)
    assert settings.webhook_secret is not None  # refusal() said so
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(settings.webhook_secret, int(now.timestamp()), data),
        EVENT_ID_HEADER: event,
        EVENT_TYPE_HEADER: kind,
    }
    timeout = aiohttp.ClientTimeout(total=settings.webhook_timeout_seconds)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.post(
                URL(url, encoded=True), data=data, headers=headers, allow_redirects=False
            ) as response:
                answer = await response.content.read(MAX_ERROR_LENGTH)
                status = response.status
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        text = str(exc) or f"no answer within {settings.webhook_timeout_seconds:g} s"
        return None, f"{type(exc).__name__}: {text}"[:MAX_ERROR_LENGTH]
    if 200 <= status < 300:
        return status, None
    excerpt = answer.decode("utf-8", "replace").strip()
    return status, f"HTTP {status}: {excerpt}"[:MAX_ERROR_LENGTH]


async def _record(runtime: Runtime, namespace: str, name: str, fields: Mapping[str, Any]) -> None:
    await runtime.kube.merge_patch(
        Export.Status, name, {"status": {"webhook": dict(fields)}}, namespace=namespace
    )


def _wants_delivery(body: kopf.Body, **_: Any) -> bool:
    return needs_webhook(body)


@kopf.daemon(GROUP, VERSION, PLURAL, when=_wants_delivery, cancellation_timeout=5.0)
async def deliver_webhook(
    namespace: str | None,
    name: str,
    memo: kopf.Memo,
    stopped: kopf.DaemonStopped,
    **_: Any,
) -> None:
    """Deliver the export's webhook, waiting out each backoff; ends when it is delivered or
    given up (kopf also stops it once the Export no longer needs one)."""
    runtime: Runtime = memo["runtime"]
    if not namespace:
        raise kopf.PermanentError("exports are namespaced")
    while not stopped:
        wait = await attempt(runtime, namespace, name)
        if wait is None:
            return
        await stopped.wait(max(wait, 0.01))
