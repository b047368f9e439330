"""Fixtures: the chart rendered offline with real Helm (helm-python-sdk bundles Helm v4)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import helm_python
import pytest
from chart_helpers import (
    ALL_ON_VALUES,
    CHART_DIR,
    NAMESPACE,
    RELEASE,
    Obj,
    Rendered,
    load_values,
    parse_manifests,
)


@pytest.fixture(scope="session")
def chart() -> Iterator[helm_python.Chart]:
    with helm_python.Chart.load(CHART_DIR) as loaded:
        yield loaded


@pytest.fixture(scope="session")
def render(chart: helm_python.Chart) -> Callable[[dict[str, Any]], list[Obj]]:
    """Render the chart as release RELEASE in NAMESPACE with the given values."""

    def _render(values: dict[str, Any]) -> list[Obj]:
        manifests = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
        return parse_manifests(manifests)

    return _render


@pytest.fixture(scope="session")
def all_on_values() -> dict[str, Any]:
    return load_values(ALL_ON_VALUES)


@pytest.fixture(scope="session")
def defaults(render: Callable[[dict[str, Any]], list[Obj]]) -> Rendered:
    return Rendered("defaults", {}, render({}))


@pytest.fixture(scope="session")
def all_on(
    render: Callable[[dict[str, Any]], list[Obj]], all_on_values: dict[str, Any]
) -> Rendered:
    return Rendered("all-on", all_on_values, render(all_on_values))


@pytest.fixture(scope="session", params=["defaults", "all-on"])
def rendered(request: pytest.FixtureRequest) -> Rendered:
    """The chart rendered with the default values, then with every option on."""
    fixture = "defaults" if request.param == "defaults" else "all_on"
    rendered: Rendered = request.getfixturevalue(fixture)
    return rendered
