"""Every object the chart renders, and every CRD it ships, is valid Kubernetes for 1.29 and 1.33.

Built-in kinds are checked with kubernetes-validate (strict: unknown fields fail). Kinds that
come from CRDs, which kubernetes-validate cannot know, are checked against their CRD's schema:
KopfPeering/ClusterKopfPeering against the chart's own crds/kopf-peering.yaml, ServiceMonitor
against the relevant part of prometheus-operator's CRD (schemas/servicemonitor-v1-subset.json);
their metadata against Kubernetes' ObjectMeta.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import helm_python
import jsonschema
import kubernetes_validate
import pytest
import referencing
import yaml
from chart_helpers import KUBE_VERSIONS, NAMESPACE, Obj, Rendered
from kubernetes_validate.utils import schema_contents

SERVICE_MONITOR_SCHEMA = Path(__file__).with_name("schemas") / "servicemonitor-v1-subset.json"
CLUSTER_SCOPED = {
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "ClusterKopfPeering",
    "Namespace",
}
CUSTOM_KINDS = {"ServiceMonitor", "KopfPeering", "ClusterKopfPeering"}


def object_meta_validator(kube_version: str) -> jsonschema.protocols.Validator:
    """A strict validator of ObjectMeta from kubernetes-validate's definitions."""
    definitions = schema_contents(
        f"kubernetes-json-schema/v{kube_version}.0-local-strict/_definitions.json", kube_version
    )
    registry = referencing.Resource.from_contents(definitions) @ referencing.Registry()
    schema = {
        "$ref": f"{definitions['$id']}#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    }
    return jsonschema.Draft202012Validator(schema, registry=registry)


def crd_schema(crds: list[Obj], kind: str) -> dict[str, Any]:
    """The openAPIV3Schema of the served version of `kind` in the given CRDs."""
    for crd in crds:
        if crd["spec"]["names"]["kind"] == kind:
            served = next(v for v in crd["spec"]["versions"] if v["served"])
            schema: dict[str, Any] = served["schema"]["openAPIV3Schema"]
            return schema
    raise AssertionError(f"no CRD for {kind}")


@pytest.fixture(scope="module")
def chart_crds(chart: helm_python.Chart) -> list[Obj]:
    return [obj for crd in chart.crds for obj in yaml.safe_load_all(crd["data"]) if obj]


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_builtin_kinds_validate_strictly(rendered: Rendered, kube_version: str) -> None:
    builtin = [obj for obj in rendered.objects if obj["kind"] not in CUSTOM_KINDS]
    assert builtin
    for obj in builtin:
        try:
            kubernetes_validate.validate(obj, kube_version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.path)
            pytest.fail(
                f"{obj['kind']}/{obj['metadata']['name']} ({rendered.values_name}, "
                f"{kube_version}): {path}: {error.message}"
            )


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_crds_in_chart_validate_strictly(chart_crds: list[Obj], kube_version: str) -> None:
    names = {crd["metadata"]["name"] for crd in chart_crds}
    assert names == {
        "exports.streamexport.io",
        "clusterkopfpeerings.kopf.dev",
        "kopfpeerings.kopf.dev",
    }
    for crd in chart_crds:
        kubernetes_validate.validate(crd, kube_version, strict=True)


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_kopf_peering_objects_match_their_crd(
    all_on: Rendered, defaults: Rendered, chart_crds: list[Obj], kube_version: str
) -> None:
    meta = object_meta_validator(kube_version)
    peerings = all_on.of_kind("KopfPeering", "ClusterKopfPeering")
    assert len(peerings) == 1, "the all-on values run a peering pair"
    assert defaults.of_kind("KopfPeering", "ClusterKopfPeering") == []
    for obj in peerings:
        assert obj["apiVersion"] == "kopf.dev/v1"
        jsonschema.Draft7Validator(crd_schema(chart_crds, obj["kind"])).validate(obj)
        meta.validate(obj["metadata"])


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_service_monitors_match_the_prometheus_operator_schema(
    all_on: Rendered, kube_version: str
) -> None:
    schema = json.loads(SERVICE_MONITOR_SCHEMA.read_text(encoding="utf-8"))
    meta = object_meta_validator(kube_version)
    monitors = all_on.of_kind("ServiceMonitor")
    assert {m["metadata"]["labels"]["app.kubernetes.io/component"] for m in monitors} == {
        "api",
        "operator",
    }
    for obj in monitors:
        jsonschema.Draft7Validator(schema).validate(obj)
        meta.validate(obj["metadata"])


def test_service_monitors_point_at_named_service_ports(all_on: Rendered) -> None:
    for monitor in all_on.of_kind("ServiceMonitor"):
        selector = monitor["spec"]["selector"]["matchLabels"]
        services = [
            svc
            for svc in all_on.of_kind("Service")
            if selector.items() <= svc["metadata"]["labels"].items()
        ]
        assert len(services) == 1
        ports = {port["name"] for port in services[0]["spec"]["ports"]}
        assert {endpoint["port"] for endpoint in monitor["spec"]["endpoints"]} <= ports


def test_no_custom_kind_is_left_unchecked(all_on: Rendered, defaults: Rendered) -> None:
    known_groups = ("", "apps", "batch", "policy", "networking.k8s.io", "rbac.authorization.k8s.io")
    for obj in all_on.objects + defaults.objects:
        group = obj["apiVersion"].rpartition("/")[0]
        assert group in known_groups or obj["kind"] in CUSTOM_KINDS, obj["kind"]


def test_namespaced_objects_are_in_the_release_namespace(rendered: Rendered) -> None:
    for obj in rendered.objects:
        if obj["kind"] in CLUSTER_SCOPED:
            assert "namespace" not in obj["metadata"], obj["kind"]
        else:
            assert obj["metadata"].get("namespace") == NAMESPACE, obj["kind"]


def test_object_names_are_unique_per_kind(rendered: Rendered) -> None:
    keys = [(obj["kind"], obj["metadata"]["name"]) for obj in rendered.objects]
    assert len(keys) == len(set(keys))
