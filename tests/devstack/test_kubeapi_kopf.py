"""A real kopf operator against the stand-in: scanning, watching, patching, finalizers."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kopf
import kubernetes.client
import pytest
from kopf.testing import KopfRunner
from kubeapi_support import export
from kubernetes.client.rest import ApiException
from polling import eventually_sync

from devstack.kubeapi import ThreadedKubeAPI

OPERATOR = """
import logging
from typing import Any

import kopf


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    prefix = "streamexport.io"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=prefix)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix=prefix)
    settings.posting.level = logging.INFO  # kopf posts v1 Events: exercise that path too
    settings.posting.loggers = True
    settings.watching.server_timeout = 5


@kopf.on.login()
def login(**_: Any) -> kopf.ConnectionInfo:
    return kopf.ConnectionInfo(server="{url}", insecure=True)


@kopf.on.create("streamexport.io", "v1", "exports")
def created(spec: kopf.Spec, patch: kopf.Patch, **_: Any) -> None:
    patch.status["phase"] = "PROCESSING"
    patch.status["jobName"] = "job-for-" + spec["format"]


@kopf.on.delete("streamexport.io", "v1", "exports")
def deleted(**_: Any) -> None:
    pass  # its presence makes kopf add (and later remove) its finalizer
"""
EXPORTS = ("streamexport.io", "v1", "default", "exports")


@pytest.fixture
def operator_file(kubeapi: ThreadedKubeAPI, tmp_path: Path) -> Path:
    path = tmp_path / "kubeapi_smoke_operator.py"
    path.write_text(textwrap.dedent(OPERATOR).replace("{url}", kubeapi.url))
    return path


@pytest.fixture
def operator(operator_file: Path) -> Iterator[KopfRunner]:
    # A private registry: the module's handlers must not leak into other tests' operators.
    previous = kopf.get_default_registry()
    args = ["run", "--standalone", "--all-namespaces", "--verbose", str(operator_file)]
    try:
        with KopfRunner(args, registry=kopf.OperatorRegistry(), timeout=30) as runner:
            yield runner
    finally:
        kopf.set_default_registry(previous)
    assert runner.exit_code == 0, runner.output
    assert runner.exception is None


@pytest.fixture
def custom(k8s: kubernetes.client.ApiClient) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(k8s)


def _until(check: Callable[[], Any], timeout: float = 15) -> Any:
    return eventually_sync(check, timeout=timeout, interval=0.05)


@pytest.mark.usefixtures("operator")
def test_kopf_create_handler_patches_the_status(custom: kubernetes.client.CustomObjectsApi) -> None:
    custom.create_namespaced_custom_object(*EXPORTS, export())

    def processing() -> dict[str, Any] | None:
        obj: dict[str, Any] = custom.get_namespaced_custom_object(*EXPORTS, "e-1")
        return obj if obj.get("status", {}).get("phase") == "PROCESSING" else None

    obj = _until(processing)
    assert obj["status"]["jobName"] == "job-for-csv"
    assert obj["metadata"]["generation"] == 1  # status writes went through /status


@pytest.mark.usefixtures("operator")
def test_kopf_finalizer_is_added_then_released_on_delete(
    custom: kubernetes.client.CustomObjectsApi,
) -> None:
    custom.create_namespaced_custom_object(*EXPORTS, export())
    _until(
        lambda: custom.get_namespaced_custom_object(*EXPORTS, "e-1")["metadata"].get("finalizers")
    )
    custom.delete_namespaced_custom_object(*EXPORTS, "e-1")

    def gone() -> bool:
        try:
            custom.get_namespaced_custom_object(*EXPORTS, "e-1")
        except ApiException as exc:
            return bool(exc.status == 404)
        return False

    _until(gone)


@pytest.mark.usefixtures("operator")
def test_kopf_posts_events_about_handled_objects(
    k8s: kubernetes.client.ApiClient, custom: kubernetes.client.CustomObjectsApi
) -> None:
    custom.create_namespaced_custom_object(*EXPORTS, export())
    core = kubernetes.client.CoreV1Api(k8s)
    selector = "involvedObject.kind=Export,involvedObject.name=e-1"
    events = _until(lambda: core.list_namespaced_event("default", field_selector=selector).items)
    assert any("created" in (event.message or "") for event in events)
