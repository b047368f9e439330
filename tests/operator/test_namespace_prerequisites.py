"""Exports outside the release namespace: the real operator (kopf) watching every namespace
creates a Job only where the Job's ServiceAccount, Secrets and catalog ConfigMap exist, and
fails the Export at once, naming what is missing, everywhere else."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from jobsim import (
    NAMESPACE,
    JobController,
    eventually,
    export_manifest,
    plain_text,
    result_message,
    wait_for_job,
)
from opharness import CRD, OperatorThread, SmtpServer

from devstack.kubeapi import ThreadedKubeAPI
from streamexport_operator.kube import Export, Job, KubeClient

Start = Callable[..., OperatorThread]
CATALOG_CONFIGMAP = "streamexport-catalog"
CLUSTERWIDE = {"namespaces": ("*",), "exporter_catalog_configmap": CATALOG_CONFIGMAP}


@pytest.fixture
def kubeapi() -> Iterator[ThreadedKubeAPI]:
    """The stand-in with three more namespaces than the release's (`default`)."""
    namespaces = (NAMESPACE, "team-a", "team-b", "team-c")
    with ThreadedKubeAPI(crds=[CRD], namespaces=namespaces) as api:
        yield api


async def prepare(kube: KubeClient, namespace: str, *, database_key: str = "DATABASE_URL") -> None:
    """What docs/install.md asks an admin (or the chart's exporter.extraNamespaces) to create."""
    secret_value = base64.b64encode(b"postgresql://exporter@db/shop").decode()
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "streamexport-exporter"},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "streamexport-database"},
            "data": {database_key: secret_value},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": CATALOG_CONFIGMAP},
            "data": {"catalog.yaml": "version: 1\n"},
        },
    ]
    for body in objects:
        assert await kube.create(body, namespace=namespace) is not None


async def create_in(kube: KubeClient, namespace: str) -> str:
    body = export_manifest()
    body["metadata"]["namespace"] = namespace
    created = await kube.create(body, namespace=namespace)
    assert created is not None
    return str(created["metadata"]["name"])


async def status_of(kube: KubeClient, namespace: str, name: str) -> dict[str, Any]:
    export = await kube.get(Export, name, namespace=namespace)
    assert export is not None
    return dict(export.get("status") or {})


async def wait_phase_in(kube: KubeClient, namespace: str, name: str, phase: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        status = await status_of(kube, namespace, name)
        return status if status.get("phase") == phase else None

    return await eventually(probe, timeout=20.0)


async def test_export_in_unprepared_namespace_fails_at_once_without_job(
    start_operator: Start, kube: KubeClient, smtp: SmtpServer
) -> None:
    start_operator(**CLUSTERWIDE)
    name = await create_in(kube, "team-b")

    status = await wait_phase_in(kube, "team-b", name, "FAILED")

    assert status["reason"] == "NamespaceNotPrepared"
    message = status["message"]
    assert "Namespace team-b" in message
    for missing in (
        "ServiceAccount streamexport-exporter",
        "Secret streamexport-database (key DATABASE_URL)",
        f"ConfigMap {CATALOG_CONFIGMAP} (key catalog.yaml)",
    ):
        assert missing in message
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "NamespaceNotPrepared")
    assert await kube.get(Job, name, namespace="team-b") is None
    assert await kube.list(Job, namespace="team-b") == []

    async def failure_mail() -> list[str] | None:
        texts = [plain_text(m) for m in smtp.messages]
        return [t for t in texts if name in t] or None

    [text] = await eventually(failure_mail)
    assert "is not set up to run exports yet. (NamespaceNotPrepared)" in text
    assert "missing ServiceAccount streamexport-exporter" in text


async def test_a_secret_without_its_key_is_named(start_operator: Start, kube: KubeClient) -> None:
    await prepare(kube, "team-c", database_key="URL")
    start_operator(**CLUSTERWIDE)
    name = await create_in(kube, "team-c")

    status = await wait_phase_in(kube, "team-c", name, "FAILED")

    assert "missing Secret streamexport-database (key DATABASE_URL)." in status["message"]
    assert "ServiceAccount" not in status["message"]
    assert await kube.list(Job, namespace="team-c") == []


async def test_export_in_prepared_namespace_runs_there_to_completion(
    start_operator: Start, kube: KubeClient
) -> None:
    await prepare(kube, "team-a")
    start_operator(**CLUSTERWIDE)
    name = await create_in(kube, "team-a")

    job = await wait_for_job_in(kube, "team-a", name)
    pod = job["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "streamexport-exporter"
    await JobController(kube, name, namespace="team-a").succeed(
        result_message(name, key=f"exports/team-a/{name}/transactions_2024-01-01.csv")
    )

    status = await wait_phase_in(kube, "team-a", name, "COMPLETED")
    assert status["objectKey"].startswith(f"exports/team-a/{name}/")


async def test_single_namespace_operator_does_not_check(
    start_operator: Start, kube: KubeClient
) -> None:
    # The default mode is unchanged: nothing was prepared in `default`, the Job is created.
    start_operator(namespaces=(NAMESPACE,), exporter_catalog_configmap=CATALOG_CONFIGMAP)
    name = await create_in(kube, NAMESPACE)
    await wait_for_job(kube, name)
    assert (await status_of(kube, NAMESPACE, name)).get("reason") != "NamespaceNotPrepared"


async def wait_for_job_in(kube: KubeClient, namespace: str, name: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        return await kube.get(Job, name, namespace=namespace)

    return await eventually(probe, timeout=20.0)
