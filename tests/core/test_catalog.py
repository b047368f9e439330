"""The resource catalog is validated when loaded: a bad entry names itself and its field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from streamexport_core.catalog import CatalogError, ScopeBinding, load_catalog, parse_catalog
from streamexport_core.errors import UnknownResource


def _catalog(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "table": "public.things",
        "columns": [{"name": "id", "label": "ID", "type": "integer"}],
        "filters": {"kind": {"column": "kind", "operator": "eq", "type": "text"}},
    }
    entry.update(overrides)
    return {"resources": {"THINGS": entry}}


def test_default_catalog_has_transactions_with_its_filters() -> None:
    resource = load_catalog().get("TRANSACTIONS")
    assert resource.table == ("public", "transactions")
    assert [c.name for c in resource.columns] == [
        "id",
        "created_at",
        "amount",
        "currency",
        "status",
        "customer_email",
        "description",
        "merchant_id",
    ]
    assert set(resource.filters) == {"startDate", "endDate", "status", "merchantId"}
    assert resource.scope == ScopeBinding(column="merchant_id", claim="merchantId", type="integer")
    assert resource.filters["status"].values == ("PENDING", "SETTLED", "FAILED", "REFUNDED")
    assert resource.order_by == ("created_at", "id")
    assert resource.column("amount").scale == 2
    assert [c.name for c in resource.columns if c.formula_safe] == ["currency", "status"]
    assert all(c.width for c in resource.columns)


def test_catalog_path_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(_catalog()))
    monkeypatch.setenv("STREAMEXPORT_CATALOG", str(path))
    assert load_catalog().resource_types == ["THINGS"]


def test_unknown_resource_type_lists_the_known_ones() -> None:
    with pytest.raises(UnknownResource) as info:
        load_catalog().get("NOPE")
    assert info.value.errors == [
        "resourceType must be one of the following values: INVOICES, TRANSACTIONS"
    ]


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"cannot read catalog .*missing\.yaml"):
        load_catalog(tmp_path / "missing.yaml")


def test_invalid_yaml_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("resources: [unclosed")
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_catalog(path)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"table": "x; drop table y"}, r"resources\.THINGS\.table"),
        ({"columns": []}, r"resources\.THINGS\.columns: must be a non-empty list"),
        ({"columns": [{"name": "id", "type": "money"}]}, r"columns\[0\]\.type"),
        (
            {"columns": [{"name": "id", "type": "integer"}, {"name": "id", "type": "text"}]},
            r"columns\[1\]\.name: duplicate",
        ),
        (
            {"filters": {"kind": {"column": "kind", "operator": "like", "type": "text"}}},
            r"filters\.kind\.operator",
        ),
        (
            {"filters": {"kind": {"column": "kind", "operator": "eq", "type": "enum"}}},
            r"filters\.kind\.values",
        ),
        (
            {"filters": {"day": {"column": "d", "operator": "dateFrom", "type": "text"}}},
            r"filters\.day\.type: operator dateFrom needs type date",
        ),
        ({"orderBy": ["nope"]}, r"orderBy\[0\]: 'nope' is not one of the columns"),
        ({"colour": "blue"}, r"resources\.THINGS: unknown field\(s\) colour"),
        (
            {"columns": [{"name": "id", "type": "integer", "scale": 2}]},
            r"columns\[0\]\.scale: only decimal columns take a scale",
        ),
        (
            {"columns": [{"name": "id", "type": "decimal", "scale": -1}]},
            r"columns\[0\]\.scale: must be an integer from 0 to 30",
        ),
        (
            {"columns": [{"name": "id", "type": "integer", "width": 0}]},
            r"columns\[0\]\.width: must be a number of characters from 1 to 255",
        ),
        (
            {"columns": [{"name": "id", "type": "text", "formulaSafe": "yes"}]},
            r"columns\[0\]\.formulaSafe: must be true or false",
        ),
        (
            {"columns": [{"name": "id", "type": "integer", "formulaSafe": True}]},
            r"columns\[0\]\.formulaSafe: only text columns",
        ),
    ],
)
def test_bad_entries_name_the_entry_and_field(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        parse_catalog(_catalog(**overrides))


def test_resource_type_names_are_upper_case_identifiers() -> None:
    with pytest.raises(CatalogError, match=r"resources\.things: the name must match"):
        parse_catalog({"resources": {"things": _catalog()["resources"]["THINGS"]}})


def test_a_document_without_resources_is_rejected() -> None:
    with pytest.raises(CatalogError, match="'resources' must be a non-empty mapping"):
        parse_catalog({"version": 1})
