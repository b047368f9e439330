"""The Export CRD is valid Kubernetes and says what `kubectl get exports` and the API rely on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from streamexport_core.contract import FORMATS
from streamexport_core.options import COMPRESSIONS

CRD_PATH = Path(__file__).resolve().parents[2] / "crds" / "exports.streamexport.io.yaml"


@pytest.fixture(scope="module")
def crd() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(CRD_PATH.read_text())
    return document


@pytest.mark.parametrize("version", ["1.29", "1.33"])
def test_crd_validates_strictly(crd: dict[str, Any], version: str) -> None:
    kubernetes_validate.validate(crd, version, strict=True)


def test_served_version_has_status_subresource_and_printer_columns(crd: dict[str, Any]) -> None:
    (version,) = crd["spec"]["versions"]
    assert version["served"] and version["storage"]
    assert version["subresources"] == {"status": {}}
    printer = version["additionalPrinterColumns"]
    columns = [c["name"].upper() for c in printer if not c.get("priority")]
    assert columns == ["STATUS", "RESOURCE", "FORMAT", "PROGRESS", "ROWS", "OWNER", "AGE"]
    wide = {c["name"].upper(): c["jsonPath"] for c in printer if c.get("priority") == 1}
    assert wide == {"SCOPE": ".spec.scope.values", "UNSCOPED": ".spec.scope.unrestricted"}
    assert crd["spec"]["scope"] == "Namespaced"
    assert crd["spec"]["names"]["plural"] == "exports"
    assert crd["spec"]["names"]["shortNames"]


def test_spec_is_immutable_and_enums_are_closed(crd: dict[str, Any]) -> None:
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    spec = schema["properties"]["spec"]
    assert "self == oldSelf" in [rule["rule"] for rule in spec["x-kubernetes-validations"]]
    assert set(spec["required"]) >= {"resourceType", "format", "filters", "requestedBy"}
    assert spec["properties"]["format"]["enum"] == list(FORMATS)
    assert spec["properties"]["compression"]["enum"] == list(COMPRESSIONS)
    assert spec["properties"]["estimatedRowCount"]["maximum"] == 500_000
    phase = schema["properties"]["status"]["properties"]["phase"]
    assert phase["enum"] == ["QUEUED", "PROCESSING", "COMPLETED", "FAILED", "CANCELLED"]


def test_spec_records_the_row_scope(crd: dict[str, Any]) -> None:
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    scope = spec["properties"]["scope"]
    assert scope["required"] == ["column", "claim"]
    assert set(scope["properties"]) == {"column", "claim", "values", "unrestricted"}
    assert scope["properties"]["values"]["items"] == {"x-kubernetes-int-or-string": True}
    assert "scope" not in spec["required"]  # open resources have none
