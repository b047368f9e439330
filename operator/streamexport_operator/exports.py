"""The contract's names (`streamexport_core.contract`) and small accessors on an Export's body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import kopf

from streamexport_core.contract import (
    API_VERSION,
    CANCEL_ANNOTATION,
    CANCELLED,
    COMPLETED,
    EXPORT_LABEL,
    FAILED,
    GROUP,
    KIND,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    OWNER_LABEL,
    PLURAL,
    PROCESSING,
    QUEUED,
    TERMINAL_PHASES,
    VERSION,
)

__all__ = [
    "API_VERSION",
    "CANCELLED",
    "CANCEL_ANNOTATION",
    "COMPLETED",
    "EXPORT_LABEL",
    "FAILED",
    "GROUP",
    "KIND",
    "MANAGED_BY",
    "MANAGED_BY_LABEL",
    "OWNER_LABEL",
    "PLURAL",
    "PROCESSING",
    "QUEUED",
    "TERMINAL_PHASES",
    "VERSION",
    "Body",
    "Key",
    "as_body",
    "cancel_requested",
    "is_deleting",
    "is_terminal",
    "key_of",
    "owner_of",
    "phase_of",
    "wants_email",
]

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
