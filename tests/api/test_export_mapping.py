"""Pure mapping between request bodies, Export resources and response bodies."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import pytest

from api.auth import User
from api.errors import ExportExpired
from api.exports import (
    build_export,
    download_window,
    export_body,
    idempotent_name,
    parse_create_body,
)
from streamexport_core.catalog import load_catalog

CATALOG = load_catalog()
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
USER = User(id="u1", email="u1@example.com", roles=frozenset())


def completed(expires_at: str) -> dict[str, object]:
    return {
        "metadata": {"name": "e1"},
        "spec": {},
        "status": {"phase": "COMPLETED", "objectKey": "k", "expiresAt": expires_at},
    }


def test_request_hash_ignores_format_case_and_filter_order() -> None:
    one = parse_create_body(
        CATALOG,
        {
            "resourceType": "TRANSACTIONS",
            "format": "XLSX",
            "filters": {"status": "FAILED", "startDate": "2024-01-01"},
        },
    )
    two = parse_create_body(
        CATALOG,
        {
            "filters": {"startDate": "2024-01-01", "status": "FAILED"},
            "format": "xlsx",
            "resourceType": "TRANSACTIONS",
        },
    )
    assert one.request_hash == two.request_hash


def test_labels_follow_the_operator_conventions() -> None:
    request = parse_create_body(CATALOG, {"resourceType": "TRANSACTIONS", "format": "csv"})
    export = build_export(
        name="n", namespace="ns", request=request, user=USER, estimated_rows=5, key_hash="a" * 64
    )
    assert export["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "streamexport",
        "streamexport.io/owner": hashlib.sha256(b"u1").hexdigest()[:40],
        "streamexport.io/idempotency-key": "a" * 63,
    }


def test_idempotent_names_are_stable_uuids_per_generation() -> None:
    first = idempotent_name("k" * 64, 0)
    assert first == idempotent_name("k" * 64, 0)
    assert first != idempotent_name("k" * 64, 1)
    assert uuid.UUID(first).version == 8


def test_download_window_is_the_ttl_when_the_file_lives_longer() -> None:
    assert download_window(completed("2026-03-08T12:00:00Z"), NOW, 3600) == 3600


def test_download_window_stops_at_expires_at() -> None:
    assert download_window(completed("2026-03-01T12:02:30Z"), NOW, 3600) == 150


def test_download_window_after_expiry_raises_gone() -> None:
    with pytest.raises(ExportExpired):
        download_window(completed("2026-03-01T12:00:00Z"), NOW, 3600)


def test_no_download_before_completion() -> None:
    export = {"metadata": {"name": "e1"}, "spec": {}, "status": {"phase": "PROCESSING"}}
    assert download_window(export, NOW, 3600) is None


def test_unknown_phase_reads_as_queued() -> None:
    body = export_body({"metadata": {"name": "e1"}, "spec": {"format": "csv"}})
    assert (body["status"], body["progressPercentage"], body["failureReason"]) == (
        "QUEUED",
        0,
        None,
    )
