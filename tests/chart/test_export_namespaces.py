"""`exportNamespaces`: with watchAllNamespaces, each listed namespace gets the exporter's
ServiceAccount, a RoleBinding to its ClusterRole and a copy of the catalog, never a Secret."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import helm_python
import kubernetes_validate
import pytest
from chart_helpers import KUBE_VERSIONS, NAMESPACE, Obj, Rendered

EXTRA = ("team-a", "team-b")


@pytest.fixture(scope="module")
def with_namespaces(
    render: Callable[[dict[str, Any]], list[Obj]], all_on_values: dict[str, Any]
) -> Rendered:
    # The release namespace in the list is skipped: the chart's own objects are there.
    values = {**all_on_values, "exportNamespaces": [*EXTRA, NAMESPACE]}
    return Rendered("export-namespaces", values, render(values))


def in_namespace(rendered: Rendered, namespace: str) -> list[Obj]:
    return [o for o in rendered.objects if o["metadata"].get("namespace") == namespace]


def test_each_namespace_gets_account_binding_and_catalog_but_no_secret(
    with_namespaces: Rendered,
) -> None:
    exporter_role = with_namespaces.one("ClusterRole", "exporter")
    catalog = with_namespaces.one("ConfigMap", "catalog")
    for namespace in EXTRA:
        here = in_namespace(with_namespaces, namespace)
        assert sorted(o["kind"] for o in here) == ["ConfigMap", "RoleBinding", "ServiceAccount"]
        binding = next(o for o in here if o["kind"] == "RoleBinding")
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": exporter_role["metadata"]["name"],
        }
        account = next(o for o in here if o["kind"] == "ServiceAccount")
        assert (
            account["metadata"]["name"]
            == with_namespaces.one("ServiceAccount", "exporter")["metadata"]["name"]
        )
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": namespace}
        ]
        copy = next(o for o in here if o["kind"] == "ConfigMap")
        assert copy["metadata"]["name"] == catalog["metadata"]["name"]
        assert copy["data"] == catalog["data"]


def test_the_exporter_may_still_only_patch_export_status(with_namespaces: Rendered) -> None:
    role = with_namespaces.one("ClusterRole", "exporter")
    assert role["rules"] == [
        {"apiGroups": ["streamexport.io"], "resources": ["exports/status"], "verbs": ["patch"]}
    ]


def test_the_release_namespace_is_not_rendered_twice(with_namespaces: Rendered) -> None:
    keys = [
        (o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"])
        for o in with_namespaces.objects
    ]
    assert len(keys) == len(set(keys))


def test_an_existing_catalog_configmap_is_not_copied(
    render: Callable[[dict[str, Any]], list[Obj]], all_on_values: dict[str, Any]
) -> None:
    values = {
        **all_on_values,
        "catalog": {"existingConfigMap": "our-catalog"},
        "exportNamespaces": ["team-a"],
    }
    rendered = Rendered("existing-catalog", values, render(values))
    assert sorted(o["kind"] for o in in_namespace(rendered, "team-a")) == [
        "RoleBinding",
        "ServiceAccount",
    ]


def test_without_watch_all_namespaces_the_value_is_a_clear_error(
    render: Callable[[dict[str, Any]], list[Obj]],
) -> None:
    with pytest.raises(Exception, match="exportNamespaces needs watchAllNamespaces: true"):
        render({"exportNamespaces": ["team-a"]})


def test_a_bad_namespace_name_is_rejected_naming_the_key(chart: helm_python.Chart) -> None:
    with pytest.raises(helm_python.HelmValuesError, match=r"/exportNamespaces/0.*pattern"):
        chart.validate_schema({"watchAllNamespaces": True, "exportNamespaces": ["Team_A"]})


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_rendered_objects_validate_strictly(with_namespaces: Rendered, kube_version: str) -> None:
    for obj in with_namespaces.objects:
        if obj["metadata"].get("namespace") in EXTRA or obj["kind"] == "ClusterRole":
            kubernetes_validate.validate(obj, kube_version, strict=True)
