"""values.schema.json turns a wrong value into an install-time error that names the key."""

from __future__ import annotations

import json
from typing import Any

import helm_python
import jsonschema
import pytest
from chart_helpers import CHART_DIR, NAMESPACE, RELEASE

SCHEMA_FILE = CHART_DIR / "values.schema.json"


def test_schema_is_a_valid_json_schema() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)


def test_default_and_all_on_values_satisfy_the_schema(
    chart: helm_python.Chart, all_on_values: dict[str, Any]
) -> None:
    chart.validate_schema({})
    chart.validate_schema(all_on_values)


@pytest.mark.parametrize(
    ("values", "where", "why"),
    [
        ({"exporter": {"memoryLimit": 512}}, "/exporter/memoryLimit", "want string"),
        ({"exporter": {"memoryLimit": "half a gig"}}, "/exporter/memoryLimit", "pattern"),
        ({"api": {"replicas": "two"}}, "/api/replicas", "want integer"),
        ({"watchAllNamespaces": "yes"}, "/watchAllNamespaces", "want boolean"),
        ({"exports": {"urlExpirySeconds": 700000}}, "/exports/urlExpirySeconds", "maximum"),
        ({"logLevel": "LOUD"}, "/logLevel", "must be one of"),
        (
            {"operator": {"peering": {"enabeld": True}}},
            "/operator/peering",
            "'enabeld' not allowed",
        ),
        ({"database": {"create": True}}, "/database/url", "minLength"),
        ({"jwt": {"create": True, "secret": "too short"}}, "/jwt/secret", "want 32"),
        ({"s3": {"bucket": "Not_A_Bucket"}}, "/s3/bucket", "pattern"),
        ({"smtp": {"security": "ssl"}}, "/smtp/security", "must be one of"),
    ],
)
def test_wrong_value_is_rejected_naming_the_key(
    chart: helm_python.Chart, values: dict[str, Any], where: str, why: str
) -> None:
    with pytest.raises(helm_python.HelmValuesError) as raised:
        chart.validate_schema(values)
    message = str(raised.value)
    assert f"at '{where}'" in message
    assert why in message


def test_render_refuses_a_wrong_type(chart: helm_python.Chart) -> None:
    """The same check runs on install/upgrade, before any template is rendered."""
    with pytest.raises(helm_python.HelmValuesError, match=r"/exporter/memoryLimit.*want string"):
        chart.render({"exporter": {"memoryLimit": 512}}, name=RELEASE, namespace=NAMESPACE)
