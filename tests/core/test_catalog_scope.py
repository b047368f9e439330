"""Scope bindings are validated when the catalog loads; recorded scopes against the binding."""

from __future__ import annotations

from typing import Any

import pytest

from streamexport_core.catalog import CatalogError, parse_catalog
from streamexport_core.errors import InvalidRequest
from streamexport_core.scope import Scope, ScopeBinding, ScopeRequired, claim_values

COLUMNS = [
    {"name": "id", "label": "ID", "type": "integer"},
    {"name": "tenant", "label": "Tenant", "type": "text"},
    {"name": "created_at", "label": "Created", "type": "timestamp"},
]


def _catalog(scope: Any) -> dict[str, Any]:
    entry = {"table": "things", "columns": COLUMNS, "scope": scope}
    return {"resources": {"THINGS": entry, "OPEN": {"table": "other", "columns": COLUMNS}}}


def test_a_binding_takes_the_exported_columns_type() -> None:
    catalog = parse_catalog(_catalog({"column": "tenant", "claim": "tenantId"}))
    assert catalog.get("THINGS").scope == ScopeBinding("tenant", "tenantId", "text")
    assert catalog.open_resources == ["OPEN"]


def test_a_column_that_is_not_exported_needs_its_type() -> None:
    binding = parse_catalog(_catalog({"column": "org_id", "claim": "org", "type": "integer"}))
    assert binding.get("THINGS").scope == ScopeBinding("org_id", "org", "integer")
    with pytest.raises(CatalogError, match=r"scope.column: 'org_id' is not one of the columns"):
        parse_catalog(_catalog({"column": "org_id", "claim": "org"}))


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        ("merchant", r"scope: must be a mapping"),
        ({"column": "tenant"}, r"scope.claim: must be a JWT claim name"),
        ({"column": "tenant", "claim": "has space"}, r"scope.claim: must be a JWT claim name"),
        ({"column": "tenant", "claim": "exp"}, r"scope.claim: .* not one of aud, exp"),
        ({"column": "x;drop", "claim": "a"}, r"scope.column: must be a column name"),
        ({"column": "created_at", "claim": "a"}, r"is timestamp; a scope column must be"),
        ({"column": "tenant", "claim": "a", "type": "integer"}, r"disagrees with column type"),
        ({"column": "tenant", "claim": "a", "type": "date"}, r"scope.type: must be integer"),
        ({"column": "tenant", "claim": "a", "kind": 1}, r"scope: unknown field\(s\) kind"),
    ],
)
def test_bad_bindings_name_the_field(scope: Any, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        parse_catalog(_catalog(scope))


def test_namespaced_claim_names_are_valid() -> None:
    claim = "https://example.com/claims/merchant_id"
    catalog = parse_catalog(_catalog({"column": "tenant", "claim": claim}))
    assert catalog.get("THINGS").scope == ScopeBinding("tenant", claim, "text")


@pytest.mark.parametrize(
    ("binding", "claim", "values"),
    [
        (ScopeBinding("m", "c", "integer"), 7, (7,)),
        (ScopeBinding("m", "c", "integer"), [7, 9, 7], (7, 9)),
        (ScopeBinding("m", "c", "text"), "acme", ("acme",)),
        (ScopeBinding("m", "c", "text"), ["a", "b"], ("a", "b")),
    ],
)
def test_claims_grant_values_of_the_columns_type(
    binding: ScopeBinding, claim: Any, values: tuple[Any, ...]
) -> None:
    assert claim_values(binding, claim) == values


@pytest.mark.parametrize(
    ("binding", "claim"),
    [
        (ScopeBinding("m", "c", "integer"), "7"),
        (ScopeBinding("m", "c", "integer"), True),
        (ScopeBinding("m", "c", "integer"), [1, "2"]),
        (ScopeBinding("m", "c", "integer"), []),
        (ScopeBinding("m", "c", "integer"), 2**63),
        (ScopeBinding("m", "c", "text"), 7),
        (ScopeBinding("m", "c", "text"), ""),
        (ScopeBinding("m", "c", "text"), {"a": 1}),
        (ScopeBinding("m", "c", "integer"), list(range(1001))),
    ],
)
def test_claims_of_the_wrong_type_grant_nothing(binding: ScopeBinding, claim: Any) -> None:
    with pytest.raises(ValueError, match="must"):
        claim_values(binding, claim)


def test_a_recorded_scope_must_match_the_binding() -> None:
    resource = parse_catalog(_catalog({"column": "tenant", "claim": "tenantId"})).get("THINGS")
    scoped = resource.with_recorded_scope(
        {"column": "tenant", "claim": "tenantId", "values": ["a"]}
    )
    assert scoped.granted == Scope("tenant", "tenantId", ("a",))
    unrestricted = resource.with_recorded_scope(
        {"column": "tenant", "claim": "tenantId", "unrestricted": True}
    )
    assert unrestricted.granted == Scope("tenant", "tenantId", unrestricted=True)
    for bad in (
        {"column": "id", "claim": "tenantId", "values": [1]},
        {"column": "tenant", "claim": "tenantId", "values": []},
        {"column": "tenant", "claim": "tenantId", "values": [1]},
        {"column": "tenant", "claim": "tenantId"},
        {"column": "tenant", "claim": "tenantId", "unrestricted": True, "values": ["a"]},
        {"column": "tenant", "claim": "tenantId", "unrestricted": "yes"},
        ["tenant"],
    ):
        with pytest.raises(InvalidRequest):
            resource.with_recorded_scope(bad)


def test_no_recorded_scope_for_a_scoped_resource_is_refused() -> None:
    catalog = parse_catalog(_catalog({"column": "tenant", "claim": "tenantId"}))
    with pytest.raises(ScopeRequired, match="scoped by claim 'tenantId'"):
        catalog.get("THINGS").with_recorded_scope(None)
    assert catalog.get("OPEN").with_recorded_scope(None).granted is None
    with pytest.raises(InvalidRequest, match="OPEN is not scoped by the catalog"):
        catalog.get("OPEN").with_recorded_scope({"column": "tenant", "claim": "t", "values": [1]})
