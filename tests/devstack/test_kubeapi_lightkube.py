"""The stand-in serves what lightkube (the project's client library) sends and expects:
exact `application/json` answers (lightkube decodes an error as a Status only then),
`fieldManager` on writes, paged lists (`limit`/`continue`), merge and strategic merge
patches, `propagationPolicy` as a query parameter, and watches that lightkube re-opens
from the last resourceVersion when the server ends them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from kubeapi_support import export, job
from lightkube import ApiError, AsyncClient, codecs
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import ConfigMap
from lightkube.types import CascadeType, PatchType

from devstack.kubeapi import ThreadedKubeAPI
from streamexport_core.kube import Export, async_client


@pytest.fixture
async def client(kubeapi: ThreadedKubeAPI) -> AsyncIterator[AsyncClient]:
    kube = async_client(kubeapi.url, timeout_seconds=5, field_manager="tests")
    yield kube
    await kube.close()


def configmap(name: str) -> Any:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
    return codecs.from_dict({**body, "data": {"k": "v"}})


async def test_answers_have_exactly_the_json_content_type(kubeapi: ThreadedKubeAPI) -> None:
    async with httpx2.AsyncClient(base_url=kubeapi.url) as http:
        found = await http.get("/api/v1/namespaces/default/configmaps")
        missing = await http.get("/api/v1/namespaces/default/configmaps/none")
    assert found.headers["Content-Type"] == "application/json"
    assert missing.headers["Content-Type"] == "application/json"


async def test_errors_arrive_as_a_status(client: AsyncClient) -> None:
    with pytest.raises(ApiError) as raised:
        await client.get(ConfigMap, "none", namespace="default")
    assert (raised.value.status.code, raised.value.status.reason) == (404, "NotFound")
    await client.create(configmap("twice"))
    with pytest.raises(ApiError) as raised:
        await client.create(configmap("twice"))
    assert (raised.value.status.code, raised.value.status.reason) == (409, "AlreadyExists")


async def test_a_paged_list_follows_continue(client: AsyncClient) -> None:
    for index in range(5):
        await client.create(configmap(f"cm-{index}"))
    listed = client.list(ConfigMap, namespace="default", chunk_size=2)
    names = [item.metadata.name async for item in listed]  # three requests
    assert names == [f"cm-{index}" for index in range(5)]
    assert listed.resourceVersion


async def test_merge_patch_on_a_status_and_strategic_merge_on_a_built_in(
    client: AsyncClient,
) -> None:
    await client.create(codecs.from_dict({**export("e-1"), "metadata": {"name": "e-1"}}))
    patched = await client.patch(
        Export.Status,
        "e-1",
        {"status": {"phase": "QUEUED"}},
        namespace="default",
        patch_type=PatchType.MERGE,
    )
    assert patched["status"] == {"phase": "QUEUED"}
    with pytest.raises(ApiError) as raised:  # as in Kubernetes: not for custom resources
        await client.patch(Export, "e-1", {"metadata": {"labels": {"a": "b"}}}, namespace="default")
    assert raised.value.status.code == 415

    await client.create(codecs.from_dict(job("j-1")), namespace="default")
    labelled = await client.patch(Job, "j-1", {"metadata": {"labels": {"a": "b"}}})
    assert labelled.metadata.labels == {"a": "b"}


async def test_delete_takes_the_propagation_policy_as_a_query_parameter(
    client: AsyncClient,
) -> None:
    await client.create(codecs.from_dict(job("j-2")), namespace="default")
    await client.delete(Job, "j-2", namespace="default", cascade=CascadeType.FOREGROUND)
    with contextlib.suppress(ApiError):  # Foreground: gone once its dependents are
        leaving = await client.get(Job, "j-2", namespace="default")
        assert leaving.metadata.deletionTimestamp is not None


async def test_a_watch_is_reopened_from_the_last_version(client: AsyncClient) -> None:
    await client.create(configmap("first"))
    seen: list[tuple[str, str]] = []

    async def follow() -> None:
        # The server ends each stream after 1 s; lightkube opens the next from the last
        # resourceVersion it saw, so nothing is missed and nothing repeats.
        async for kind, obj in client.watch(ConfigMap, namespace="default", server_timeout=1):
            seen.append((kind, obj.metadata.name))
            if obj.metadata.name == "second":
                return

    watching = asyncio.create_task(follow())
    # What is tested is a stream's end: let the first one run out its 1 s server timeout.
    await asyncio.wait({watching}, timeout=2.5)
    assert not watching.done()
    await client.create(configmap("second"))
    await asyncio.wait_for(watching, timeout=10)
    assert seen == [("ADDED", "first"), ("ADDED", "second")]
