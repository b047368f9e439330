"""The status subresource and `generation`: spec and status are written through separate doors."""

from __future__ import annotations

import aiohttp
from kubeapi_support import EXPORTS, MERGE, export, send


async def test_generation_increments_only_when_the_spec_changes(
    http: aiohttp.ClientSession,
) -> None:
    await send(http, "POST", EXPORTS, json=export())
    labelled = {"metadata": {"labels": {"a": "b"}}}
    after_labels = await send(http, "PATCH", f"{EXPORTS}/e-1", json=labelled, headers=MERGE)
    status = {"status": {"phase": "PROCESSING"}}
    after_status = await send(http, "PATCH", f"{EXPORTS}/e-1/status", json=status, headers=MERGE)
    spec = {"spec": {"format": "xlsx"}}
    after_spec = await send(http, "PATCH", f"{EXPORTS}/e-1", json=spec, headers=MERGE)
    generations = [o["metadata"]["generation"] for o in (after_labels, after_status, after_spec)]
    assert generations == [1, 1, 2]


async def test_status_subresource_ignores_everything_but_status(
    http: aiohttp.ClientSession,
) -> None:
    await send(http, "POST", EXPORTS, json=export())
    patch = {
        "spec": {"format": "xlsx"},
        "metadata": {"labels": {"a": "b"}},
        "status": {"phase": "QUEUED"},
    }
    patched = await send(http, "PATCH", f"{EXPORTS}/e-1/status", json=patch, headers=MERGE)
    assert patched["status"] == {"phase": "QUEUED"}
    assert patched["spec"]["format"] == "csv"
    assert patched["metadata"].get("labels") == {}


async def test_main_endpoint_ignores_status(http: aiohttp.ClientSession) -> None:
    await send(http, "POST", EXPORTS, json=export())
    patch = {"spec": {"format": "xlsx"}, "status": {"phase": "COMPLETED"}}
    patched = await send(http, "PATCH", f"{EXPORTS}/e-1", json=patch, headers=MERGE)
    assert patched["spec"]["format"] == "xlsx"
    assert "status" not in patched


async def test_create_ignores_status_when_there_is_a_status_subresource(
    http: aiohttp.ClientSession,
) -> None:
    body = {**export(), "status": {"phase": "COMPLETED"}}
    created = await send(http, "POST", EXPORTS, json=body)
    assert created["_status"] == 201 and "status" not in created


async def test_put_to_status_replaces_only_status(http: aiohttp.ClientSession) -> None:
    created = await send(http, "POST", EXPORTS, json=export())
    body = {k: v for k, v in created.items() if k != "_status"}
    body["spec"] = {**body["spec"], "format": "xlsx"}
    body["status"] = {"phase": "FAILED", "reason": "OOMKilled"}
    replaced = await send(http, "PUT", f"{EXPORTS}/e-1/status", json=body)
    assert replaced["status"] == {"phase": "FAILED", "reason": "OOMKilled"}
    assert replaced["spec"]["format"] == "csv"
