"""An Export resource as its requester sees it: the GET body of `/api/v1/exports/{id}`.

Pure: the API answers GETs and list pages with `export_body`, and the operator builds each
webhook's body from the same mapping (`streamexport_core.webhooks.webhook_body`), so the two
can never describe one export differently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from streamexport_core.contract import (
    CANCEL_ANNOTATION,
    CANCELLED,
    COMPLETED,
    FAILED,
    PHASES,
    QUEUED,
)
from streamexport_core.options import DEFAULT_TIME_ZONE
from streamexport_core.timestamps import format_time

Manifest = Mapping[str, Any]


def phase(export: Manifest) -> str:
    """The export's phase; QUEUED until the operator has written one."""
    value = (export.get("status") or {}).get("phase")
    return value if value in PHASES else QUEUED


def webhook_url(export: Manifest) -> str | None:
    """The requester's `spec.notify.webhookUrl`, None when none was asked for."""
    notify = (export.get("spec") or {}).get("notify") or {}
    url = notify.get("webhookUrl")
    return url if isinstance(url, str) and url else None


def export_body(
    export: Manifest,
    *,
    download_url: str | None = None,
    download_url_expires_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The seed's GET body from the resource; null wherever the status does not say yet."""
    metadata, spec = export["metadata"], export.get("spec") or {}
    status = export.get("status") or {}
    current = phase(export)
    progress = status.get("progressPercentage")
    if progress is None:
        progress = {QUEUED: 0, COMPLETED: 100}.get(current)
    failed = current in (FAILED, CANCELLED)
    return {
        "id": metadata["name"],
        "resourceType": spec.get("resourceType"),
        "status": current,
        "format": spec.get("format"),
        "filters": spec.get("filters") or {},
        "scope": spec.get("scope"),
        # The options, defaults filled in (columns null: every column, catalog order).
        "columns": spec.get("columns"),
        "compression": spec.get("compression") or "none",
        "csvBom": bool(spec.get("csvBom")),
        "timeZone": spec.get("timeZone") or DEFAULT_TIME_ZONE,
        # Where the end of the export is announced (null: nowhere but the email).
        "notify": {"webhookUrl": webhook_url(export)},
        "progressPercentage": progress,
        "estimatedRowCount": spec.get("estimatedRowCount"),
        "actualRowCount": status.get("actualRowCount"),
        "fileSizeBytes": status.get("fileSizeBytes"),
        "downloadUrl": download_url,
        "downloadUrlExpiresAt": (
            format_time(download_url_expires_at) if download_url_expires_at else None
        ),
        "createdAt": metadata.get("creationTimestamp"),
        "startedAt": status.get("startedAt"),
        "completedAt": status.get("completedAt"),
        "expiresAt": status.get("expiresAt"),
        "cancelRequestedAt": (metadata.get("annotations") or {}).get(CANCEL_ANNOTATION),
        "failureReason": status.get("reason") if failed else None,
        "failureMessage": status.get("message") if failed else None,
    }
