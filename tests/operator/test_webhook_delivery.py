"""Signed webhooks through the real operator to a real local receiver (devstack.webhooksink),
which verifies every signature and refuses replays older than five minutes.

Delivered once and recorded; a receiver that fails is retried with backoff; an operator
restart between attempts carries on with the same event id; a crash between the receiver's
2xx and the record delivers again with the same id (at least once, counted by the
receiver); a host that is no longer allowed is never called."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from jobsim import (
    NAMESPACE,
    JobController,
    eventually,
    export_manifest,
    get_export,
    result_message,
)
from opharness import OperatorThread

from devstack.faultproxy import FaultProxy
from devstack.kubeapi import ThreadedKubeAPI
from devstack.webhooksink import Sink, SinkThread
from streamexport_core.clock import shifted
from streamexport_core.webhooks import event_id, sign, verify
from streamexport_operator.kube import Job, KubeClient
from streamexport_operator.settings import Settings, SettingsError
from streamexport_operator.webhooks import needs_webhook, next_step, retry_delay

Start = Callable[..., OperatorThread]
SECRET = "test-webhook-secret-" + "x" * 32
FAST = {"webhook_retry_initial_seconds": 0.3, "webhook_retry_max_seconds": 2.0}


@pytest.fixture
def sink() -> Iterator[SinkThread]:
    with SinkThread(Sink(secret=SECRET)) as server:
        yield server


def webhook_settings(sink: SinkThread, **overrides: Any) -> dict[str, Any]:
    return {
        "webhook_allowed_hosts": (f"127.0.0.1:{sink.port}",),
        "webhook_secret": SECRET,
        "webhook_timeout_seconds": 5.0,
        **FAST,
        **overrides,
    }


async def finished_export(kube: KubeClient, url: str) -> dict[str, Any]:
    """An Export with `spec.notify.webhookUrl` whose Job succeeds: COMPLETED."""
    manifest = export_manifest()
    manifest["spec"]["notify"] = {"webhookUrl": url}
    created = await kube.create(manifest, namespace=NAMESPACE)
    assert created is not None
    name = created["metadata"]["name"]

    async def job_exists() -> bool:
        return await kube.get(Job, name, namespace=NAMESPACE) is not None

    await eventually(job_exists)
    await JobController(kube, name).succeed(result_message(name))
    return created


async def webhook_status(kube: KubeClient, name: str, key: str) -> dict[str, Any] | None:
    record = (await get_export(kube, name))["status"].get("webhook") or {}
    return record if record.get(key) else None


async def test_delivered_once_signed_without_urls_and_recorded(
    start_operator: Start, kube: KubeClient, sink: SinkThread
) -> None:
    start_operator(**webhook_settings(sink))
    created = await finished_export(kube, f"{sink.url}/hooks/exports?team=7")
    name = created["metadata"]["name"]

    record = await eventually(lambda: webhook_status(kube, name, "deliveredAt"), timeout=20)
    assert record["attempts"] == 1 and record["lastStatus"] == 200
    assert record["eventId"] == event_id({**created, "status": {"phase": "COMPLETED"}})
    assert record["type"] == "export.completed"
    assert "nextAttemptAt" not in record and "lastError" not in record
    [delivery] = sink.sink.deliveries
    assert sink.sink.refused == []
    assert delivery["path"] == "/hooks/exports?team=7"
    assert delivery["eventId"] == delivery["headerEventId"] == record["eventId"]
    body = delivery["body"]
    assert body["type"] == "export.completed" and body["id"] == name
    assert body["status"] == "COMPLETED" and body["actualRowCount"] == 1234
    assert not {"downloadUrl", "downloadUrlExpiresAt", "notify"} & set(body)
    assert "http" not in str(body)
    assert abs(delivery["signedAt"] - time.time()) < 60

    await asyncio.sleep(0.5)  # nothing more comes: delivered is final
    assert len(sink.sink.deliveries) == 1


async def test_a_failing_receiver_is_retried_with_backoff_then_recorded(
    start_operator: Start, kube: KubeClient, sink: SinkThread
) -> None:
    sink.sink.fail_first = 2
    start_operator(**webhook_settings(sink))
    name = (await finished_export(kube, f"{sink.url}/in"))["metadata"]["name"]

    failed = await eventually(lambda: webhook_status(kube, name, "lastError"), timeout=20)
    assert failed["lastStatus"] == 503 and failed["lastError"].startswith("HTTP 503")
    assert failed["nextAttemptAt"] and "deliveredAt" not in failed

    record = await eventually(lambda: webhook_status(kube, name, "deliveredAt"), timeout=20)
    assert record["attempts"] == 3 and record["lastStatus"] == 200
    assert "lastError" not in record
    assert sink.sink.failed == 2 and sink.sink.counts() == {record["eventId"]: 1}
    first, second, third = sink.sink.arrivals
    # 0.3 s after the first failure, 0.6 s after the second (a little slack for the clock).
    assert second - first >= 0.25 and third - second >= 0.55


async def test_a_replay_older_than_five_minutes_is_refused_by_the_receiver(
    start_operator: Start, kube: KubeClient, sink: SinkThread
) -> None:
    # An operator whose clock is 6 minutes behind signs what looks like a replayed request.
    start_operator(clock=shifted(-360), **webhook_settings(sink, webhook_max_attempts=2))
    name = (await finished_export(kube, f"{sink.url}/in"))["metadata"]["name"]

    record = await eventually(lambda: webhook_status(kube, name, "gaveUpAt"), timeout=20)
    assert record["attempts"] == 2 and record["lastStatus"] == 401
    assert "beyond the 300 s tolerance" in record["lastError"]
    assert sink.sink.deliveries == []
    assert len(sink.sink.refused) == 2 and all("(a replay?)" in r for r in sink.sink.refused)


def test_the_receiver_verifies_what_it_is_sent() -> None:
    body = b'{"eventId":"e-1","type":"export.completed"}'
    now = time.time()
    assert verify(sign(SECRET, int(now), body), body, SECRET, now=now) == int(now)


async def test_a_restart_between_attempts_carries_on_with_the_same_event_id(
    start_operator: Start, kube: KubeClient, sink: SinkThread
) -> None:
    sink.sink.fail_first = 1
    first = start_operator(**webhook_settings(sink, webhook_retry_initial_seconds=1.5))
    name = (await finished_export(kube, f"{sink.url}/in"))["metadata"]["name"]
    failed = await eventually(lambda: webhook_status(kube, name, "lastError"), timeout=20)
    first.stop(timeout=30)  # between the first (failed) attempt and the second

    start_operator(**webhook_settings(sink))
    record = await eventually(lambda: webhook_status(kube, name, "deliveredAt"), timeout=20)
    assert record["eventId"] == failed["eventId"]
    assert record["attempts"] == 2
    assert sink.sink.counts() == {failed["eventId"]: 1}


async def test_a_crash_after_the_receivers_2xx_delivers_again_with_the_same_event_id(
    start_operator: Start, kube: KubeClient, kubeapi: ThreadedKubeAPI, sink: SinkThread
) -> None:
    with FaultProxy(("127.0.0.1", int(kubeapi.url.rsplit(":", 1)[1]))) as proxy:
        cut_once = [proxy.cut]
        # The receiver records the event, then the operator loses the Kubernetes API before
        # it can record deliveredAt: the crash that at-least-once is about.
        sink.sink.after_delivery = lambda: cut_once.pop()() if cut_once else None
        first = start_operator(kubernetes_api_url=proxy.url, **webhook_settings(sink))
        name = (await finished_export(kube, f"{sink.url}/in"))["metadata"]["name"]

        async def delivered_once() -> bool:
            return len(sink.sink.deliveries) == 1

        await eventually(delivered_once, timeout=30)
        intent = (await get_export(kube, name))["status"]["webhook"]
        assert intent["eventId"] and "deliveredAt" not in intent
        first.stop(timeout=30)
        proxy.restore()
        start_operator(kubernetes_api_url=proxy.url, **webhook_settings(sink))
        record = await eventually(lambda: webhook_status(kube, name, "deliveredAt"), timeout=30)
    assert record["eventId"] == intent["eventId"] and record["attempts"] == 2
    assert sink.sink.counts() == {intent["eventId"]: 2}  # a duplicate, by the same id
    assert [d["duplicate"] for d in sink.sink.deliveries] == [False, True]


async def test_a_host_the_operator_does_not_allow_is_never_called(
    start_operator: Start, kube: KubeClient, sink: SinkThread
) -> None:
    start_operator(**webhook_settings(sink, webhook_allowed_hosts=("hooks.example.com",)))
    name = (await finished_export(kube, f"{sink.url}/in"))["metadata"]["name"]
    record = await eventually(lambda: webhook_status(kube, name, "gaveUpAt"), timeout=20)
    assert "host 127.0.0.1 is not allowed" in record["lastError"]
    assert record.get("attempts") is None
    assert sink.sink.arrivals == [] and sink.sink.refused == []


async def test_without_a_secret_nothing_unsigned_is_sent(
    start_operator: Start, kube: KubeClient, sink: SinkThread
) -> None:
    start_operator(**webhook_settings(sink, webhook_secret=None))
    name = (await finished_export(kube, f"{sink.url}/in"))["metadata"]["name"]
    record = await eventually(lambda: webhook_status(kube, name, "gaveUpAt"), timeout=20)
    assert "no WEBHOOK_SECRET" in record["lastError"]
    assert sink.sink.arrivals == []


# --- the pure rules ---------------------------------------------------------------------


def test_backoff_doubles_up_to_the_cap() -> None:
    settings = Settings(
        exporter_image="x",
        s3_bucket="b",
        webhook_retry_initial_seconds=5,
        webhook_retry_max_seconds=300,
    )
    assert [retry_delay(n, settings) for n in (1, 2, 3, 6, 7, 20)] == [5, 10, 20, 160, 300, 300]


def test_which_exports_need_a_webhook() -> None:
    def export(phase: str, webhook: dict[str, Any] | None = None, url: bool = True) -> Any:
        spec = {"notify": {"webhookUrl": "https://h.example/"}} if url else {}
        return {
            "metadata": {"name": "e"},
            "spec": spec,
            "status": {"phase": phase, "webhook": webhook},
        }

    assert needs_webhook(export("COMPLETED"))
    assert needs_webhook(export("FAILED")) and needs_webhook(export("CANCELLED"))
    assert needs_webhook(export("CANCELLED", {"attempts": 3, "lastError": "x"}))
    assert not needs_webhook(export("PROCESSING"))
    assert not needs_webhook(export("COMPLETED", url=False))
    assert not needs_webhook(export("COMPLETED", {"deliveredAt": "2026-01-01T00:00:00Z"}))
    assert not needs_webhook(export("FAILED", {"gaveUpAt": "2026-01-01T00:00:00Z"}))


def test_webhook_settings_from_the_environment(tmp_path: Any) -> None:
    env = {"EXPORTER_IMAGE": "x", "S3_BUCKET": "b", "OPERATOR_NAMESPACES": "default"}
    default = Settings.from_env(env)
    assert default.webhook_allowed_hosts == () and default.webhook_secret is None
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    settings = Settings.from_env(
        {
            **env,
            "WEBHOOK_ALLOWED_HOSTS": "hooks.example.com",
            "WEBHOOK_SECRET_FILE": str(secret_file),
            "WEBHOOK_TIMEOUT_SECONDS": "3",
            "WEBHOOK_MAX_ATTEMPTS": "4",
        }
    )
    assert settings.webhook_secret == SECRET and settings.webhook_allowed_hosts == (
        "hooks.example.com",
    )
    assert settings.webhook_timeout_seconds == 3 and settings.webhook_max_attempts == 4
    assert SECRET not in repr(settings)
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET must be at least 32 bytes"):
        Settings.from_env({**env, "WEBHOOK_SECRET": "short"})
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET_FILE"):
        Settings.from_env({**env, "WEBHOOK_SECRET_FILE": str(tmp_path / "missing")})


def test_next_step_waits_sends_and_gives_up_from_the_status_alone() -> None:
    settings = Settings(
        exporter_image="x",
        s3_bucket="b",
        webhook_allowed_hosts=("h.example",),
        webhook_secret=SECRET,
        webhook_max_attempts=3,
    )
    now = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)

    def export(webhook: dict[str, Any] | None = None) -> Any:
        return {
            "metadata": {"name": "e", "uid": "u-1"},
            "spec": {"notify": {"webhookUrl": "https://h.example/in"}},
            "status": {"phase": "FAILED", "webhook": webhook},
        }

    first = next_step(export(), now, settings)
    assert (first.action, first.attempts, first.kind, first.resend) == (
        "send",
        1,
        "export.failed",
        False,
    )
    assert first.record["eventId"] == first.event == event_id(export())
    assert first.record["nextAttemptAt"] == "2026-12-02T08:00:05Z"
    waiting = next_step(export({**first.record, "lastError": "HTTP 503"}), now, settings)
    assert waiting.action == "wait" and waiting.wait_seconds == 5
    later = now + dt.timedelta(seconds=6)
    again = next_step(export({**first.record, "lastError": "HTTP 503"}), later, settings)
    assert (again.action, again.attempts, again.event) == ("send", 2, first.event)
    assert again.record["nextAttemptAt"] == "2026-12-02T08:00:16Z"  # 10 s after the 2nd
    # What the merge patch stored: its nulls remove keys. The intent without an outcome:
    stored = {k: v for k, v in first.record.items() if v is not None}
    crashed = next_step(export(stored), later, settings)
    assert crashed.action == "send" and crashed.resend and crashed.event == first.event
    spent = {**first.record, "attempts": 3, "lastError": "HTTP 500"}
    given_up = next_step(export(spent), later, settings)
    assert given_up.action == "give_up"
    assert given_up.record["lastError"] == "gave up after 3 attempts: HTTP 500"
    elsewhere = dataclasses.replace(settings, webhook_allowed_hosts=())
    refused = next_step(export(), now, elsewhere)
    assert refused.action == "give_up" and "is not allowed" in refused.record["lastError"]
    assert next_step(None, now, settings).action == "done"
