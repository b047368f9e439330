"""A Kubernetes API that does not answer within KUBERNETES_TIMEOUT_SECONDS makes the operator's
call raise `kopf.TemporaryError` (kopf retries the handler after `delay`): never a hang."""

from __future__ import annotations

import time
from collections.abc import Iterator

import kopf
import pytest
from kubeapi_process import KubeAPIProcess

from streamexport_operator.kube import Export, Job, KubeClient

DEADLINE = 1.0
MARGIN = 2.0  # a loaded 2-core machine


@pytest.fixture
def kubeapi_process() -> Iterator[KubeAPIProcess]:
    with KubeAPIProcess() as api:
        yield api


async def test_a_paused_api_is_a_temporary_error_within_the_deadline(
    kubeapi_process: KubeAPIProcess,
) -> None:
    async with KubeClient.connect(kubeapi_process.url, DEADLINE) as kube:
        assert await kube.get(Export, "missing", namespace="default") is None
        kubeapi_process.pause()
        try:
            for call in (
                kube.get(Export, "missing", namespace="default"),
                kube.list(Job, namespace="default"),
                kube.merge_patch(Export.Status, "missing", {"status": {}}, namespace="default"),
            ):
                started = time.monotonic()
                with pytest.raises(kopf.TemporaryError) as raised:
                    await call
                assert time.monotonic() - started < DEADLINE + MARGIN
                assert "did not answer within 1 s" in str(raised.value)
                assert raised.value.delay == DEADLINE
        finally:
            kubeapi_process.resume()
        assert await kube.get(Export, "missing", namespace="default") is None
