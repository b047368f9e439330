"""A Kubernetes API that does not answer within KUBERNETES_TIMEOUT_SECONDS makes the operator's
calls, and so its handlers, raise `kopf.TemporaryError` (kopf retries the handler after
`delay`; an event handler's retry is the resync timer): never a hang."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import kopf
import pytest
from jobsim import export_manifest
from kubeapi_process import KubeAPIProcess

from streamexport_operator import expiry, reconcile
from streamexport_operator.kube import Export, Job, KubeClient
from streamexport_operator.runtime import open_runtime
from streamexport_operator.settings import Settings

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


async def test_a_handler_raises_a_temporary_error_and_succeeds_once_the_api_answers(
    kubeapi_process: KubeAPIProcess, settings: Settings
) -> None:
    config = dataclasses.replace(
        settings, kubernetes_api_url=kubeapi_process.url, kubernetes_timeout_seconds=DEADLINE
    )
    async with open_runtime(config) as runtime:
        created = await runtime.kube.create(export_manifest(), namespace="default")
        assert created is not None
        name = created["metadata"]["name"]
        kubeapi_process.pause()
        try:
            for handler in (reconcile.reconcile, expiry.expire):
                started = time.monotonic()
                with pytest.raises(kopf.TemporaryError):  # what kopf retries after `delay`
                    await handler(runtime, "default", name)
                assert time.monotonic() - started < DEADLINE + MARGIN
        finally:
            kubeapi_process.resume()
        # The retry runs to its end: a QUEUED export is not due for retention.
        assert await expiry.expire(runtime, "default", name) is False
