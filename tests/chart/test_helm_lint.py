"""`helm lint --strict` finds nothing to warn about, for the oldest and newest Kubernetes."""

from __future__ import annotations

from typing import Any

import helm_python
import pytest
from chart_helpers import ALL_ON_VALUES, CHART_DIR, KUBE_VERSIONS, load_values

WARNING = 2


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
@pytest.mark.parametrize("values_name", ["defaults", "all-on"])
def test_lint_strict_reports_no_warning_or_error(kube_version: str, values_name: str) -> None:
    values: dict[str, Any] = {} if values_name == "defaults" else load_values(ALL_ON_VALUES)
    report = helm_python.lint(
        CHART_DIR, values, strict=True, namespace="exports", kube_version=f"v{kube_version}.0"
    )
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= WARNING] == []
