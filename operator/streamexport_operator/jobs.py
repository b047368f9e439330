"""The export Job's manifest: a pure function of the Export and the settings."""

from __future__ import annotations

import json
from typing import Any

import kopf

from streamexport_core.contract import EXIT_OUT_OF_MEMORY, EXIT_PERMANENT, JobEnv
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
# Kueue admits a suspended Job carrying this label by unsuspending it (kueue.x-k8s.io docs).
KUEUE_QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
TERMINATION_MESSAGE_PATH = "/dev/termination-log"
# Exit codes of the exporter (docs/configuration.md): 2 = can never succeed.
EXIT_INVALID_REQUEST = EXIT_PERMANENT
# 137 (128 + SIGKILL) is NOT here: the OOM killer, an eviction, a preemption, a node drain and
# `kill -9` all exit 137, and all but the first deserve a retry. The exporter's own memory guard
# exits EXIT_OUT_OF_MEMORY before the kernel would kill it; a kernel OOM kill that beats the
# guard is retried within backoffLimit and reported from the container's `OOMKilled` reason.
OBJECT_KEY_PREFIX = "exports"
# Where the Job mounts the catalog ConfigMap: the same path the chart uses for the API and the
# operator, so all three read one catalog.
CATALOG_DIR = "/etc/streamexport/catalog"


def export_prefix(namespace: str, name: str) -> str:
    """`exports/<namespace>/<export name>/`: every object key of one export starts with it (the
    exporter appends its file name; lifecycle rules target `exports/`)."""
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


def exporter_env(export: Body, settings: Settings) -> list[dict[str, Any]]:
    """The exporter's environment: what to export from the spec, where to from the settings,
    credentials only as references to Secrets. The exporter validates the spec (exit code 2
    when it never can succeed) and names the file: the operator needs no catalog."""
    meta, spec = export["metadata"], export["spec"]
    plain: dict[str, str | None] = {
        JobEnv.EXPORT_NAME: meta["name"],
        JobEnv.EXPORT_NAMESPACE: meta["namespace"],
        JobEnv.RESOURCE_TYPE: spec["resourceType"],
        JobEnv.FORMAT: spec["format"],
        JobEnv.FILTERS: json.dumps(spec.get("filters") or {}, sort_keys=True),
        # Whose rows: copied from the immutable spec, never derived here.
        JobEnv.SCOPE: json.dumps(spec["scope"], sort_keys=True) if spec.get("scope") else None,
        # No row estimate: the exporter must COUNT in its own snapshot anyway (the XLSX sheet
        # guard and the progress percentage need the exact count of what it will write), so an
        # estimate taken earlier, outside that snapshot, could not save that query.
        JobEnv.BUCKET: settings.s3_bucket,
        JobEnv.OBJECT_KEY_PREFIX: export_prefix(meta["namespace"], meta["name"]),
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
    """Disruptions are not the export's fault; exit 2 (bad request) and 3 (the exporter's
    memory guard) can never succeed on retry; any other failure, 137 included, is retried."""
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
                    "values": [EXIT_OUT_OF_MEMORY],
                },
            },
        ]
    }


def build_job(export: Body, settings: Settings) -> dict[str, Any]:
    """One Job named after its Export, owned by it, running the exporter under hard limits."""
    labels = job_labels(export)
    uid = settings.exporter_run_as_user
    pod_volumes, mounts = volumes(settings)
    container = {
        "name": CONTAINER_NAME,
        "image": settings.exporter_image,
        "imagePullPolicy": settings.exporter_image_pull_policy,
        "command": list(settings.exporter_command),
        "env": exporter_env(export, settings),
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
    if settings.kueue_queue_name:
        # Created suspended: only Kueue unsuspends it, when its ClusterQueue has the quota.
        job["metadata"]["labels"][KUEUE_QUEUE_LABEL] = settings.kueue_queue_name
        job["spec"]["suspend"] = True
    kopf.adopt(job, owner=as_body(export))
    return job
