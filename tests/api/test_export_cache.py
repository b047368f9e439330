"""The API's watched export list (api/export_cache.py) against the Kubernetes API stand-in:
changes written by others show up, deletes disappear, an expired watch lists again, owners
see their own, and a cursor stays put while new exports arrive."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from api_support import ADMIN, EXPORTS, USER_A, USER_B, Client, MakeClient, create, set_status
from polling import eventually

from api.export_cache import ExportCache
from api.kube import KubeClient as ApiKubeClient
from api.listing import ListQuery
from devstack.kubeapi import ThreadedKubeAPI
from devstack.kubeclient import ConfigMap, Export, KubeClient

CRD = Path(__file__).resolve().parents[2] / "crds" / "exports.streamexport.io.yaml"
DEADLINE = 10.0


async def ids(client: Client, headers: dict[str, str], **params: str) -> list[str]:
    response = await client.get(EXPORTS, params=params, headers=headers)
    assert response.status == 200, await response.text()
    return [item["id"] for item in (await response.json())["items"]]


async def test_a_status_patch_by_the_operator_shows_up(
    client: Client, kube: KubeClient, namespace: str
) -> None:
    export_id = await create(client, USER_A)
    await set_status(kube, namespace, export_id, {"phase": "PROCESSING", "rowsWritten": 10})

    async def processing() -> bool:
        return await ids(client, USER_A, status="PROCESSING") == [export_id]

    assert await eventually(processing, timeout=DEADLINE)
    assert await ids(client, USER_A, status="QUEUED") == []


async def test_a_deleted_export_disappears(
    client: Client, kube: KubeClient, namespace: str
) -> None:
    kept, deleted = await create(client, USER_A), await create(client, USER_A)
    await kube.delete(Export, deleted, namespace=namespace)

    async def gone() -> bool:
        return await ids(client, USER_A) == [kept]

    assert await eventually(gone, timeout=DEADLINE)


async def test_an_export_created_elsewhere_shows_up(
    client: Client, kube: KubeClient, namespace: str
) -> None:
    """Another API replica's export reaches this one through the watch."""
    mine = await create(client, USER_A)
    exported = await kube.get(Export, mine, namespace=namespace)
    other = str(uuid.uuid4())
    await kube.create(
        {**exported, "metadata": {"name": other, "labels": exported["metadata"]["labels"]}},
        namespace=namespace,
    )

    async def both() -> bool:
        return set(await ids(client, USER_A)) == {mine, other}

    assert await eventually(both, timeout=DEADLINE)


async def test_an_owner_sees_only_their_own_and_an_admin_all(client: Client) -> None:
    a = {await create(client, USER_A) for _ in range(2)}
    b = {await create(client, USER_B)}
    assert set(await ids(client, USER_A)) == a
    assert set(await ids(client, USER_B)) == b
    assert set(await ids(client, ADMIN)) == a | b


async def test_the_cursor_is_stable_while_new_exports_arrive(client: Client) -> None:
    first = [await create(client, USER_A) for _ in range(4)]
    response = await client.get(EXPORTS, params={"limit": "2"}, headers=USER_A)
    body = await response.json()
    seen = [item["id"] for item in body["items"]]
    for _ in range(3):
        await create(client, USER_A)
    rest = await ids(client, USER_A, limit="10", **{"continue": body["continue"]})
    # Every earlier export exactly once, none repeated. (creationTimestamp has whole seconds:
    # a newer export from the same second as the cursor may still sort after it.)
    assert len(seen + rest) == len(set(seen + rest))
    assert set(first) <= set(seen + rest)


async def test_a_list_that_is_not_in_sync_is_a_503_within_the_deadline(
    make_client: MakeClient,
) -> None:
    client = await make_client(
        kubernetes_api_url="http://127.0.0.1:1", kubernetes_timeout_seconds=0.5
    )
    started = time.monotonic()
    response = await client.get(EXPORTS, headers=USER_A)
    assert (response.status, time.monotonic() - started < 3.0) == (503, True)
    assert (await response.json())["message"] == (
        "The export list is not in sync with the Kubernetes API; try again later"
    )


@pytest.fixture
async def small_history() -> AsyncIterator[str]:
    """A stand-in that keeps only 20 events, so that a quiet watch soon falls behind."""
    with ThreadedKubeAPI(crds=[CRD], history=20) as server:
        yield server.url


async def test_an_expired_watch_lists_again(
    small_history: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="api.export_cache")
    async with KubeClient(small_history) as kube:
        await kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}})
        api_kube = ApiKubeClient(small_history, timeout_seconds=5.0)
        await api_kube.open()
        cache = ExportCache(api_kube, "n", wait_seconds=5.0, watch_seconds=1)
        cache.start()
        try:
            await eventually(lambda: _true(cache.synced), timeout=DEADLINE)
            # Busy with other kinds while the Exports are quiet: when the watch re-opens
            # (every second here) from the version of the list, that version is gone: 410.
            for index in range(30):
                await kube.create(_config_map(f"c{index}"), namespace="n")
            assert await eventually(lambda: _true(cache.lists >= 2), timeout=DEADLINE)
            assert "export watch expired; listing again" in caplog.messages
            # Listed again and watching again: a new export still arrives.
            await kube.create(_export("late-comer"), namespace="n")

            async def listed() -> list[str]:
                items, _ = await cache.page(None, ListQuery())
                return [item["id"] for item in items]

            assert await eventually(lambda: _equal(listed(), ["late-comer"]), timeout=DEADLINE)
            assert cache.synced
        finally:
            await cache.stop()
            await api_kube.close()


def _config_map(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": ConfigMap.__name__, "metadata": {"name": name}}


def _export(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "streamexport.io/v1",
        "kind": "Export",
        "metadata": {"name": name},
        "spec": {
            "resourceType": "TRANSACTIONS",
            "format": "csv",
            "filters": {},
            "requestedBy": {"userId": "user-a", "email": "user-a@example.com"},
            "estimatedRowCount": 1,
        },
    }


async def _true(value: bool) -> bool:
    return value


async def _equal(actual: Any, expected: Any) -> bool:
    return bool(await actual == expected)
