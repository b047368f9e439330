"""Deletion: finalizers, ownerReference garbage collection, collections and namespaces."""

from __future__ import annotations

import aiohttp
from kubeapi_support import (
    CONFIGMAPS,
    EXPORTS,
    JOBS,
    MERGE,
    PODS,
    configmap,
    export,
    job,
    owner_ref,
    send,
)

FINALIZER = "streamexport.io/cleanup"


async def test_finalizers_hold_the_object_until_the_last_is_removed(
    http: aiohttp.ClientSession,
) -> None:
    body = export()
    body["metadata"]["finalizers"] = [FINALIZER]
    await send(http, "POST", EXPORTS, json=body)

    deleting = await send(http, "DELETE", f"{EXPORTS}/e-1")
    assert deleting["_status"] == 200 and deleting["metadata"]["deletionTimestamp"]
    still_there = await send(http, "GET", f"{EXPORTS}/e-1")
    assert still_there["_status"] == 200

    release = {"metadata": {"finalizers": None}}
    await send(http, "PATCH", f"{EXPORTS}/e-1", json=release, headers=MERGE)
    gone = await send(http, "GET", f"{EXPORTS}/e-1")
    assert gone["_status"] == 404


async def test_no_new_finalizers_while_deleting(http: aiohttp.ClientSession) -> None:
    body = export()
    body["metadata"]["finalizers"] = [FINALIZER]
    await send(http, "POST", EXPORTS, json=body)
    await send(http, "DELETE", f"{EXPORTS}/e-1")
    more = {"metadata": {"finalizers": [FINALIZER, "another.io/x"]}}
    answer = await send(http, "PATCH", f"{EXPORTS}/e-1", json=more, headers=MERGE)
    assert (answer["_status"], answer["reason"]) == (422, "Invalid")


async def test_deleting_an_owner_deletes_its_dependents(http: aiohttp.ClientSession) -> None:
    owner = await send(http, "POST", EXPORTS, json=export())
    child = await send(http, "POST", JOBS, json=job("e-1", owner=owner))
    grandchild = {
        "metadata": {"name": "e-1-pod", "ownerReferences": [owner_ref(child)]},
        "spec": {"containers": [{"name": "main", "image": "x"}]},
    }
    await send(http, "POST", PODS, json=grandchild)

    await send(http, "DELETE", f"{EXPORTS}/e-1")
    assert (await send(http, "GET", f"{JOBS}/e-1"))["_status"] == 404
    assert (await send(http, "GET", f"{PODS}/e-1-pod"))["_status"] == 404


async def test_orphan_propagation_keeps_dependents_without_the_reference(
    http: aiohttp.ClientSession,
) -> None:
    owner = await send(http, "POST", EXPORTS, json=export())
    await send(http, "POST", JOBS, json=job("e-1", owner=owner))
    await send(http, "DELETE", f"{EXPORTS}/e-1", params={"propagationPolicy": "Orphan"})
    orphan = await send(http, "GET", f"{JOBS}/e-1")
    assert orphan["_status"] == 200 and "ownerReferences" not in orphan["metadata"]


async def test_a_dependent_with_another_live_owner_survives(http: aiohttp.ClientSession) -> None:
    first = await send(http, "POST", CONFIGMAPS, json=configmap("owner-1"))
    second = await send(http, "POST", CONFIGMAPS, json=configmap("owner-2"))
    refs = [owner_ref(first), owner_ref(second)]
    await send(http, "POST", CONFIGMAPS, json=configmap("shared", ownerReferences=refs))
    await send(http, "DELETE", f"{CONFIGMAPS}/owner-1")
    shared = await send(http, "GET", f"{CONFIGMAPS}/shared")
    assert [r["name"] for r in shared["metadata"]["ownerReferences"]] == ["owner-2"]


async def test_delete_collection_honours_the_label_selector(http: aiohttp.ClientSession) -> None:
    await send(http, "POST", CONFIGMAPS, json=configmap("keep", labels={"tier": "db"}))
    await send(http, "POST", CONFIGMAPS, json=configmap("drop-1", labels={"tier": "web"}))
    await send(http, "POST", CONFIGMAPS, json=configmap("drop-2", labels={"tier": "web"}))
    deleted = await send(http, "DELETE", CONFIGMAPS, params={"labelSelector": "tier=web"})
    assert sorted(i["metadata"]["name"] for i in deleted["items"]) == ["drop-1", "drop-2"]
    left = await send(http, "GET", CONFIGMAPS)
    assert [i["metadata"]["name"] for i in left["items"]] == ["keep"]


async def test_deleting_a_namespace_deletes_its_objects(http: aiohttp.ClientSession) -> None:
    await send(http, "POST", "/api/v1/namespaces", json={"metadata": {"name": "tmp"}})
    await send(http, "POST", "/api/v1/namespaces/tmp/configmaps", json=configmap("cm"))
    await send(http, "DELETE", "/api/v1/namespaces/tmp")
    answer = await send(http, "GET", "/api/v1/namespaces/tmp/configmaps/cm")
    assert answer["_status"] == 404


async def test_a_failed_uid_precondition_is_409(http: aiohttp.ClientSession) -> None:
    await send(http, "POST", CONFIGMAPS, json=configmap("cm"))
    options = {"preconditions": {"uid": "not-the-uid"}}
    answer = await send(http, "DELETE", f"{CONFIGMAPS}/cm", json=options)
    assert (answer["_status"], answer["reason"]) == (409, "Conflict")
