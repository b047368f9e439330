"""HTTP in, HTTP out: each view reads the request, calls the service, writes JSON."""

from __future__ import annotations

import json
from typing import Any, NoReturn

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from api.auth import Authenticator, User
from api.errors import error_body
from api.exports import parse_idempotency_key
from api.listing import parse_list_query
from api.middleware import METRICS_KEY, USER_ID_KEY
from api.service import ExportService
from streamexport_core.errors import InvalidRequest

AUTH_KEY = web.AppKey("authenticator", Authenticator)
SERVICE_KEY = web.AppKey("service", ExportService)
OPENAPI_KEY = web.AppKey("openapi", dict[str, Any])

EXPORTS_PATH = "/api/v1/exports"


def _user(request: web.Request) -> User:
    user = request.app[AUTH_KEY].authenticate(request.headers.get("Authorization"))
    request[USER_ID_KEY] = user.id
    return user


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


async def _json_body(request: web.Request) -> Any:
    """The parsed body; 415 for another media type, 400 if it is not JSON, 413 if too big."""
    content_type = request.content_type
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise web.HTTPUnsupportedMediaType(text="Content-Type must be application/json")
    raw = await request.read()  # aiohttp raises 413 past client_max_size
    if not raw.strip():
        raise InvalidRequest(["body must be a JSON object"])
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidRequest(["body must be valid JSON (UTF-8)"]) from None


async def create_export(request: web.Request) -> web.Response:
    user = _user(request)
    key = parse_idempotency_key(request.headers.getall("Idempotency-Key", []))
    body = await _json_body(request)
    created = await request.app[SERVICE_KEY].create(user, body, key)
    headers = {"Location": f"{EXPORTS_PATH}/{created.body['exportId']}"}
    if created.replayed:
        headers["Idempotent-Replayed"] = "true"
    return web.json_response(created.body, status=202, headers=headers)


async def get_export(request: web.Request) -> web.Response:
    user = _user(request)
    body = await request.app[SERVICE_KEY].get(user, request.match_info["export_id"])
    return web.json_response(body, headers={"Cache-Control": "no-store"})


async def list_exports(request: web.Request) -> web.Response:
    user = _user(request)
    query = parse_list_query({name: request.query.getall(name) for name in request.query})
    body = await request.app[SERVICE_KEY].list_page(user, query)
    return web.json_response(body, headers={"Cache-Control": "no-store"})


async def cancel_export(request: web.Request) -> web.Response:
    user = _user(request)
    body = await request.app[SERVICE_KEY].cancel(user, request.match_info["export_id"])
    return web.json_response(body, status=202)


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI_KEY])


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    checks = await request.app[SERVICE_KEY].readiness()
    failing = [name for name, state in checks.items() if state != "ok"]
    if not failing:
        return web.json_response({"status": "ok", "checks": checks})
    body = error_body(503, f"Not ready: {', '.join(failing)} unavailable")
    return web.json_response({**body, "checks": checks}, status=503)


async def metrics(request: web.Request) -> web.Response:
    response = web.Response(body=request.app[METRICS_KEY].render())
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response
