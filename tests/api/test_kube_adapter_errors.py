"""The API's Kubernetes adapter keeps the meaning of each answer: 404 → None, 409 →
AlreadyExists or Conflict, 410 (an expired continue token) → KubeError, and our credentials,
RBAC or the server failing (401, 403, 429, 5xx, a body that is not a Status, even one without
a Content-Type) → Unavailable."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from api.errors import Unavailable
from api.kube import AlreadyExists, Conflict, KubeClient, KubeError

EXPORT = {
    "apiVersion": "streamexport.io/v1",
    "kind": "Export",
    "metadata": {"name": "e-1", "namespace": "default"},
    "spec": {
        "resourceType": "TRANSACTIONS",
        "format": "csv",
        "filters": {},
        "requestedBy": {"userId": "u-1", "email": "u-1@example.com"},
        "estimatedRowCount": 1,
    },
}


def status(code: int, reason: str) -> web.Response:
    """A Kubernetes Status, with kube-apiserver's exact Content-Type (no charset)."""
    body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code}
    text = json.dumps({**body, "reason": reason, "message": f"{reason}!"})
    return web.Response(body=text.encode(), status=code, content_type="application/json")


@pytest.fixture
async def answering() -> AsyncIterator[Any]:
    """`await answering(response)`: a KubeClient whose server answers every call with it."""
    servers: list[TestServer] = []
    clients: list[KubeClient] = []

    async def make(response: web.Response) -> KubeClient:
        async def handler(request: web.Request) -> web.StreamResponse:
            return response

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        server = TestServer(app)
        await server.start_server()
        servers.append(server)
        client = KubeClient(str(server.make_url("")), timeout_seconds=5)
        await client.open()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()
    for server in servers:
        await server.close()


async def test_a_missing_export_is_none(kube_url: str) -> None:
    client = KubeClient(kube_url)
    await client.open()
    try:
        assert await client.get_export("default", "no-such-export") is None
    finally:
        await client.close()


async def test_already_exists_and_conflict_are_told_apart(kube_url: str) -> None:
    client = KubeClient(kube_url)
    await client.open()
    try:
        created = await client.create_export("default", EXPORT)
        with pytest.raises(AlreadyExists):
            await client.create_export("default", EXPORT)
        stale = {"metadata": {"resourceVersion": "1", "annotations": {"a": "b"}}}
        assert created["metadata"]["resourceVersion"] != "1"
        with pytest.raises(Conflict):
            await client.patch_export("default", "e-1", stale)
    finally:
        await client.close()


async def test_an_expired_continue_token_is_a_410(answering: Any) -> None:
    client = await answering(status(410, "Expired"))
    with pytest.raises(KubeError) as raised:
        await client.list_exports("default", limit=10, continue_token="old")  # noqa: S106
    assert raised.value.status == 410


@pytest.mark.parametrize(
    ("code", "reason"),
    [(401, "Unauthorized"), (403, "Forbidden"), (429, "TooManyRequests"), (500, "InternalError")],
)
async def test_what_the_caller_cannot_fix_is_unavailable(
    answering: Any, code: int, reason: str
) -> None:
    client = await answering(status(code, reason))
    with pytest.raises(Unavailable):
        await client.get_export("default", "e-1")


async def test_a_proxy_error_page_is_unavailable(answering: Any) -> None:
    client = await answering(web.Response(status=502, text="<html>bad gateway</html>"))
    with pytest.raises(Unavailable):
        await client.list_exports("default")


async def test_an_error_without_a_content_type_is_unavailable() -> None:
    class Bare(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(502)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Bare)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client = KubeClient(f"http://127.0.0.1:{server.server_address[1]}")
    await client.open()
    try:
        with pytest.raises(Unavailable):
            await client.get_export("default", "e-1")
    finally:
        await client.close()
        server.shutdown()
        server.server_close()
        thread.join()


async def test_pages_carry_the_continue_token(kube_url: str) -> None:
    client = KubeClient(kube_url)
    await client.open()
    try:
        for name in ("p-1", "p-2", "p-3"):
            manifest = {**EXPORT, "metadata": {"name": name, "labels": {"page": "yes"}}}
            await client.create_export("default", manifest)
        first = await client.list_exports("default", label_selector="page=yes", limit=2)
        assert [e["metadata"]["name"] for e in first.items] == ["p-1", "p-2"]
        assert first.continue_token is not None
        rest = await client.list_exports(
            "default", label_selector="page=yes", limit=2, continue_token=first.continue_token
        )
        assert [e["metadata"]["name"] for e in rest.items] == ["p-3"]
        assert rest.continue_token is None
    finally:
        await client.close()
