"""The Job gets the Export's recorded row scope verbatim (EXPORT_SCOPE), and none when the
spec has none: the operator never derives whose rows these are."""

from __future__ import annotations

import json
from typing import Any

from streamexport_operator.jobs import exporter_env
from streamexport_operator.settings import Settings

SETTINGS = Settings(exporter_image="exporter:1", s3_bucket="b")
SCOPE = {"column": "merchant_id", "claim": "merchantId", "values": [3, 1]}


def _export(**spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "5b0f3d4e-1111-4a4a-9999-000000000001", "namespace": "team-a"},
        "spec": {
            "resourceType": "TRANSACTIONS",
            "format": "csv",
            "filters": {},
            "requestedBy": {"userId": "u-1", "email": "a@example.com"},
            "estimatedRowCount": 10,
            **spec,
        },
    }


def _plain(export: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in exporter_env(export, SETTINGS) if "value" in e}


def test_the_recorded_scope_is_passed_as_json() -> None:
    assert json.loads(_plain(_export(scope=SCOPE))["EXPORT_SCOPE"]) == SCOPE


def test_no_scope_in_the_spec_means_no_scope_variable() -> None:
    assert "EXPORT_SCOPE" not in _plain(_export())
