"""Exports outside the release namespace, every part real: with the operator watching all
namespaces, an Export in a namespace prepared as docs/install.md says runs there to a file
in S3, and one in an unprepared namespace fails at once as NamespaceNotPrepared, no Job."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_support import Client
from lightkube import ApiError, codecs
from lightkube import Client as KubeClient
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Secret

from devstack.stack import BUCKET, NAMESPACE, Stack
from streamexport_core.kube import Export, sync_client

SECRETS = ("streamexport-database", "streamexport-s3")


@pytest.fixture
def clusterwide(stack: Stack) -> Iterator[KubeClient]:
    """The stack's operator watching every namespace (the chart's watchAllNamespaces)."""
    stack.restart_operator(OPERATOR_NAMESPACES="*")
    try:
        with sync_client(stack.kube_url) as kube:
            yield kube
    finally:
        stack.restart_operator()


def create(kube: KubeClient, body: dict[str, Any]) -> None:
    kube.create(codecs.from_dict(body))


def new_namespace(kube: KubeClient, prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    create(kube, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


def prepare(kube: KubeClient, namespace: str) -> None:
    """What an admin does: the exporter ServiceAccount and a copy of each Secret."""
    create(
        kube,
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "streamexport-exporter", "namespace": namespace},
        },
    )
    for name in SECRETS:
        source = kube.get(Secret, name, namespace=NAMESPACE).to_dict()
        metadata = {"name": name, "namespace": namespace}
        create(kube, {**source, "metadata": metadata})


def export_like(kube: KubeClient, template: str, namespace: str) -> str:
    """An Export in `namespace` with the spec and labels of one the API created."""
    source = kube.get(Export, template, namespace=NAMESPACE).to_dict()
    name = str(uuid.uuid4())
    labels = source["metadata"].get("labels") or {}
    metadata = {"name": name, "namespace": namespace, "labels": labels}
    create(kube, {**{k: source[k] for k in ("apiVersion", "kind", "spec")}, "metadata": metadata})
    return name


def final_status(kube: KubeClient, namespace: str, name: str, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        status = kube.get(Export, name, namespace=namespace).to_dict().get("status") or {}
        if status.get("phase") in ("COMPLETED", "FAILED", "CANCELLED"):
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.25)


def has_job(kube: KubeClient, namespace: str, name: str) -> bool:
    try:
        kube.get(Job, name, namespace=namespace)
    except ApiError as error:
        if error.status.code == 404:
            return False
        raise
    return True


def test_exports_in_other_namespaces_run_where_prepared_and_fail_clearly_elsewhere(
    stack: Stack, alice: Client, clusterwide: KubeClient
) -> None:
    kube = clusterwide
    # In the release namespace, through the API: the check passes (the stack has prepared it).
    template = alice.create("csv", startDate="2024-06-01", endDate="2024-06-02")
    assert alice.wait_final(template)["status"] == "COMPLETED"

    prepared = new_namespace(kube, "team-a")
    prepare(kube, prepared)
    unprepared = new_namespace(kube, "team-b")
    ready = export_like(kube, template, prepared)
    refused = export_like(kube, template, unprepared)

    status = final_status(kube, prepared, ready)
    assert status["phase"] == "COMPLETED", status
    assert status["objectKey"].startswith(f"exports/{prepared}/{ready}/")
    assert status["actualRowCount"] > 0
    head = stack.s3_client().head_object(Bucket=BUCKET, Key=status["objectKey"])
    assert head["ContentLength"] == status["fileSizeBytes"]
    assert has_job(kube, prepared, ready)

    status = final_status(kube, unprepared, refused, timeout=30.0)
    assert (status["phase"], status["reason"]) == ("FAILED", "NamespaceNotPrepared"), status
    assert f"Namespace {unprepared}" in status["message"]
    assert "ServiceAccount streamexport-exporter" in status["message"]
    assert "Secret streamexport-database (key DATABASE_URL)" in status["message"]
    assert not has_job(kube, unprepared, refused)
