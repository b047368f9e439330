"""No request shape reaches a query without the row scope: every filter combination of every
resource of the packaged and the chart's catalog, through every query builder of
`streamexport_core.sql` (any `*_query` function, so that a new one is covered too)."""

from __future__ import annotations

import datetime as dt
import inspect
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from psycopg import sql as psql

from streamexport_core import sql
from streamexport_core.catalog import Filter, Resource, load_catalog
from streamexport_core.scope import Scope, ScopeRequired

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = [
    ROOT / "core" / "streamexport_core" / "catalog.yaml",
    ROOT / "charts" / "streamexport" / "files" / "catalog.yaml",
]
BUILDERS: list[Callable[..., tuple[psql.Composed, dict[str, Any]]]] = [
    function
    for name, function in inspect.getmembers(sql, inspect.isfunction)
    if name.endswith("_query") and function.__module__ == sql.__name__
]


def _sample(spec: Filter) -> Any:
    if spec.type == "date":
        return dt.date(2024, 3, 1)
    if spec.type == "enum":
        assert spec.values
        return spec.values[0]
    return 7 if spec.type == "integer" else "seven"


def _combinations(resource: Resource) -> Iterator[dict[str, Any]]:
    names = list(resource.filters)
    for size in range(len(names) + 1):
        for chosen in itertools.combinations(names, size):
            yield {name: _sample(resource.filters[name]) for name in chosen}


def _scoped_resources() -> Iterator[Resource]:
    for path in CATALOGS:
        for resource in load_catalog(path).resources.values():
            if resource.scope is not None:
                yield resource


def test_the_packaged_catalogs_scope_transactions() -> None:
    assert {r.resource_type for r in _scoped_resources()} == {"INVOICES", "TRANSACTIONS"}
    assert {"count_query", "select_query", "copy_query"} <= {b.__name__ for b in BUILDERS}


@pytest.mark.parametrize("values", [(7,), (7, 9)], ids=["scalar", "list"])
def test_every_filter_combination_binds_the_scope(values: tuple[Any, ...]) -> None:
    built = 0
    for resource in _scoped_resources():
        assert resource.scope is not None
        column = psql.Identifier(resource.scope.column).as_string()
        predicate = f"{column} = %(_scope)s" if len(values) == 1 else f"{column} = ANY(%(_scope)s)"
        expected = values[0] if len(values) == 1 else list(values)
        scoped = resource.with_scope(Scope(resource.scope.column, resource.scope.claim, values))
        for filters in _combinations(resource):
            for build in BUILDERS:
                query, params = build(scoped, filters)
                text = query.as_string()
                assert f" WHERE {predicate}" in text, (build.__name__, filters, text)
                assert params[sql.SCOPE_PARAM] == expected
                assert str(values[0]) not in text.replace("%(_scope)s", "")  # bound, not inlined
                built += 1
    assert built >= 2 ** 4 * 3


def test_no_builder_reads_a_scoped_resource_without_its_scope() -> None:
    for resource in _scoped_resources():
        for filters in _combinations(resource):
            for build in BUILDERS:
                with pytest.raises(ScopeRequired, match="refusing to read it without a scope"):
                    build(resource, filters)


def test_an_unrestricted_scope_adds_no_predicate() -> None:
    for resource in _scoped_resources():
        assert resource.scope is not None
        lifted = resource.with_scope(
            Scope(resource.scope.column, resource.scope.claim, unrestricted=True)
        )
        query, params = sql.count_query(lifted, {})
        assert "WHERE" not in query.as_string() and sql.SCOPE_PARAM not in params
