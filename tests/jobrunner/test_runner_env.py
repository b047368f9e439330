"""The container's env is resolved as the kubelet resolves it: Secrets, ConfigMaps, fieldRefs;
a missing Secret keeps the Pod Pending (CreateContainerConfigError) until it appears."""

from __future__ import annotations

import base64
import json
from typing import Any

from runner_support import (
    RunnerThread,
    create_job,
    eventually,
    finished_condition,
    get_job,
    job_manifest,
    pods_of,
    terminated,
    wait_finished,
)

from devstack.kubeclient import JSON, KubeClient, Pod

SECRET = {"apiVersion": "v1", "kind": "Secret"}
CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap"}
DUMP_ENV = """
import json, os
names = ["DATABASE_URL", "CATALOG", "POD_NAME", "POD_NAMESPACE", "POD_UID", "JOB_NAME",
         "NODE", "PLAIN", "OPTIONAL", "TERMINATION_MESSAGE_PATH", "PYTEST_CURRENT_TEST"]
with open(os.environ["TERMINATION_MESSAGE_PATH"], "w") as f:
    json.dump({n: os.environ.get(n) for n in names}, f)
"""


def _ref(kind: str, name: str, key: str, **extra: Any) -> JSON:
    return {kind: {"name": name, "key": key, **extra}}


def _field(path: str) -> JSON:
    return {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}


def _env(name: str, source: JSON) -> JSON:
    return {"name": name, "valueFrom": source}


ENV = [
    _env("DATABASE_URL", _ref("secretKeyRef", "db", "url")),
    _env("CATALOG", _ref("configMapKeyRef", "settings", "catalog")),
    _env("OPTIONAL", _ref("secretKeyRef", "absent", "key", optional=True)),
    _env("POD_NAME", _field("metadata.name")),
    _env("POD_NAMESPACE", _field("metadata.namespace")),
    _env("POD_UID", _field("metadata.uid")),
    _env("JOB_NAME", _field("metadata.labels['batch.kubernetes.io/job-name']")),
    _env("NODE", _field("spec.nodeName")),
]


async def test_secret_configmap_and_field_refs_are_resolved(
    kube: KubeClient, runner: RunnerThread
) -> None:
    secret = base64.b64encode(b"postgresql://u:p@db/app").decode()
    await kube.create({**SECRET, "metadata": {"name": "db"}, "data": {"url": secret}})
    settings = {"metadata": {"name": "settings"}, "data": {"catalog": "c.yaml"}}
    await kube.create({**CONFIGMAP, **settings})
    manifest = job_manifest("env", DUMP_ENV, env={"PLAIN": "x"}, env_from=ENV)
    manifest["spec"]["template"]["spec"]["containers"][0]["env"].append(
        {"name": "TERMINATION_MESSAGE_PATH", "value": "/dev/termination-log"}
    )
    await create_job(kube, manifest)

    job = await wait_finished(kube, "env")

    assert finished_condition(job) == ("Complete", "CompletionsReached")
    [pod] = await pods_of(kube, job)
    env = json.loads(terminated(pod)["message"])
    assert env.pop("TERMINATION_MESSAGE_PATH").endswith("/termination-log")  # the runner's file
    assert env == {
        "DATABASE_URL": "postgresql://u:p@db/app",
        "CATALOG": "c.yaml",
        "POD_NAME": pod["metadata"]["name"],
        "POD_NAMESPACE": "default",
        "POD_UID": pod["metadata"]["uid"],
        "JOB_NAME": "env",
        "NODE": "localhost",
        "PLAIN": "x",
        "OPTIONAL": None,  # an optional reference to a missing Secret is left out
        "PYTEST_CURRENT_TEST": None,  # nothing of the runner's own environment but PATH
    }


async def test_a_missing_secret_keeps_the_pod_pending_until_it_exists(
    kube: KubeClient, runner: RunnerThread
) -> None:
    env = [_env("DATABASE_URL", _ref("secretKeyRef", "late", "url"))]
    await create_job(kube, job_manifest("late", DUMP_ENV, env_from=env))

    async def pending() -> JSON | None:
        found = await kube.list(Pod, namespace="default", labels={"job-name": "late"})
        statuses = [p for p in found if (p.get("status") or {}).get("phase") == "Pending"]
        return statuses[0] if statuses else None

    pod = await eventually(pending)
    waiting = pod["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting["reason"] == "CreateContainerConfigError"
    assert "late" in waiting["message"]
    assert finished_condition(await get_job(kube, "late")) is None

    await kube.create({**SECRET, "metadata": {"name": "late"}, "stringData": {"url": "pg://late"}})

    job = await wait_finished(kube, "late")
    assert finished_condition(job) == ("Complete", "CompletionsReached")
    [pod] = await pods_of(kube, job)  # the same pod, not a retry
    assert json.loads(terminated(pod)["message"])["DATABASE_URL"] == "pg://late"
