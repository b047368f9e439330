"""Names shared with the API (docs/configuration.md) and small accessors on an Export's body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, cast

import kopf

GROUP: Final = "streamexport.io"
VERSION: Final = "v1"
PLURAL: Final = "exports"
API_VERSION: Final = f"{GROUP}/{VERSION}"
KIND: Final = "Export"

MANAGED_BY_LABEL: Final = "app.kubernetes.io/managed-by"
MANAGED_BY: Final = "streamexport"
OWNER_LABEL: Final = "streamexport.io/owner"
EXPORT_LABEL: Final = "streamexport.io/export"
CANCEL_ANNOTATION: Final = "streamexport.io/cancel-requested"

QUEUED: Final = "QUEUED"
PROCESSING: Final = "PROCESSING"
COMPLETED: Final = "COMPLETED"
FAILED: Final = "FAILED"
CANCELLED: Final = "CANCELLED"
TERMINAL_PHASES: Final = frozenset({COMPLETED, FAILED, CANCELLED})

Body = Mapping[str, Any]
Key = tuple[str, str]


def as_body(obj: Mapping[str, Any]) -> kopf.Body:
    """A plain dict from the API as the kopf `Body` that kopf.adopt/kopf.event expect."""
    return kopf.Body(cast(kopf.RawBody, obj))


def key_of(body: Body) -> Key:
    """(namespace, name): how exports and their Jobs are paired."""
    meta = body.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


def phase_of(body: Body) -> str | None:
    phase = (body.get("status") or {}).get("phase")
    return str(phase) if phase else None


def is_terminal(body: Body) -> bool:
    return phase_of(body) in TERMINAL_PHASES


def owner_of(body: Body) -> str:
    """The owner label the API sets; the requester's id as a fallback for hand-made exports."""
    labels = (body.get("metadata") or {}).get("labels") or {}
    owner = labels.get(OWNER_LABEL)
    if owner:
        return str(owner)
    return str(((body.get("spec") or {}).get("requestedBy") or {}).get("userId") or "")


def cancel_requested(body: Body) -> bool:
    annotations = (body.get("metadata") or {}).get("annotations") or {}
    return CANCEL_ANNOTATION in annotations


def is_deleting(body: Body) -> bool:
    return bool((body.get("metadata") or {}).get("deletionTimestamp"))


def wants_email(body: Body) -> bool:
    notify = (body.get("spec") or {}).get("notify") or {}
    return notify.get("email", True) is not False
