"""A Kubernetes API that does not answer never holds up the export: progress reports return at
once, the final one within the reporter's deadline (KUBERNETES_TIMEOUT_SECONDS); once the API
answers again, reports land."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import polling
import pytest
from kubeapi_process import KubeAPIProcess

from devstack.kubeclient import Export, KubeClient
from exporter.kube_progress import KubeStatusReporter, target_from_env
from exporter.progress import Progress

DEADLINE = 1.0
MARGIN = 2.0  # a loaded 2-core machine


@pytest.fixture
def kubeapi_process() -> Iterator[KubeAPIProcess]:
    with KubeAPIProcess() as api:
        yield api


def export_manifest(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "streamexport.io/v1",
        "kind": "Export",
        "metadata": {"name": name},
        "spec": {
            "resourceType": "TRANSACTIONS",
            "format": "csv",
            "filters": {},
            "requestedBy": {"userId": "u-1", "email": "u-1@example.com"},
            "estimatedRowCount": 100,
        },
    }


def reporter_for(url: str, name: str) -> KubeStatusReporter:
    env = {
        "KUBERNETES_API_URL": url,
        "KUBERNETES_TIMEOUT_SECONDS": str(DEADLINE),
        "EXPORT_NAME": name,
        "EXPORT_NAMESPACE": "default",
    }
    target = target_from_env(env)
    assert target is not None and target.timeout_seconds == DEADLINE
    return KubeStatusReporter(target, min_interval=0.0)


async def test_a_paused_api_never_holds_up_the_export(kubeapi_process: KubeAPIProcess) -> None:
    async with KubeClient(kubeapi_process.url) as kube:
        await kube.create(export_manifest("e-paused"), namespace="default")
        reporter = reporter_for(kubeapi_process.url, "e-paused")
        kubeapi_process.pause()
        try:
            started = time.monotonic()
            for rows in range(50):
                reporter.report(Progress(rows, 100, rows / 10))
            assert time.monotonic() - started < 0.5  # handed to the reporter's thread
            started = time.monotonic()
            reporter.report(Progress(100, 100, 6.0, done=True))
            # At most one patch in flight on the thread, then the final one: two deadlines.
            assert time.monotonic() - started < 2 * DEADLINE + MARGIN
        finally:
            kubeapi_process.resume()
            reporter.close()

        later = reporter_for(kubeapi_process.url, "e-paused")
        later.report(Progress(100, 100, 7.0, done=True))
        later.close()

        async def landed() -> dict[str, Any] | None:
            status = (await kube.get(Export, "e-paused", namespace="default")).get("status")
            return status if (status or {}).get("progressPercentage") == 100 else None

        status = await polling.eventually(landed, timeout=10)
        assert status["rowsWritten"] == 100
