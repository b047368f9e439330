"""Every Export the API creates validates against the CRD's openAPIV3Schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from api_support import EXPORTS, USER_A, Client

from devstack.kubeclient import Export, KubeClient

CRD = Path(__file__).resolve().parents[2] / "crds" / "exports.streamexport.io.yaml"


def crd_schema() -> dict[str, Any]:
    crd = yaml.safe_load(CRD.read_text())
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    return dict(version["schema"]["openAPIV3Schema"])


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ({"resourceType": "TRANSACTIONS", "format": "CSV"}, {}),
        ({"resourceType": "TRANSACTIONS", "format": "xlsx", "filters": {"status": "FAILED"}}, {}),
        (
            {
                "resourceType": "TRANSACTIONS",
                "format": "Csv",
                "filters": {"startDate": "2024-02-29", "endDate": "2024-02-29"},
            },
            {"Idempotency-Key": "k-1"},
        ),
    ],
    ids=["no-filters", "xlsx-enum-filter", "date-range-with-key"],
)
async def test_created_export_matches_the_crd_schema(
    client: Client, kube: KubeClient, namespace: str, body: dict[str, Any], headers: dict[str, str]
) -> None:
    response = await client.post(EXPORTS, json=body, headers={**USER_A, **headers})
    assert response.status == 202
    export = await kube.get(Export, (await response.json())["exportId"], namespace=namespace)
    validator = jsonschema.Draft7Validator(crd_schema(), format_checker=jsonschema.FormatChecker())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(export)]
    assert errors == []
