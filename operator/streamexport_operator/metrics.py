"""Prometheus metrics of the operator, served on OPERATOR_METRICS_PORT."""

from __future__ import annotations

import threading
from wsgiref.simple_server import WSGIServer

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

EXPORTS_FINISHED = Counter(
    "streamexport_exports_finished_total",
    "Exports that reached a final phase, by phase and reason.",
    ["phase", "reason"],
    registry=REGISTRY,
)
EXPORT_DURATION = Histogram(
    "streamexport_export_duration_seconds",
    "Time from the Job's start to the export's end, by final phase.",
    ["phase"],
    buckets=(5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200),
    registry=REGISTRY,
)
ROWS_EXPORTED = Counter(
    "streamexport_rows_exported_total", "Rows written by completed exports.", registry=REGISTRY
)
BYTES_EXPORTED = Counter(
    "streamexport_bytes_exported_total", "Bytes of completed export files.", registry=REGISTRY
)
QUEUE_DEPTH = Gauge(
    "streamexport_queued_exports", "Exports waiting for a free slot.", registry=REGISTRY
)
RUNNING = Gauge("streamexport_running_exports", "Exports whose Job is running.", registry=REGISTRY)
WEBHOOKS_DELIVERED = Counter(
    "streamexport_webhooks_delivered_total",
    "Webhook events a receiver acknowledged (2xx).",
    registry=REGISTRY,
)
WEBHOOK_FAILURES = Counter(
    "streamexport_webhook_failures_total",
    "Webhook attempts that failed (no answer, or not 2xx); each is retried with backoff.",
    registry=REGISTRY,
)
WEBHOOKS_GIVEN_UP = Counter(
    "streamexport_webhooks_given_up_total",
    "Webhook events never delivered: attempts exhausted, or the URL no longer allowed.",
    registry=REGISTRY,
)
NOTIFICATIONS_SENT = Counter(
    "streamexport_notifications_sent_total", "Notification emails delivered.", registry=REGISTRY
)
NOTIFICATION_FAILURES = Counter(
    "streamexport_notification_failures_total",
    "Failed attempts to deliver a notification email.",
    registry=REGISTRY,
)

UPLOADS_ABORTED = Counter(
    "streamexport_uploads_aborted_total",
    "Incomplete multipart uploads aborted by the operator after an exporter was killed.",
    registry=REGISTRY,
)
UPLOAD_CLEANUP_FAILURES = Counter(
    "streamexport_upload_cleanup_failures_total",
    "Failed attempts to abort the incomplete multipart uploads of a failed or cancelled export.",
    registry=REGISTRY,
)


def record_final(
    phase: str, reason: str, duration_seconds: float | None, rows: int, size_bytes: int
) -> None:
    """Count an export that this process saw reach a final phase."""
    EXPORTS_FINISHED.labels(phase=phase, reason=reason or "").inc()
    if duration_seconds is not None and duration_seconds >= 0:
        EXPORT_DURATION.labels(phase=phase).observe(duration_seconds)
    if rows > 0:
        ROWS_EXPORTED.inc(rows)
    if size_bytes > 0:
        BYTES_EXPORTED.inc(size_bytes)


def serve(port: int, host: str = "0.0.0.0") -> tuple[WSGIServer, threading.Thread]:  # noqa: S104
    """Start the /metrics endpoint in a daemon thread; shut it down with `stop`."""
    server, thread = prometheus_client.start_http_server(port, addr=host, registry=REGISTRY)
    return server, thread


def stop(server: WSGIServer, thread: threading.Thread) -> None:
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
