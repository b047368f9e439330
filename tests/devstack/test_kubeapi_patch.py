"""PATCH flavours: merge, JSON (RFC 6902) and the approximated strategic merge."""

from __future__ import annotations

import aiohttp
from kubeapi_support import (
    CONFIGMAPS,
    EXPORTS,
    JOBS,
    JSON_PATCH,
    MERGE,
    configmap,
    export,
    job,
    send,
)


async def test_merge_patch_merges_and_null_deletes(http: aiohttp.ClientSession) -> None:
    await send(http, "POST", CONFIGMAPS, json={**configmap("cm"), "data": {"a": "1", "b": "2"}})
    patch = {"data": {"a": None, "c": "3"}, "metadata": {"labels": {"x": "y"}}}
    patched = await send(http, "PATCH", f"{CONFIGMAPS}/cm", json=patch, headers=MERGE)
    assert patched["data"] == {"b": "2", "c": "3"}
    assert patched["metadata"]["labels"] == {"x": "y"}


async def test_json_patch_applies_operations_in_order(http: aiohttp.ClientSession) -> None:
    await send(http, "POST", EXPORTS, json=export())
    ops = [
        {"op": "add", "path": "/metadata/finalizers", "value": []},
        {"op": "add", "path": "/metadata/finalizers/-", "value": "streamexport.io/cleanup"},
        {"op": "replace", "path": "/spec/format", "value": "xlsx"},
    ]
    patched = await send(http, "PATCH", f"{EXPORTS}/e-1", json=ops, headers=JSON_PATCH)
    assert patched["metadata"]["finalizers"] == ["streamexport.io/cleanup"]
    assert patched["spec"]["format"] == "xlsx"


async def test_failed_json_patch_test_is_422_and_changes_nothing(
    http: aiohttp.ClientSession,
) -> None:
    created = await send(http, "POST", EXPORTS, json=export())
    ops = [  # kopf's way of adding finalizers: guarded by the resourceVersion it last saw
        {"op": "test", "path": "/metadata/resourceVersion", "value": "999999"},
        {
            "op": "add",
            "path": "/metadata/finalizers",
            "value": ["kopf.zalando.org/KopfFinalizerMarker"],
        },
    ]
    answer = await send(http, "PATCH", f"{EXPORTS}/e-1", json=ops, headers=JSON_PATCH)
    assert (answer["_status"], answer["kind"], answer["reason"]) == (422, "Status", "Invalid")
    current = await send(http, "GET", f"{EXPORTS}/e-1")
    assert "finalizers" not in current["metadata"]
    assert current["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


async def test_json_patch_with_an_object_body_is_400(http: aiohttp.ClientSession) -> None:
    await send(http, "POST", EXPORTS, json=export())
    answer = await send(http, "PATCH", f"{EXPORTS}/e-1", json={"spec": {}}, headers=JSON_PATCH)
    assert (answer["_status"], answer["reason"]) == (400, "BadRequest")


async def test_strategic_merge_patch_merges_conditions_by_type(http: aiohttp.ClientSession) -> None:
    await send(http, "POST", JOBS, json=job("j-1"))
    smp = {"Content-Type": "application/strategic-merge-patch+json"}
    first = {"status": {"conditions": [{"type": "Suspended", "status": "False"}]}}
    second = {"status": {"conditions": [{"type": "Complete", "status": "True"}]}}
    await send(http, "PATCH", f"{JOBS}/j-1/status", json=first, headers=smp)
    patched = await send(http, "PATCH", f"{JOBS}/j-1/status", json=second, headers=smp)
    types = [c["type"] for c in patched["status"]["conditions"]]
    assert types == ["Suspended", "Complete"]


async def test_strategic_merge_patch_on_a_custom_resource_is_415(
    http: aiohttp.ClientSession,
) -> None:
    await send(http, "POST", EXPORTS, json=export())
    smp = {"Content-Type": "application/strategic-merge-patch+json"}
    answer = await send(http, "PATCH", f"{EXPORTS}/e-1", json={"spec": {}}, headers=smp)
    assert (answer["_status"], answer["reason"]) == (415, "UnsupportedMediaType")


async def test_merge_patch_with_a_stale_resource_version_is_409(
    http: aiohttp.ClientSession,
) -> None:
    await send(http, "POST", CONFIGMAPS, json=configmap("cm"))
    patch = {"metadata": {"resourceVersion": "1"}, "data": {"k": "new"}}
    answer = await send(http, "PATCH", f"{CONFIGMAPS}/cm", json=patch, headers=MERGE)
    assert (answer["_status"], answer["reason"]) == (409, "Conflict")


async def test_a_patch_that_changes_nothing_keeps_the_resource_version(
    http: aiohttp.ClientSession,
) -> None:
    created = await send(http, "POST", CONFIGMAPS, json=configmap("cm"))
    patched = await send(
        http, "PATCH", f"{CONFIGMAPS}/cm", json={"data": {"k": "v"}}, headers=MERGE
    )
    assert patched["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


async def test_server_side_apply_is_refused_with_415(http: aiohttp.ClientSession) -> None:
    await send(http, "POST", CONFIGMAPS, json=configmap("cm"))
    apply = {"Content-Type": "application/apply-patch+yaml"}
    answer = await send(http, "PATCH", f"{CONFIGMAPS}/cm", data=b"data: {}", headers=apply)
    assert answer["_status"] == 415
