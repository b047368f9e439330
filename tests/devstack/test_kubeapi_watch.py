"""Watch streams: ordering, resumption, selectors, timeouts and shutdown."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from kubeapi_support import CONFIGMAPS, EXPORTS, MERGE, WatchReader, configmap, export, send

from devstack.kubeapi import KubeAPIServer

OpenWatch = Callable[..., Awaitable[WatchReader]]


@pytest.fixture
async def open_watch(http: aiohttp.ClientSession) -> AsyncIterator[OpenWatch]:
    readers: list[WatchReader] = []

    async def opener(url: str = CONFIGMAPS, **params: Any) -> WatchReader:
        response = await http.get(url, params={"watch": "true", **params})
        reader = WatchReader(response)
        readers.append(reader)
        return reader

    yield opener
    for reader in readers:
        await reader.close()


async def test_watch_streams_json_lines_with_a_json_content_type(
    http: aiohttp.ClientSession, open_watch: OpenWatch
) -> None:
    watch = await open_watch()
    assert watch.response.headers["Content-Type"] == "application/json"
    await send(http, "POST", CONFIGMAPS, json=configmap("cm"))
    await watch.wait_for(lambda events: len(events) == 1)
    assert watch.events[0]["type"] == "ADDED"


async def test_watch_without_a_version_starts_with_existing_objects(
    http: aiohttp.ClientSession, open_watch: OpenWatch
) -> None:
    await send(http, "POST", CONFIGMAPS, json=configmap("old"))
    watch = await open_watch()
    await send(http, "POST", CONFIGMAPS, json=configmap("new"))
    await watch.wait_for(lambda events: len(events) == 2)
    assert watch.names("ADDED") == ["old", "new"]


async def test_watch_resumes_after_the_given_resource_version(
    http: aiohttp.ClientSession, open_watch: OpenWatch
) -> None:
    await send(http, "POST", CONFIGMAPS, json=configmap("before"))
    listed = await send(http, "GET", CONFIGMAPS)
    await send(http, "POST", CONFIGMAPS, json=configmap("after"))
    await send(http, "PATCH", f"{CONFIGMAPS}/before", json={"data": {"k": "2"}}, headers=MERGE)
    watch = await open_watch(resourceVersion=listed["metadata"]["resourceVersion"])
    await watch.wait_for(lambda events: len(events) == 2)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in watch.events] == [
        ("ADDED", "after"),
        ("MODIFIED", "before"),
    ]


async def test_a_version_older_than_the_history_gets_410(
    http: aiohttp.ClientSession, open_watch: OpenWatch
) -> None:
    first = await send(http, "POST", CONFIGMAPS, json=configmap("cm-0"))
    for index in range(1, 60):  # the fixture's history holds 50 events
        await send(http, "POST", CONFIGMAPS, json=configmap(f"cm-{index}"))
    watch = await open_watch(resourceVersion=first["metadata"]["resourceVersion"])
    await watch.wait_for(lambda events: len(events) == 1)
    error = watch.events[0]
    assert (error["type"], error["object"]["kind"], error["object"]["code"]) == (
        "ERROR",
        "Status",
        410,
    )


async def test_watch_ends_after_timeout_seconds(open_watch: OpenWatch) -> None:
    started = time.monotonic()
    watch = await open_watch(timeoutSeconds="1")
    async with asyncio.timeout(5):
        await watch.ended.wait()
    assert 0.9 <= time.monotonic() - started < 5


async def test_no_event_is_lost_between_snapshot_and_subscription(
    http: aiohttp.ClientSession, open_watch: OpenWatch
) -> None:
    # Watches open while objects are being created: each must see every object exactly once,
    # either in its initial snapshot or as a later event.
    names = [f"cm-{index}" for index in range(40)]

    async def create_all() -> None:
        for name in names:
            await send(http, "POST", CONFIGMAPS, json=configmap(name))

    writer = asyncio.create_task(create_all())
    watches = []
    while not writer.done():
        watches.append(await open_watch())
    await writer
    for watch in watches:
        await watch.wait_for(lambda events: len(events) >= len(names))
        assert sorted(watch.names("ADDED")) == sorted(names)
    assert len(watches) > 1


async def test_watch_label_selector_turns_match_changes_into_added_and_deleted(
    http: aiohttp.ClientSession, open_watch: OpenWatch
) -> None:
    watch = await open_watch(labelSelector="tier=web")
    await send(http, "POST", CONFIGMAPS, json=configmap("other", labels={"tier": "db"}))
    await send(http, "POST", CONFIGMAPS, json=configmap("cm", labels={"tier": "db"}))
    relabel = {"metadata": {"labels": {"tier": "web"}}}
    await send(http, "PATCH", f"{CONFIGMAPS}/cm", json=relabel, headers=MERGE)
    unlabel = {"metadata": {"labels": {"tier": None}}}
    await send(http, "PATCH", f"{CONFIGMAPS}/cm", json=unlabel, headers=MERGE)
    await watch.wait_for(lambda events: len(events) == 2)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in watch.events] == [
        ("ADDED", "cm"),
        ("DELETED", "cm"),
    ]


async def test_watch_field_selector_filters_events(
    http: aiohttp.ClientSession, open_watch: OpenWatch
) -> None:
    watch = await open_watch(fieldSelector="metadata.name=wanted")
    await send(http, "POST", CONFIGMAPS, json=configmap("unwanted"))
    await send(http, "POST", CONFIGMAPS, json=configmap("wanted"))
    await watch.wait_for(lambda events: len(events) >= 1)
    assert watch.names() == ["wanted"]


async def test_namespaced_watch_sees_only_its_namespace(
    http: aiohttp.ClientSession, open_watch: OpenWatch
) -> None:
    await send(http, "POST", "/api/v1/namespaces", json={"metadata": {"name": "other"}})
    watch = await open_watch(EXPORTS)
    await send(http, "POST", "/apis/streamexport.io/v1/namespaces/other/exports", json=export("x"))
    await send(http, "POST", EXPORTS, json=export("mine"))
    await watch.wait_for(lambda events: len(events) >= 1)
    assert watch.names() == ["mine"]


async def test_send_initial_events_ends_with_a_bookmark(
    http: aiohttp.ClientSession, open_watch: OpenWatch
) -> None:
    await send(http, "POST", CONFIGMAPS, json=configmap("cm"))
    watch = await open_watch(sendInitialEvents="true", resourceVersionMatch="NotOlderThan")
    await watch.wait_for(lambda events: len(events) == 2)
    bookmark = watch.events[1]
    assert bookmark["type"] == "BOOKMARK"
    assert bookmark["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


async def test_stopping_the_server_ends_open_watches(crd_path: Any) -> None:
    server = KubeAPIServer(crds=[crd_path])
    await server.start()
    async with aiohttp.ClientSession() as session:
        response = await session.get(f"{server.url}{CONFIGMAPS}", params={"watch": "1"})
        watch = WatchReader(response)
        started = time.monotonic()
        await server.stop()
        async with asyncio.timeout(5):
            await watch.ended.wait()
        assert time.monotonic() - started < 2
        await watch.close()
