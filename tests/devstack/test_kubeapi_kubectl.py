"""kubectl against the stand-in: discovery, server-side Tables and watches."""

from __future__ import annotations

import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import kubernetes.client
import pytest
from kubeapi_support import export

from devstack.kubeapi import ThreadedKubeAPI

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")

Kubectl = Callable[..., list[str]]
EXPORT_COLUMNS = [
    "NAMESPACE",
    "NAME",
    "STATUS",
    "RESOURCE",
    "FORMAT",
    "PROGRESS",
    "ROWS",
    "OWNER",
    "AGE",
]


@pytest.fixture
def kubectl_args(kubeapi: ThreadedKubeAPI, tmp_path: Path) -> list[str]:
    # An empty kubeconfig and a private cache: nothing from the developer's machine leaks in.
    config = tmp_path / "kubeconfig"
    config.write_text("")
    return [
        "kubectl",
        "--kubeconfig",
        str(config),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--server",
        kubeapi.url,
        "--request-timeout=10s",
    ]


@pytest.fixture
def kubectl(kubectl_args: list[str]) -> Kubectl:
    def run(*args: str) -> list[str]:
        done = subprocess.run([*kubectl_args, *args], capture_output=True, text=True, timeout=20)
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()

    return run


@pytest.fixture
def custom(k8s: kubernetes.client.ApiClient) -> kubernetes.client.CustomObjectsApi:
    api = kubernetes.client.CustomObjectsApi(k8s)
    api.create_namespaced_custom_object("streamexport.io", "v1", "default", "exports", export())
    return api


def _set_phase(custom: kubernetes.client.CustomObjectsApi, phase: str, rows: int) -> None:
    # The kubernetes client picks json-patch for a dict body unless told otherwise.
    custom.patch_namespaced_custom_object_status(
        "streamexport.io",
        "v1",
        "default",
        "exports",
        "e-1",
        {"status": {"phase": phase, "progressPercentage": 50, "rowsWritten": rows}},
        _content_type="application/merge-patch+json",
    )


def test_get_exports_prints_the_crd_printer_columns(
    kubectl: Kubectl, custom: kubernetes.client.CustomObjectsApi
) -> None:
    _set_phase(custom, "PROCESSING", 1234)
    header, row = kubectl("get", "exports", "-A")
    assert header.split() == EXPORT_COLUMNS
    cells = row.split()
    assert cells[:8] == [
        "default",
        "e-1",
        "PROCESSING",
        "TRANSACTIONS",
        "csv",
        "50",
        "1234",
        "owner@example.com",
    ]
    assert cells[8].endswith("s")  # AGE, e.g. "0s"


@pytest.mark.usefixtures("custom")
def test_get_by_short_name_in_json_is_a_list_with_kind(kubectl: Kubectl) -> None:
    output = "\n".join(kubectl("get", "sexp", "-o", "json"))
    assert '"kind": "List"' in output or '"kind": "ExportList"' in output
    assert '"name": "e-1"' in output


def test_get_builtin_kind_prints_name_and_age(kubectl: Kubectl) -> None:
    header, *rows = kubectl("get", "namespaces")
    assert header.split() == ["NAME", "AGE"]
    assert [row.split()[0] for row in rows] == ["default"]


def test_watch_streams_changes(
    kubectl_args: list[str], custom: kubernetes.client.CustomObjectsApi
) -> None:
    lines: queue.Queue[str] = queue.Queue()
    process = subprocess.Popen(
        [*kubectl_args, "get", "exports", "--watch"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def pump() -> None:
        for line in process.stdout or ():
            lines.put(line)

    reader = threading.Thread(target=pump)
    reader.start()

    def next_line(deadline: float) -> str:
        return lines.get(timeout=max(deadline - time.monotonic(), 0.01))

    try:
        deadline = time.monotonic() + 10
        assert next_line(deadline).split()[:2] == ["NAME", "STATUS"]
        assert next_line(deadline).split()[0] == "e-1"
        _set_phase(custom, "COMPLETED", 10)
        assert next_line(deadline).split()[:3] == ["e-1", "COMPLETED", "TRANSACTIONS"]
    finally:
        process.terminate()
        process.wait(timeout=10)
        reader.join(timeout=10)
        assert process.stderr is not None
        process.stderr.close()
        assert process.stdout is not None
        process.stdout.close()
