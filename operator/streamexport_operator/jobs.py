"""The export Job's manifest: a pure function of the Export and the settings."""

from __future__ import annotations

import json
from typing import Any

import kopf

from streamexport_core.contract import EXIT_PERMANENT, JobEnv
from streamexport_operator.exports import (
    EXPORT_LABEL,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    OWNER_LABEL,
    Body,
    as_body,
    owner_of,
)
from streamexport_operator.job_options import option_env
from streamexport_operator.settings import Settings

CONTAINER_NAME = "exporter"
TERMINATION_MESSAGE_PATH = "/dev/termination-log"
# Exit codes of the exporter (docs/configuration.md): 2 = can never succeed.
EXIT_INVALID_REQUEST = EXIT_PERMANENT
# 128 + SIGKILL: what a container killed by the kernel's OOM killer exits with. Retrying the
# same export under the same memory limit would only be killed again, so it fails the Job.
EXIT_OOM_KILLED = 137
OBJECT_KEY_PREFIX = "exports"
# Where the Job mounts the catalog ConfigMap: the same path the chart uses for the API and the
# operator, so all three read one catalog.
CATALOG_DIR = "/etc/streamexport/catalog"


def object_key(namespace: str, name: str, file_name: str) -> str:
    """`exports/<namespace>/<export name>/<file name>`: the prefix lifecycle rules target."""
    return export_prefix(namespace, name) + file_name


def export_prefix(namespace: str, name: str) -> str:
    """`exports/<namespace>/<export name>/`: every object key of one export starts with it."""
    return f"{OBJECT_KEY_PREFIX}/{namespace}/{name}/"


def job_labels(export: Body) -> dict[str, str]:
    """Labels that link a Job and its pods to their Export."""
    meta = export["metadata"]
    return {
        MANAGED_BY_LABEL: MANAGED_BY,
        "app.kubernetes.io/name": "streamexport",
        "app.kubernetes.io/component": "exporter",
        EXPORT_LABEL: meta["name"],
        OWNER_LABEL: owner_of(export),
    }


def exporter_env(export: Body, settings: Settings, key: str) -> list[dict[str, Any]]:
    """The exporter's environment: what to export from the spec, where to from the settings,
    credentials only as references to Secrets."""
    meta, spec = export["metadata"], export["spec"]
    plain: dict[str, str | None] = {
        JobEnv.EXPORT_NAME: meta["name"],
        JobEnv.EXPORT_NAMESPACE: meta["namespace"],
        JobEnv.RESOURCE_TYPE: spec["resourceType"],
        JobEnv.FORMAT: spec["format"],
        JobEnv.FILTERS: json.dumps(spec.get("filters") or {}, sort_keys=True),
        # Whose rows: copied from the immutable spec, never derived here.
        JobEnv.SCOPE: json.dumps(spec["scope"], sort_keys=True) if spec.get("scope") else None,
        JobEnv.ESTIMATED_ROWS: str(int(spec.get("estimatedRowCount") or 0)),
        JobEnv.BUCKET: settings.s3_bucket,
        JobEnv.OBJECT_KEY: key,
        JobEnv.S3_ENDPOINT_URL: settings.s3_endpoint_url,
        JobEnv.AWS_REGION: settings.aws_region,
        JobEnv.PART_SIZE: settings.export_part_size,
        JobEnv.TERMINATION_MESSAGE_PATH: TERMINATION_MESSAGE_PATH,
        JobEnv.KUBERNETES_API_URL: settings.kubernetes_api_url,
        JobEnv.LOG_LEVEL: settings.log_level.lower(),
        JobEnv.CATALOG: (
            f"{CATALOG_DIR}/{settings.exporter_catalog_key}"
            if settings.exporter_catalog_configmap
            else None
        ),
        # glibc reserves 64 MiB of address space per thread arena; keep it small under a cap.
        "MALLOC_ARENA_MAX": "2",
    }
    plain.update(option_env(spec))
    env: list[dict[str, Any]] = [
        {"name": name, "value": value} for name, value in plain.items() if value is not None
    ]
    env.append(_secret_env(JobEnv.DATABASE_URL, settings.exporter_database_secret, optional=False))
    for name in (JobEnv.AWS_ACCESS_KEY_ID, JobEnv.AWS_SECRET_ACCESS_KEY):
        # Optional: without them the pod's IAM role (e.g. IRSA) is used.
        env.append(_secret_env(name, settings.exporter_s3_secret, optional=True))
    return env


