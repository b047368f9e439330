"""The pods `eviction` subresource, as kube-apiserver serves it with no PodDisruptionBudget:
201 `Success`, the `DisruptionTarget` condition, then a graceful delete that leaves a pod on
a node terminating until its kubelet removes it; lightkube and `kubectl create --raw` drive it."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from kubeapi_support import MERGE, PODS, WatchReader, send
from lightkube import AsyncClient
from lightkube.models.meta_v1 import DeleteOptions, ObjectMeta
from lightkube.resources.core_v1 import Pod

from devstack.kubeapi import ThreadedKubeAPI
from streamexport_core.kube import async_client

JSON = dict[str, Any]


def pod(name: str = "p-1", *, node: str | None = "localhost", grace: int | None = None) -> JSON:
    spec: JSON = {"containers": [{"name": "main", "image": "exporter:dev"}]}
    if node is not None:
        spec["nodeName"] = node
    if grace is not None:
        spec["terminationGracePeriodSeconds"] = grace
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def eviction(name: str = "p-1", **delete_options: Any) -> JSON:
    body: JSON = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name}}
    if delete_options:
        body["deleteOptions"] = delete_options
    return body


async def running(http: aiohttp.ClientSession, body: JSON) -> JSON:
    created = await send(http, "POST", PODS, json=body)
    assert created["_status"] == 201, created
    name = body["metadata"]["name"]
    status = {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}
    return await send(http, "PATCH", f"{PODS}/{name}/status", json=status, headers=MERGE)


def disruption(obj: JSON) -> JSON | None:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition["type"] == "DisruptionTarget":
            return dict(condition)
    return None


async def test_an_eviction_is_201_success_and_marks_the_pod_disrupted_and_terminating(
    http: aiohttp.ClientSession,
) -> None:
    await running(http, pod(grace=45))

    answer = await send(http, "POST", f"{PODS}/p-1/eviction", json=eviction())

    assert answer == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "code": 201,
        "_status": 201,
    }
    evicted = await send(http, "GET", f"{PODS}/p-1")
    assert evicted["_status"] == 200  # still there: its kubelet has a container to stop
    assert evicted["metadata"]["deletionGracePeriodSeconds"] == 45
    assert evicted["metadata"]["deletionTimestamp"]
    condition = disruption(evicted)
    assert condition is not None
    assert (condition["status"], condition["reason"], condition["message"]) == (
        "True",
        "EvictionByEvictionAPI",
        "Eviction API: evicting",
    )
    kept = {c["type"]: c["status"] for c in evicted["status"]["conditions"]}
    assert kept == {"Ready": "True", "DisruptionTarget": "True"}


async def test_the_kubelet_writes_status_then_removes_the_terminating_pod(
    http: aiohttp.ClientSession,
) -> None:
    await running(http, pod())
    async with http.get(PODS, params={"watch": "true"}) as response:
        watch = WatchReader(response)
        await send(http, "POST", f"{PODS}/p-1/eviction", json=eviction(gracePeriodSeconds=5))
        final = {"status": {"phase": "Failed"}}
        written = await send(http, "PATCH", f"{PODS}/p-1/status", json=final, headers=MERGE)
        assert written["_status"] == 200 and written["status"]["phase"] == "Failed"
        assert written["metadata"]["deletionGracePeriodSeconds"] == 5  # a write keeps it
        removed = await send(http, "DELETE", f"{PODS}/p-1", json={"gracePeriodSeconds": 0})
        assert removed["_status"] == 200
        await watch.wait_for(lambda events: events[-1]["type"] == "DELETED")
        await watch.close()
    kinds = [e["type"] for e in watch.events]
    assert kinds[-4:] == ["MODIFIED", "MODIFIED", "MODIFIED", "DELETED"]
    condition_write, delete_write = (e["object"] for e in watch.events[-4:-2])
    assert disruption(condition_write) and not condition_write["metadata"].get("deletionTimestamp")
    assert delete_write["metadata"]["deletionTimestamp"]
    assert (await send(http, "GET", f"{PODS}/p-1"))["_status"] == 404


@pytest.mark.parametrize(
    ("body", "options"),
    [
        (pod("unscheduled", node=None), {}),
        (pod("forced"), {"gracePeriodSeconds": 0}),
    ],
    ids=["unscheduled", "grace-0"],
)
async def test_a_pod_without_containers_to_stop_is_removed_at_once(
    http: aiohttp.ClientSession, body: JSON, options: JSON
) -> None:
    name = body["metadata"]["name"]
    await send(http, "POST", PODS, json=body)

    answer = await send(http, "POST", f"{PODS}/{name}/eviction", json=eviction(name, **options))

    assert answer["_status"] == 201
    assert (await send(http, "GET", f"{PODS}/{name}"))["_status"] == 404


async def test_a_finished_pod_is_removed_at_once(http: aiohttp.ClientSession) -> None:
    await send(http, "POST", PODS, json=pod())
    done = {"status": {"phase": "Succeeded"}}
    await send(http, "PATCH", f"{PODS}/p-1/status", json=done, headers=MERGE)

    assert (await send(http, "POST", f"{PODS}/p-1/eviction", json=eviction()))["_status"] == 201
    assert (await send(http, "GET", f"{PODS}/p-1"))["_status"] == 404


async def test_evicting_a_terminating_pod_again_changes_nothing(
    http: aiohttp.ClientSession,
) -> None:
    await running(http, pod())
    await send(http, "POST", f"{PODS}/p-1/eviction", json=eviction())
    before = await send(http, "GET", f"{PODS}/p-1")

    again = await send(http, "POST", f"{PODS}/p-1/eviction", json=eviction(gracePeriodSeconds=0))

    assert again["_status"] == 201
    after = await send(http, "GET", f"{PODS}/p-1")
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


async def test_evicting_a_missing_pod_is_404(http: aiohttp.ClientSession) -> None:
    answer = await send(http, "POST", f"{PODS}/none/eviction", json=eviction("none"))
    assert (answer["_status"], answer["reason"], answer["message"]) == (
        404,
        "NotFound",
        'pods "none" not found',
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (eviction("other"), "name in URL does not match name in Eviction object"),
        ({**eviction(), "kind": "Pod"}, "the kind in the data (Pod) does not match"),
        ({**eviction(), "apiVersion": "v1"}, "the API version in the data (v1) does not match"),
        (eviction(gracePeriodSeconds="soon"), "invalid gracePeriodSeconds: 'soon'"),
    ],
    ids=["name", "kind", "apiVersion", "grace"],
)
async def test_a_bad_eviction_is_400_and_evicts_nothing(
    http: aiohttp.ClientSession, body: JSON, message: str
) -> None:
    await running(http, pod())

    answer = await send(http, "POST", f"{PODS}/p-1/eviction", json=body)

    assert (answer["_status"], answer["reason"]) == (400, "BadRequest")
    assert answer["message"].startswith(message)
    assert disruption(await send(http, "GET", f"{PODS}/p-1")) is None


async def test_a_failed_uid_precondition_is_409(http: aiohttp.ClientSession) -> None:
    await running(http, pod())
    body = eviction(preconditions={"uid": "not-the-uid"})

    assert (await send(http, "POST", f"{PODS}/p-1/eviction", json=body))["_status"] == 409
    assert disruption(await send(http, "GET", f"{PODS}/p-1")) is None


async def test_eviction_is_post_only_and_listed_in_discovery(http: aiohttp.ClientSession) -> None:
    await running(http, pod())
    assert (await send(http, "GET", f"{PODS}/p-1/eviction"))["_status"] == 405
    patch = await send(http, "PATCH", f"{PODS}/p-1/eviction", json={}, headers=MERGE)
    assert patch["_status"] == 405
    core = {r["name"]: r for r in (await send(http, "GET", "/api/v1"))["resources"]}
    assert core["pods/eviction"] == {
        "name": "pods/eviction",
        "singularName": "",
        "namespaced": True,
        "group": "policy",
        "version": "v1",
        "kind": "Eviction",
        "verbs": ["create"],
    }


@pytest.fixture
async def client(kubeapi: ThreadedKubeAPI) -> AsyncIterator[AsyncClient]:
    kube = async_client(kubeapi.url, timeout_seconds=5, field_manager="tests")
    yield kube
    await kube.close()


async def test_lightkube_evicts_through_pod_eviction(client: AsyncClient) -> None:
    created = await client.create(Pod.from_dict(pod(grace=7)), namespace="default")
    assert created.metadata is not None

    await client.create(
        Pod.Eviction(
            metadata=ObjectMeta(name="p-1", namespace="default"),
            deleteOptions=DeleteOptions(gracePeriodSeconds=3),
        ),
        name="p-1",
        namespace="default",
    )

    evicted = await client.get(Pod, "p-1", namespace="default")
    assert evicted.metadata is not None and evicted.metadata.deletionGracePeriodSeconds == 3
    assert evicted.status is not None and evicted.status.conditions is not None
    assert [c.reason for c in evicted.status.conditions] == ["EvictionByEvictionAPI"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_create_raw_evicts(kubeapi: ThreadedKubeAPI, tmp_path: Path) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text("")
    kubectl = ["kubectl", "--kubeconfig", str(config), "--cache-dir", str(tmp_path / "cache")]
    kubectl += ["--server", kubeapi.url, "--request-timeout=10s"]
    manifest = tmp_path / "pod.json"
    manifest.write_text(json.dumps(pod()))
    subprocess.run(  # the stand-in serves no OpenAPI document to validate against
        [*kubectl, "create", "--validate=false", "-f", str(manifest)], check=True, timeout=20
    )
    body = tmp_path / "eviction.json"
    body.write_text(json.dumps(eviction()))
    raw = "/api/v1/namespaces/default/pods/p-1/eviction"

    done = subprocess.run(
        [*kubectl, "create", "--raw", raw, "-f", str(body)],
        capture_output=True,
        text=True,
        timeout=20,
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "Success"
    got = subprocess.run(
        [*kubectl, "get", "pod", "p-1", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    evicted = json.loads(got.stdout)
    assert evicted["metadata"]["deletionTimestamp"] and disruption(evicted)
