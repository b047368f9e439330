"""Bad client input always gets a 4xx Kubernetes Status, never a 500."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from kubeapi_support import CONFIGMAPS, EXPORTS, MERGE, configmap, send

BAD_REQUESTS: list[tuple[str, str, dict[str, Any], int]] = [
    ("GET", "/apis/nothing.io/v1/things", {}, 404),
    ("GET", "/api/v1/namespaces/default/nothings", {}, 404),
    ("GET", "/api/v1/configmaps/cm", {}, 404),  # a namespaced object needs its namespace
    ("GET", f"{EXPORTS}/e-1/scale", {}, 404),
    ("GET", "/metrics", {}, 404),
    ("POST", "/apis", {"json": {}}, 405),
    ("POST", f"{CONFIGMAPS}/cm", {"json": {}}, 405),
    (
        "POST",
        CONFIGMAPS,
        {"data": b"{not json", "headers": {"Content-Type": "application/json"}},
        400,
    ),
    ("POST", CONFIGMAPS, {"json": ["a", "list"]}, 400),
    ("POST", CONFIGMAPS, {"json": {"metadata": {}}}, 422),
    ("POST", CONFIGMAPS, {"json": {"metadata": {"name": "Not_Valid"}}}, 422),
    ("POST", CONFIGMAPS, {"json": {"kind": "Secret", "metadata": {"name": "x"}}}, 400),
    ("POST", CONFIGMAPS, {"json": {"metadata": {"name": "x"}}, "params": {"dryRun": "All"}}, 400),
    ("PUT", f"{CONFIGMAPS}/cm", {"json": {"metadata": {"name": "other"}}}, 400),
    ("PATCH", f"{CONFIGMAPS}/cm", {"data": b"{}", "headers": {"Content-Type": "text/plain"}}, 415),
    ("PATCH", f"{CONFIGMAPS}/cm", {"json": [1], "headers": MERGE}, 400),
    ("GET", CONFIGMAPS, {"params": {"limit": "many"}}, 400),
    ("GET", CONFIGMAPS, {"params": {"continue": "%%%"}}, 400),
    ("GET", CONFIGMAPS, {"params": {"watch": "1", "timeoutSeconds": "soon"}}, 400),
    ("GET", CONFIGMAPS, {"params": {"watch": "1", "resourceVersion": "abc"}}, 400),
    ("DELETE", f"{CONFIGMAPS}/cm", {"params": {"propagationPolicy": "Sideways"}}, 400),
]


@pytest.mark.parametrize(("method", "url", "kwargs", "code"), BAD_REQUESTS)
async def test_bad_input_gets_a_status_with_the_right_code(
    http: aiohttp.ClientSession, method: str, url: str, kwargs: dict[str, Any], code: int
) -> None:
    await send(http, "POST", CONFIGMAPS, json=configmap("cm"))
    await send(
        http,
        "POST",
        "/apis/streamexport.io/v1/namespaces/default/exports",
        json={"metadata": {"name": "e-1"}, "spec": {}},
    )
    answer = await send(http, method, url, **kwargs)
    assert (answer["_status"], answer["kind"], answer["code"]) == (code, "Status", code)
    assert answer["status"] == "Failure" and answer["reason"] and answer["message"]


async def test_any_bearer_token_is_accepted(http: aiohttp.ClientSession) -> None:
    headers = {"Authorization": "Bearer anything-at-all"}
    answer = await send(http, "GET", CONFIGMAPS, headers=headers)
    assert answer["_status"] == 200
