"""Label and field selectors on list requests (watches: see test_kubeapi_watch.py)."""

from __future__ import annotations

import aiohttp
import pytest
from kubeapi_support import CONFIGMAPS, send

LABELS = {
    "cm-web": {"tier": "web", "env": "prod"},
    "cm-db": {"tier": "db", "env": "prod"},
    "cm-bare": {},
}


@pytest.fixture
async def labelled(http: aiohttp.ClientSession) -> None:
    for name, labels in LABELS.items():
        await send(http, "POST", CONFIGMAPS, json={"metadata": {"name": name, "labels": labels}})


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("tier=web", ["cm-web"]),
        ("tier==web", ["cm-web"]),
        ("tier!=web", ["cm-bare", "cm-db"]),
        ("tier in (web, db)", ["cm-db", "cm-web"]),
        ("tier notin (web)", ["cm-bare", "cm-db"]),
        ("tier", ["cm-db", "cm-web"]),
        ("!tier", ["cm-bare"]),
        ("env=prod,tier!=db", ["cm-web"]),
    ],
)
@pytest.mark.usefixtures("labelled")
async def test_label_selector_filters_the_list(
    http: aiohttp.ClientSession, selector: str, expected: list[str]
) -> None:
    listed = await send(http, "GET", CONFIGMAPS, params={"labelSelector": selector})
    assert [item["metadata"]["name"] for item in listed["items"]] == expected


@pytest.mark.usefixtures("labelled")
async def test_field_selector_on_name(http: aiohttp.ClientSession) -> None:
    listed = await send(http, "GET", CONFIGMAPS, params={"fieldSelector": "metadata.name=cm-db"})
    assert [item["metadata"]["name"] for item in listed["items"]] == ["cm-db"]


@pytest.mark.usefixtures("labelled")
async def test_field_selector_on_namespace_across_namespaces(http: aiohttp.ClientSession) -> None:
    params = {"fieldSelector": "metadata.namespace!=default"}
    listed = await send(http, "GET", "/api/v1/configmaps", params=params)
    assert listed["items"] == []


async def test_field_selector_on_a_nested_path(http: aiohttp.ClientSession) -> None:
    for name, target in (("ev-1", "e-1"), ("ev-2", "e-2")):
        event = {"metadata": {"name": name}, "involvedObject": {"kind": "Export", "name": target}}
        await send(http, "POST", "/api/v1/namespaces/default/events", json=event)
    params = {"fieldSelector": "involvedObject.kind=Export,involvedObject.name=e-2"}
    listed = await send(http, "GET", "/api/v1/namespaces/default/events", params=params)
    assert [item["metadata"]["name"] for item in listed["items"]] == ["ev-2"]


@pytest.mark.parametrize(
    "params", [{"labelSelector": "tier in (web"}, {"fieldSelector": "no-operator"}]
)
async def test_a_malformed_selector_is_400(
    http: aiohttp.ClientSession, params: dict[str, str]
) -> None:
    answer = await send(http, "GET", CONFIGMAPS, params=params)
    assert (answer["_status"], answer["kind"], answer["reason"]) == (400, "Status", "BadRequest")