def _secret_env(name: str, secret: str, *, optional: bool) -> dict[str, Any]:
    return {
        "name": name,
        "valueFrom": {"secretKeyRef": {"name": secret, "key": name, "optional": optional}},
    }


def volumes(settings: Settings) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The pod's volumes and the container's mounts: /tmp, and the catalog when configured."""
    pod: list[dict[str, Any]] = [
        {"name": "tmp", "emptyDir": {"sizeLimit": settings.job_tmp_size_limit}}
    ]
    mounts: list[dict[str, Any]] = [{"name": "tmp", "mountPath": "/tmp"}]  # noqa: S108 - emptyDir
    if settings.exporter_catalog_configmap:
        pod.append({"name": "catalog", "configMap": {"name": settings.exporter_catalog_configmap}})
        mounts.append({"name": "catalog", "mountPath": CATALOG_DIR, "readOnly": True})
    return pod, mounts


def pod_failure_policy() -> dict[str, Any]:
    """Disruptions are not the export's fault; exit 2 and OOM can never succeed on retry."""
    return {
        "rules": [
            {
                "action": "Ignore",
                "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
            },
            {
                "action": "FailJob",
                "onExitCodes": {
                    "containerName": CONTAINER_NAME,
                    "operator": "In",
                    "values": [EXIT_INVALID_REQUEST],
                },
            },
            {
                "action": "FailJob",
                "onExitCodes": {
                    "containerName": CONTAINER_NAME,
                    "operator": "In",
                    "values": [EXIT_OOM_KILLED],
                },
            },
        ]
    }


def build_job(export: Body, settings: Settings, key: str) -> dict[str, Any]:
    """One Job named after its Export, owned by it, running the exporter under hard limits."""
    labels = job_labels(export)
    uid = settings.exporter_run_as_user
    pod_volumes, mounts = volumes(settings)
    container = {
        "name": CONTAINER_NAME,
        "image": settings.exporter_image,
        "imagePullPolicy": settings.exporter_image_pull_policy,
        "command": list(settings.exporter_command),
        "env": exporter_env(export, settings, key),
        "resources": {
            "requests": {"memory": settings.job_memory_limit, "cpu": settings.job_cpu_request},
            "limits": {"memory": settings.job_memory_limit, "cpu": settings.job_cpu_limit},
        },
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": uid,
            "runAsGroup": uid,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": mounts,
        "terminationMessagePath": TERMINATION_MESSAGE_PATH,
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }
    job: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": export["metadata"]["name"],
            "namespace": export["metadata"]["namespace"],
            "labels": dict(labels),
        },
        "spec": {
            "completions": 1,
            "parallelism": 1,
            "backoffLimit": settings.job_backoff_limit,
            "activeDeadlineSeconds": settings.job_active_deadline_seconds,
            "ttlSecondsAfterFinished": settings.job_ttl_seconds_after_finished,
            "podFailurePolicy": pod_failure_policy(),
            # Never two exporters of one export at once: a retry waits for the old pod's end.
            "podReplacementPolicy": "Failed",
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    "restartPolicy": "Never",
                    "serviceAccountName": settings.exporter_service_account,
                    "automountServiceAccountToken": True,  # progress patches exports/status
                    "enableServiceLinks": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": uid,
                        "runAsGroup": uid,
                        "fsGroup": uid,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": pod_volumes,
                },
            },
        },
    }
    kopf.adopt(job, owner=as_body(export))
    return job
