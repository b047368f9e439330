"""The environment the chart gives the API and the operator is accepted by their real settings
parsers (docs/configuration.md), and the export Job the operator builds from it, with the
operator's own pure Job builder, is hardened, valid Kubernetes and capped at the memory limit
given in the values."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from chart_helpers import KUBE_VERSIONS, NAMESPACE, Obj, Rendered, container_env, pod_templates

from api.settings import Settings as ApiSettings
from streamexport_operator.jobs import build_job
from streamexport_operator.settings import Settings as OperatorSettings

TMP = "/tmp"  # noqa: S108 - the mount path under test, not a file this test writes
# Stands in for every Secret value (long enough for an HS256 key).
SECRET_VALUE = "s" * 48
EXPORT: Obj = {
    "apiVersion": "streamexport.io/v1",
    "kind": "Export",
    "metadata": {
        "name": "0b7c8a52-4f0e-4a55-9d7e-1a2b3c4d5e6f",
        "namespace": NAMESPACE,
        "uid": "7f1c2d3e-0000-4000-8000-000000000001",
        "labels": {"streamexport.io/owner": "a" * 40},
    },
    "spec": {
        "resourceType": "TRANSACTIONS",
        "format": "xlsx",
        "filters": {"status": "SETTLED"},
        "requestedBy": {"userId": "user-1", "email": "user@example.com"},
        "estimatedRowCount": 1000,
    },
}


def resolved_env(container: Obj, mounts: dict[str, str] | None = None) -> dict[str, str]:
    """The env the process would see: references resolved as the kubelet would."""
    env: dict[str, str] = {}
    for name, value in container_env(container).items():
        if isinstance(value, str):
            env[name] = (mounts or {}).get(value, value)
        elif "fieldRef" in value:
            assert value["fieldRef"]["fieldPath"] == "metadata.namespace", name
            env[name] = NAMESPACE
        else:
            assert set(value) == {"secretKeyRef"}, name
            env[name] = SECRET_VALUE
    return env


def operator_settings(rendered: Rendered, tmp_path: Path) -> OperatorSettings:
    pod = rendered.one("Deployment", "operator")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    mounted = {mount["mountPath"] for mount in container["volumeMounts"]}
    env = resolved_env(container)
    if "EMAIL_TEMPLATES_DIR" in env:
        # The directory is the ConfigMap's mount; here an empty directory stands in for it.
        assert env["EMAIL_TEMPLATES_DIR"] in mounted
        env["EMAIL_TEMPLATES_DIR"] = str(tmp_path)
    assert "STREAMEXPORT_CATALOG" not in env  # the operator reads no catalog; its Jobs do
    return OperatorSettings.from_env(env)


def built_job(settings: OperatorSettings) -> Obj:
    job: Obj = build_job(EXPORT, settings)
    return job


def catalog_source(pod: Obj, container: Obj, path: str) -> tuple[str, str]:
    """(ConfigMap, key) behind the file `path` in `container`, resolved through its mounts."""
    folder, file_name = str(Path(path).parent), Path(path).name
    [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == folder]
    assert mount.get("readOnly") is True
    [volume] = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    config_map = volume["configMap"]
    items = {item["path"]: item["key"] for item in config_map.get("items") or []}
    return config_map["name"], items.get(file_name, file_name) if items else file_name


def test_api_accepts_its_environment(rendered: Rendered) -> None:
    pod = rendered.one("Deployment", "api")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    settings = ApiSettings.from_env(resolved_env(container))
    assert settings.export_namespace == NAMESPACE
    assert settings.port == container["ports"][0]["containerPort"]
    assert settings.s3_bucket == (rendered.values.get("s3", {}).get("bucket") or "streamexport")
    mounted = {mount["mountPath"] for mount in container["volumeMounts"]}
    assert settings.catalog_path is not None
    assert str(Path(settings.catalog_path).parent) in mounted


def test_operator_accepts_its_environment(rendered: Rendered, tmp_path: Path) -> None:
    settings = operator_settings(rendered, tmp_path)
    exporter = rendered.values.get("exporter", {})
    assert settings.job_memory_limit == exporter.get("memoryLimit", "512Mi")
    assert settings.clusterwide is bool(rendered.values.get("watchAllNamespaces"))
    assert settings.peering == (
        rendered.of_kind("KopfPeering", "ClusterKopfPeering")[0]["metadata"]["name"]
        if rendered.values.get("operator", {}).get("peering", {}).get("enabled")
        else None
    )
    assert settings.liveness_port == 8081
    assert settings.metrics_port == 9090


def test_export_job_pod_is_hardened(rendered: Rendered, tmp_path: Path) -> None:
    job = built_job(operator_settings(rendered, tmp_path))
    [(label, pod)] = list(pod_templates([job]))
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    [container] = pod["containers"]
    context = container["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["readOnlyRootFilesystem"] is True
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert set(container["resources"]["requests"]) == {"cpu", "memory"}
    assert set(container["resources"]["limits"]) == {"cpu", "memory"}
    tmp = next(m for m in container["volumeMounts"] if m["mountPath"] == TMP)
    volume = next(v for v in pod["volumes"] if v["name"] == tmp["name"])
    assert volume["emptyDir"]["sizeLimit"] == rendered.values.get("exporter", {}).get(
        "tmpSizeLimit", "64Mi"
    ), label
    # The pod runs as the ServiceAccount the chart created for it.
    assert (
        pod["serviceAccountName"] == rendered.one("ServiceAccount", "exporter")["metadata"]["name"]
    )


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_export_job_validates_strictly(
    rendered: Rendered, tmp_path: Path, kube_version: str
) -> None:
    # As built, without server-side defaults: e.g. onPodConditions[].status is set by us.
    job = built_job(operator_settings(rendered, tmp_path))
    kubernetes_validate.validate(job, kube_version, strict=True)


def test_export_job_reads_the_catalog_the_api_counts_with(
    rendered: Rendered, tmp_path: Path
) -> None:
    api_pod = rendered.one("Deployment", "api")["spec"]["template"]["spec"]
    [api] = api_pod["containers"]
    api_catalog = catalog_source(api_pod, api, container_env(api)["STREAMEXPORT_CATALOG"])
    operator = rendered.one("Deployment", "operator")["spec"]["template"]["spec"]["containers"][0]
    assert container_env(operator)["EXPORTER_CATALOG_CONFIGMAP"] == api_catalog[0]

    job_pod = built_job(operator_settings(rendered, tmp_path))["spec"]["template"]["spec"]
    [exporter] = job_pod["containers"]
    job_catalog = catalog_source(job_pod, exporter, container_env(exporter)["STREAMEXPORT_CATALOG"])
    assert job_catalog == api_catalog
    existing = rendered.values.get("catalog", {}).get("existingConfigMap")
    if not existing:  # the chart's own ConfigMap holds that key
        assert api_catalog[1] in rendered.named("ConfigMap", api_catalog[0])["data"]


@pytest.mark.parametrize("memory_limit", ["512Mi", "768Mi", "1Gi", "2000M"])
def test_export_job_memory_limit_is_the_value_given(
    render: Callable[[dict[str, Any]], list[Obj]], tmp_path: Path, memory_limit: str
) -> None:
    values = {"exporter": {"memoryLimit": memory_limit}}
    rendered = Rendered("memory", values, render(values))
    env = container_env(
        rendered.one("Deployment", "operator")["spec"]["template"]["spec"]["containers"][0]
    )
    assert env["JOB_MEMORY_LIMIT"] == memory_limit
    [container] = built_job(operator_settings(rendered, tmp_path))["spec"]["template"]["spec"][
        "containers"
    ]
    assert container["resources"]["limits"]["memory"] == memory_limit
    assert container["resources"]["requests"]["memory"] == memory_limit


def test_default_export_job_memory_limit_is_512mi(defaults: Rendered, tmp_path: Path) -> None:
    [container] = built_job(operator_settings(defaults, tmp_path))["spec"]["template"]["spec"][
        "containers"
    ]
    assert container["resources"]["limits"]["memory"] == "512Mi"
