"""The Job manifest: a pure function of the Export and the settings (no server needed)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest

from streamexport_operator.jobs import build_job, export_prefix
from streamexport_operator.settings import Settings

SETTINGS = Settings(
    exporter_image="registry.example.com/streamexport/exporter:1.2.3",
    s3_bucket="exports-bucket",
    s3_endpoint_url="http://minio:9000",
    kubernetes_api_url="http://kubeapi:8080",
)
PREFIX = "exports/team-a/5b0f3d4e-1111-4a4a-9999-000000000001/"


def export_body(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "streamexport.io/v1",
        "kind": "Export",
        "metadata": {
            "name": "5b0f3d4e-1111-4a4a-9999-000000000001",
            "namespace": "team-a",
            "uid": "0c1d2e3f-0000-4000-8000-00000000abcd",
            "labels": {
                "app.kubernetes.io/managed-by": "streamexport",
                "streamexport.io/owner": "f" * 40,
            },
        },
        "spec": {
            "resourceType": "TRANSACTIONS",
            "format": "xlsx",
            "filters": {"status": "SETTLED", "startDate": "2024-01-01"},
            "requestedBy": {"userId": "u-1", "email": "alice@example.com"},
            "estimatedRowCount": 4200,
            **spec,
        },
    }


@pytest.fixture
def job() -> dict[str, Any]:
    return build_job(export_body(), SETTINGS)


def container_of(job: dict[str, Any]) -> dict[str, Any]:
    containers = job["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


def env_of(job: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container_of(job)["env"]}


def test_named_after_and_owned_by_its_export(job: dict[str, Any]) -> None:
    meta = job["metadata"]
    assert meta["name"] == "5b0f3d4e-1111-4a4a-9999-000000000001"
    assert meta["namespace"] == "team-a"
    assert "generateName" not in meta
    assert meta["ownerReferences"] == [
        {
            "apiVersion": "streamexport.io/v1",
            "kind": "Export",
            "name": "5b0f3d4e-1111-4a4a-9999-000000000001",
            "uid": "0c1d2e3f-0000-4000-8000-00000000abcd",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]


def test_labels_link_job_and_pods_to_the_export(job: dict[str, Any]) -> None:
    for labels in (job["metadata"]["labels"], job["spec"]["template"]["metadata"]["labels"]):
        assert labels["streamexport.io/export"] == "5b0f3d4e-1111-4a4a-9999-000000000001"
        assert labels["streamexport.io/owner"] == "f" * 40
        assert labels["app.kubernetes.io/managed-by"] == "streamexport"
        assert labels["app.kubernetes.io/component"] == "exporter"


def test_job_limits_retries_deadline_and_cleanup(job: dict[str, Any]) -> None:
    spec = job["spec"]
    assert spec["backoffLimit"] == 2
    assert spec["activeDeadlineSeconds"] == 3600
    assert spec["ttlSecondsAfterFinished"] == 86400
    assert (spec["completions"], spec["parallelism"]) == (1, 1)
    assert spec["podReplacementPolicy"] == "Failed"
    assert spec["template"]["spec"]["restartPolicy"] == "Never"


def test_pod_failure_policy_fails_at_once_on_exit_2_and_3_and_ignores_disruptions(
    job: dict[str, Any],
) -> None:
    rules = job["spec"]["podFailurePolicy"]["rules"]
    assert rules[0] == {
        "action": "Ignore",
        "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
    }
    assert rules[1] == {
        "action": "FailJob",
        "onExitCodes": {"containerName": "exporter", "operator": "In", "values": [2]},
    }
    assert rules[2] == {
        "action": "FailJob",
        "onExitCodes": {"containerName": "exporter", "operator": "In", "values": [3]},
    }


def test_memory_limit_with_matching_request(job: dict[str, Any]) -> None:
    resources = container_of(job)["resources"]
    assert resources["limits"]["memory"] == resources["requests"]["memory"] == "512Mi"
    assert resources["requests"]["cpu"] == "250m"
    assert resources["limits"]["cpu"] == "1"


def test_locked_down_pod_and_container(job: dict[str, Any]) -> None:
    pod = job["spec"]["template"]["spec"]
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    security = container_of(job)["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] == 10001
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["serviceAccountName"] == "streamexport-exporter"


def test_tmp_is_a_size_limited_empty_dir(job: dict[str, Any]) -> None:
    pod = job["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
    assert container_of(job)["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]  # noqa: S108


def test_container_image_command_and_termination_message(job: dict[str, Any]) -> None:
    container = container_of(job)
    assert container["name"] == "exporter"
    assert container["image"] == "registry.example.com/streamexport/exporter:1.2.3"
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["command"] == ["python", "-m", "exporter"]
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert container["terminationMessagePolicy"] == "FallbackToLogsOnError"


def test_exporter_environment_comes_from_the_spec_and_settings(job: dict[str, Any]) -> None:
    env = env_of(job)
    assert env["EXPORT_NAME"] == "5b0f3d4e-1111-4a4a-9999-000000000001"
    assert env["EXPORT_NAMESPACE"] == "team-a"
    assert env["EXPORT_RESOURCE_TYPE"] == "TRANSACTIONS"
    assert env["EXPORT_FORMAT"] == "xlsx"
    assert json.loads(env["EXPORT_FILTERS"]) == {"status": "SETTLED", "startDate": "2024-01-01"}
    assert env["S3_BUCKET"] == "exports-bucket"
    # Where, not what: the exporter appends the file name it chooses and reports the key.
    assert env["EXPORT_OBJECT_KEY_PREFIX"] == PREFIX
    assert "EXPORT_OBJECT_KEY" not in env
    # The exporter counts in its own snapshot: an earlier estimate would save it nothing.
    assert "EXPORT_ESTIMATED_ROWS" not in env
    assert env["S3_ENDPOINT_URL"] == "http://minio:9000"
    assert env["AWS_REGION"] == "us-east-1"
    assert env["EXPORT_PART_SIZE"] == "5MiB"
    assert env["TERMINATION_MESSAGE_PATH"] == "/dev/termination-log"
    assert env["KUBERNETES_API_URL"] == "http://kubeapi:8080"


def test_credentials_only_as_secret_references(job: dict[str, Any]) -> None:
    env = env_of(job)
    assert env["DATABASE_URL"] == {
        "secretKeyRef": {"name": "streamexport-database", "key": "DATABASE_URL", "optional": False}
    }
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert env[name] == {
            "secretKeyRef": {"name": "streamexport-s3", "key": name, "optional": True}
        }
    plain = " ".join(str(v) for v in env.values() if isinstance(v, str))
    assert "password" not in plain.lower()


def test_unset_optional_settings_leave_no_empty_variables() -> None:
    bare = Settings(exporter_image="exporter:1", s3_bucket="b")
    env = env_of(build_job(export_body(), bare))
    assert "S3_ENDPOINT_URL" not in env
    assert "KUBERNETES_API_URL" not in env


def test_a_catalog_configmap_is_mounted_read_only_and_named_to_the_exporter() -> None:
    settings = dataclasses.replace(
        SETTINGS, exporter_catalog_configmap="acme-catalog", exporter_catalog_key="exports.yaml"
    )
    job = build_job(export_body(), settings)
    pod = job["spec"]["template"]["spec"]
    assert {"name": "catalog", "configMap": {"name": "acme-catalog"}} in pod["volumes"]
    assert {
        "name": "catalog",
        "mountPath": "/etc/streamexport/catalog",
        "readOnly": True,
    } in container_of(job)["volumeMounts"]
    assert env_of(job)["STREAMEXPORT_CATALOG"] == "/etc/streamexport/catalog/exports.yaml"
    kubernetes_validate.validate(job, "1.33.0", strict=True)


def test_without_a_catalog_configmap_the_image_catalog_is_used(job: dict[str, Any]) -> None:
    assert "STREAMEXPORT_CATALOG" not in env_of(job)
    assert [v["name"] for v in job["spec"]["template"]["spec"]["volumes"]] == ["tmp"]


def test_manifest_is_a_valid_batch_v1_job(job: dict[str, Any]) -> None:
    kubernetes_validate.validate(job, "1.33.0", strict=True)


def test_building_is_pure(job: dict[str, Any]) -> None:
    export = export_body()
    snapshot = json.dumps(export, sort_keys=True)
    assert build_job(export, SETTINGS) == job
    assert json.dumps(export, sort_keys=True) == snapshot


def test_the_key_prefix_sits_under_the_lifecycle_prefix() -> None:
    assert export_prefix("ns", "id-1") == "exports/ns/id-1/"


def test_a_spec_is_not_validated_by_the_operator() -> None:
    """The exporter validates it (exit 2: InvalidRequest); the operator needs no catalog."""
    job = build_job(export_body(resourceType="NO_SUCH_THING"), SETTINGS)
    assert env_of(job)["EXPORT_RESOURCE_TYPE"] == "NO_SUCH_THING"
