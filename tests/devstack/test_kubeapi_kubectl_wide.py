"""`kubectl get exports -o wide` adds the row-scope columns (priority 1); the default view
does not show them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import kubernetes.client
import pytest
from kubeapi_support import export

from devstack.kubeapi import ThreadedKubeAPI

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")


def _kubectl(kubeapi: ThreadedKubeAPI, tmp_path: Path, *args: str) -> list[str]:
    config = tmp_path / "kubeconfig"
    config.write_text("")
    done = subprocess.run(
        [
            "kubectl",
            "--kubeconfig",
            str(config),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--server",
            kubeapi.url,
            "--request-timeout=10s",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_wide_output_shows_whose_rows_each_export_holds(
    kubeapi: ThreadedKubeAPI, k8s: kubernetes.client.ApiClient, tmp_path: Path
) -> None:
    api = kubernetes.client.CustomObjectsApi(k8s)
    scoped = {"column": "merchant_id", "claim": "merchantId", "values": [1, 3]}
    lifted = {"column": "merchant_id", "claim": "merchantId", "unrestricted": True}
    for name, scope in (("e-1", scoped), ("e-2", lifted)):
        api.create_namespaced_custom_object(
            "streamexport.io", "v1", "default", "exports", export(name, scope=scope)
        )
    header, *_ = _kubectl(kubeapi, tmp_path, "get", "exports")
    assert "SCOPE" not in header.split()

    header, first, second = _kubectl(kubeapi, tmp_path, "get", "exports", "-o", "wide")
    assert header.split()[-2:] == ["SCOPE", "UNSCOPED"]
    assert first.split()[0] == "e-1" and "[1,3]" in first.split() and "true" not in first
    assert second.split()[0] == "e-2" and second.split()[-1] == "true" and "[" not in second
