"""The API and operator Deployments: probes, ports, strategy, peering pair, images, and every
Job, admission and retention value reaching the operator's environment."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import helm_python
import pytest
from chart_helpers import Obj, Rendered, container_env

# values path -> (environment variable, value in values-all-on.yaml as the env shows it)
OPERATOR_ENV_FROM_VALUES = {
    "exporter.image.pullPolicy": ("EXPORTER_IMAGE_PULL_POLICY", "Always"),
    "exporter.memoryLimit": ("JOB_MEMORY_LIMIT", "768Mi"),
    "exporter.cpuRequest": ("JOB_CPU_REQUEST", "500m"),
    "exporter.cpuLimit": ("JOB_CPU_LIMIT", "2"),
    "exporter.tmpSizeLimit": ("JOB_TMP_SIZE_LIMIT", "4Gi"),
    "exporter.activeDeadlineSeconds": ("JOB_ACTIVE_DEADLINE_SECONDS", "7200"),
    "exporter.backoffLimit": ("JOB_BACKOFF_LIMIT", "1"),
    "exporter.ttlSecondsAfterFinished": ("JOB_TTL_SECONDS_AFTER_FINISHED", "3600"),
    "exporter.partSize": ("EXPORT_PART_SIZE", "16MiB"),
    "exports.maxRunning": ("MAX_RUNNING_EXPORTS", "8"),
    "exports.maxRunningPerOwner": ("MAX_RUNNING_EXPORTS_PER_OWNER", "3"),
    "exports.urlExpirySeconds": ("EXPORT_EXPIRY_SECONDS", "86400"),
    "exports.retentionDays": ("EXPORT_RETENTION_DAYS", "0"),
    "smtp.host": ("SMTP_HOST", "smtp.example.com"),
    "smtp.port": ("SMTP_PORT", "465"),
    "smtp.security": ("SMTP_SECURITY", "tls"),
    "smtp.from": ("SMTP_FROM", "Exports <exports@example.com>"),
    "s3.bucket": ("S3_BUCKET", "acme-exports"),
    "s3.endpointUrl": ("S3_ENDPOINT_URL", "https://minio.example.com"),
    "s3.region": ("AWS_REGION", "eu-west-1"),
    "logLevel": ("LOG_LEVEL", "DEBUG"),
}


def env_of(rendered: Rendered, component: str) -> dict[str, Any]:
    deployment = rendered.one("Deployment", component)
    return container_env(deployment["spec"]["template"]["spec"]["containers"][0])


def container_of(rendered: Rendered, component: str) -> Obj:
    container: Obj = rendered.one("Deployment", component)["spec"]["template"]["spec"][
        "containers"
    ][0]
    return container


def test_api_probes_healthz_and_readyz_on_8080(rendered: Rendered) -> None:
    container = container_of(rendered, "api")
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    service = rendered.one("Service", "api")
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def test_api_replicas_and_disruption_budget(rendered: Rendered) -> None:
    api = rendered.one("Deployment", "api")
    assert api["spec"]["replicas"] == rendered.values.get("api", {}).get("replicas", 2)
    budget = rendered.one("PodDisruptionBudget", "api")
    assert budget["spec"]["maxUnavailable"] == 1
    assert budget["spec"]["selector"] == api["spec"]["selector"]


def test_operator_liveness_and_metrics_ports(rendered: Rendered) -> None:
    container = container_of(rendered, "operator")
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"liveness": 8081, "metrics": 9090}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "liveness"}
    env = container_env(container)
    assert (env["OPERATOR_LIVENESS_PORT"], env["OPERATOR_METRICS_PORT"]) == ("8081", "9090")


def test_single_operator_is_recreated_never_doubled(defaults: Rendered) -> None:
    operator = defaults.one("Deployment", "operator")
    assert operator["spec"]["replicas"] == 1
    assert operator["spec"]["strategy"] == {"type": "Recreate"}
    assert env_of(defaults, "operator")["OPERATOR_PEERING"] == ""
    assert defaults.of_kind("KopfPeering", "ClusterKopfPeering") == []


def test_peering_pair_shares_one_peering_object(all_on: Rendered) -> None:
    operator = all_on.one("Deployment", "operator")
    assert operator["spec"]["replicas"] == 2
    assert operator["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}
    [peering] = all_on.of_kind("ClusterKopfPeering")  # cluster-wide in all-on
    assert env_of(all_on, "operator")["OPERATOR_PEERING"] == peering["metadata"]["name"]
    assert all_on.one("PodDisruptionBudget", "operator")["spec"]["maxUnavailable"] == 1


def test_each_pod_of_a_pair_draws_its_own_priority(rendered: Rendered) -> None:
    # One value in the pod template would give both replicas the same priority: kopf then
    # pauses both. Unset, each operator process picks a random one.
    assert "OPERATOR_PEERING_PRIORITY" not in env_of(rendered, "operator")


def test_namespaced_peering_uses_a_kopf_peering_in_the_namespace(
    render: Callable[[dict[str, Any]], list[Obj]],
) -> None:
    values = {"operator": {"peering": {"enabled": True, "name": "exports-pair"}}}
    rendered = Rendered("peering", values, render(values))
    [peering] = rendered.of_kind("KopfPeering")
    assert peering["metadata"]["name"] == "exports-pair"
    assert env_of(rendered, "operator")["OPERATOR_PEERING"] == "exports-pair"


def test_operator_watches_its_namespace_or_all(defaults: Rendered, all_on: Rendered) -> None:
    assert env_of(defaults, "operator")["OPERATOR_NAMESPACES"] == {
        "fieldRef": {"fieldPath": "metadata.namespace"}
    }
    assert env_of(all_on, "operator")["OPERATOR_NAMESPACES"] == "*"


@pytest.mark.parametrize("path", sorted(OPERATOR_ENV_FROM_VALUES))
def test_values_reach_the_operator_environment(all_on: Rendered, path: str) -> None:
    name, expected = OPERATOR_ENV_FROM_VALUES[path]
    assert env_of(all_on, "operator")[name] == expected


def test_defaults_match_the_configuration_reference(defaults: Rendered) -> None:
    env = env_of(defaults, "operator")
    assert {k: env[k] for k in ("JOB_MEMORY_LIMIT", "JOB_CPU_REQUEST", "JOB_CPU_LIMIT")} == {
        "JOB_MEMORY_LIMIT": "512Mi",
        "JOB_CPU_REQUEST": "250m",
        "JOB_CPU_LIMIT": "1",
    }
    assert env["JOB_TMP_SIZE_LIMIT"] == "64Mi"
    assert env["EXPORT_EXPIRY_SECONDS"] == "604800"
    assert env["EXPORT_RETENTION_DAYS"] == "30"
    assert (env["MAX_RUNNING_EXPORTS"], env["MAX_RUNNING_EXPORTS_PER_OWNER"]) == ("4", "2")
    assert json.loads(env["EXPORTER_COMMAND"]) == ["python", "-m", "exporter"]


def test_image_tags_default_to_the_app_version(
    chart: helm_python.Chart, defaults: Rendered
) -> None:
    app_version = chart.metadata["appVersion"]
    assert container_of(defaults, "api")["image"] == f"streamexport/streamexport:{app_version}"
    assert container_of(defaults, "operator")["image"] == f"streamexport/streamexport:{app_version}"
    assert env_of(defaults, "operator")["EXPORTER_IMAGE"] == f"streamexport/exporter:{app_version}"


def test_image_digest_and_tag_overrides(all_on: Rendered) -> None:
    digest = all_on.values["image"]["digest"]
    assert (
        container_of(all_on, "api")["image"]
        == f"registry.example.com/streamexport/streamexport@{digest}"
    )
    assert env_of(all_on, "operator")["EXPORTER_IMAGE"] == (
        "registry.example.com/streamexport/exporter:0.1.0-rc1"
    )


def test_secrets_are_referenced_by_name(defaults: Rendered) -> None:
    assert defaults.of_kind("Secret") == []
    api, operator = env_of(defaults, "api"), env_of(defaults, "operator")
    assert api["DATABASE_URL"] == {
        "secretKeyRef": {"name": "streamexport-database", "key": "DATABASE_URL"}
    }
    assert api["JWT_SECRET"]["secretKeyRef"] == {"name": "streamexport-jwt", "key": "JWT_SECRET"}
    # Names of Secrets, not their values.
    assert operator["EXPORTER_DATABASE_SECRET"] == "streamexport-database"  # noqa: S105
    assert operator["EXPORTER_S3_SECRET"] == "streamexport-s3"  # noqa: S105
    assert "SMTP_PASSWORD" not in operator


def test_created_secrets_are_the_ones_referenced(all_on: Rendered) -> None:
    secrets = {s["metadata"]["name"]: s for s in all_on.of_kind("Secret")}
    api, operator = env_of(all_on, "api"), env_of(all_on, "operator")
    referenced = {
        api["DATABASE_URL"]["secretKeyRef"]["name"]: "DATABASE_URL",
        api["JWT_PUBLIC_KEY"]["secretKeyRef"]["name"]: "JWT_PUBLIC_KEY",
        operator["SMTP_PASSWORD"]["secretKeyRef"]["name"]: "SMTP_PASSWORD",
        operator["EXPORTER_S3_SECRET"]: "AWS_SECRET_ACCESS_KEY",
    }
    assert set(referenced) == set(secrets)
    for name, key in referenced.items():
        assert key in secrets[name]["stringData"]
    assert operator["EXPORTER_DATABASE_SECRET"] == api["DATABASE_URL"]["secretKeyRef"]["name"]


def test_no_secret_value_appears_outside_secrets(all_on: Rendered) -> None:
    values = all_on.values
    secret_values = [
        values["database"]["url"],
        values["s3"]["secretAccessKey"],
        values["smtp"]["password"],
    ]
    for obj in all_on.objects:
        if obj["kind"] != "Secret":
            assert not any(value in json.dumps(obj) for value in secret_values), obj["kind"]


def test_s3_keys_can_be_left_to_the_pod_identity(
    render: Callable[[dict[str, Any]], list[Obj]],
) -> None:
    values = {"s3": {"existingSecret": ""}}
    rendered = Rendered("irsa", values, render(values))
    for component in ("api", "operator"):
        assert "AWS_ACCESS_KEY_ID" not in env_of(rendered, component)


def test_email_templates_are_mounted_where_the_operator_looks(all_on: Rendered) -> None:
    container = container_of(all_on, "operator")
    env = container_env(container)
    mount = next(m for m in container["volumeMounts"] if m["name"] == "email-templates")
    assert env["EMAIL_TEMPLATES_DIR"] == mount["mountPath"]
    volume = next(
        v
        for v in all_on.one("Deployment", "operator")["spec"]["template"]["spec"]["volumes"]
        if v["name"] == "email-templates"
    )
    paths = {item["path"] for item in volume["configMap"]["items"]}
    assert paths == set(all_on.values["emailTemplates"]["files"])


def test_api_public_url_defaults_to_the_ingress_host(all_on: Rendered, defaults: Rendered) -> None:
    assert env_of(all_on, "operator")["API_PUBLIC_URL"] == "https://exports.example.com"
    assert env_of(defaults, "operator")["API_PUBLIC_URL"] == ""


def test_config_changes_roll_the_pods(render: Callable[[dict[str, Any]], list[Obj]]) -> None:
    def checksum(values: dict[str, Any]) -> str:
        rendered = Rendered("checksum", values, render(values))
        annotations = rendered.one("Deployment", "api")["spec"]["template"]["metadata"][
            "annotations"
        ]
        return str(annotations["checksum/catalog"])

    assert checksum({}) != checksum({"catalog": {"content": "version: 1\nresources: {}\n"}})


def test_the_operator_mounts_no_catalog_its_jobs_do(defaults: Rendered) -> None:
    # The operator never reads the catalog (the API validated the spec against it); it only
    # names the ConfigMap for the Jobs, whose exporters select with it.
    pod = defaults.one("Deployment", "operator")["spec"]["template"]["spec"]
    assert "catalog" not in {volume["name"] for volume in pod.get("volumes", [])}
    assert env_of(defaults, "operator")["EXPORTER_CATALOG_CONFIGMAP"]
