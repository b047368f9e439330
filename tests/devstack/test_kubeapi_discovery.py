"""Discovery: what kopf's resource scanning and kubectl's RESTMapper need to find."""

from __future__ import annotations

from typing import Any

import aiohttp
from kubeapi_support import send

CRD_WIDGETS: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.io"},
    "spec": {
        "group": "example.io",
        "scope": "Cluster",
        "names": {
            "plural": "widgets",
            "singular": "widget",
            "kind": "Widget",
            "shortNames": ["wd"],
        },
        "versions": [{"name": "v1alpha1", "served": True, "storage": True, "subresources": {}}],
    },
}
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


def _by_name(resource_list: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in resource_list["resources"]}


async def test_core_v1_lists_namespaces_and_events(http: aiohttp.ClientSession) -> None:
    # kopf waits forever, silently, when either is missing from discovery.
    assert (await send(http, "GET", "/api"))["versions"] == ["v1"]
    core = _by_name(await send(http, "GET", "/api/v1"))
    assert core["namespaces"]["namespaced"] is False
    assert core["events"]["namespaced"] is True and "create" in core["events"]["verbs"]
    assert {"pods", "secrets", "configmaps", "serviceaccounts"} <= core.keys()


async def test_custom_group_lists_kind_short_names_and_status_subresource(
    http: aiohttp.ClientSession,
) -> None:
    listing = await send(http, "GET", "/apis/streamexport.io/v1")
    resources = _by_name(listing)
    exports = resources["exports"]
    assert (listing["kind"], listing["groupVersion"]) == ("APIResourceList", "streamexport.io/v1")
    assert (exports["kind"], exports["namespaced"], exports["singularName"]) == (
        "Export",
        True,
        "export",
    )
    assert exports["shortNames"] == ["sexp"] and exports["categories"] == ["streamexport"]
    assert {"get", "list", "watch", "create", "patch", "delete"} <= set(exports["verbs"])
    assert resources["exports/status"]["verbs"] == ["get", "patch", "update"]


async def test_apis_lists_builtin_and_custom_groups(http: aiohttp.ClientSession) -> None:
    groups = {g["name"]: g for g in (await send(http, "GET", "/apis"))["groups"]}
    expected = {
        "batch",
        "events.k8s.io",
        "coordination.k8s.io",
        "apiextensions.k8s.io",
        "streamexport.io",
    }
    assert expected <= groups.keys()
    assert groups["streamexport.io"]["preferredVersion"]["groupVersion"] == "streamexport.io/v1"


async def test_version_endpoint_answers(http: aiohttp.ClientSession) -> None:
    version = await send(http, "GET", "/version")
    assert version["major"] == "1" and version["gitVersion"].startswith("v1.")


async def test_creating_a_crd_serves_its_resource(http: aiohttp.ClientSession) -> None:
    created = await send(http, "POST", CRDS, json=CRD_WIDGETS)
    assert created["_status"] == 201
    widgets = _by_name(await send(http, "GET", "/apis/example.io/v1alpha1"))["widgets"]
    assert (widgets["kind"], widgets["namespaced"], widgets["shortNames"]) == (
        "Widget",
        False,
        ["wd"],
    )
    made = await send(
        http, "POST", "/apis/example.io/v1alpha1/widgets", json={"metadata": {"name": "w"}}
    )
    assert (made["_status"], made["kind"]) == (201, "Widget")


async def test_deleting_a_crd_stops_serving_it(http: aiohttp.ClientSession) -> None:
    await send(http, "POST", CRDS, json=CRD_WIDGETS)
    await send(http, "DELETE", f"{CRDS}/widgets.example.io")
    assert (await send(http, "GET", "/apis/example.io/v1alpha1"))["_status"] == 404
    groups = [g["name"] for g in (await send(http, "GET", "/apis"))["groups"]]
    assert "example.io" not in groups


async def test_an_invalid_crd_is_422(http: aiohttp.ClientSession) -> None:
    bad = {**CRD_WIDGETS, "metadata": {"name": "wrong.example.io"}}
    answer = await send(http, "POST", CRDS, json=bad)
    assert (answer["_status"], answer["reason"]) == (422, "Invalid")


async def test_the_crd_file_loaded_at_startup_is_stored_and_established(
    http: aiohttp.ClientSession,
) -> None:
    crd = await send(http, "GET", f"{CRDS}/exports.streamexport.io")
    conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert conditions["Established"] == "True"
