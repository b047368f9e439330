"""The aiohttp application: URL resolution, verbs, content negotiation and Status errors."""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the env
from aiohttp import web

from . import discovery, errors, eviction, tables
from .objects import for_version
from .registry import Registry, ResourceType
from .selectors import Selector, parse_field_selector, parse_label_selector
from .store import Store
from .watch import WatchScope, serve_watch

JSON = dict[str, Any]
STORE = web.AppKey("store", Store)
log = logging.getLogger("devstack.kubeapi")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Query = Mapping[str, str]


@dataclass(frozen=True)
class Target:
    """A resolved resource URL: `/apis/<g>/<v>[/namespaces/<ns>]/<plural>[/<name>[/<sub>]]`."""

    rt: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None
    watch: bool


def resolve(registry: Registry, group: str, version: str, rest: list[str], path: str) -> Target:
    watch = bool(rest) and rest[0] == "watch"  # the legacy /watch/ URL prefix
    rest = rest[1:] if watch else rest
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        inner = registry.lookup(group, version, rest[2])
        if inner is not None and inner.namespaced:
            namespace, rest = rest[1], rest[2:]
    rt = registry.lookup(group, version, rest[0]) if rest else None
    if rt is None or len(rest) > 3:
        raise errors.path_not_found(path)
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else None
    if name is not None and rt.namespaced and namespace is None:
        raise errors.path_not_found(path)  # a namespaced object needs its namespace
    if subresource is not None and subresource not in rt.subresources:
        raise errors.path_not_found(path)
    return Target(rt, namespace, name, subresource, watch)


@web.middleware
async def status_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Translate every failure into a Kubernetes Status body, exactly once."""
    try:
        response = await handler(request)
    except errors.KubeError as exc:
        response = web.json_response(exc.status(), status=exc.code)
    except web.HTTPException as exc:  # e.g. 413 from aiohttp itself
        reason = exc.reason.replace(" ", "")
        body = errors.KubeError(exc.status, reason, exc.text or exc.reason).status()
        response = web.json_response(body, status=exc.status)
    except Exception as exc:  # a bug in the stand-in, never the client's fault
        log.exception("internal error method=%s path=%s", request.method, request.path)
        body = errors.KubeError(500, "InternalError", f"devstack.kubeapi bug: {exc!r}").status()
        response = web.json_response(body, status=500)
    if isinstance(response, web.Response) and response.content_type == "application/json":
        # kube-apiserver sends exactly `application/json` (no charset); lightkube compares the
        # header exactly to decide that an error body is a Status.
        response.charset = None
    log.debug(
        "request method=%s path=%s status=%s", request.method, request.path_qs, response.status
    )
    return response


async def dispatch(request: web.Request) -> web.StreamResponse:
    store = request.app[STORE]
    parts = [p for p in request.path.split("/") if p]
    if not parts or parts[0] in ("version", "healthz", "readyz", "livez"):
        _only_get(request)
        if not parts:
            return web.json_response(discovery.root_paths(store.registry))
        if parts == ["version"]:
            return web.json_response(discovery.version())
        return web.Response(text="ok")
    if parts[0] == "api":
        group, version, rest = "", (parts[1] if len(parts) > 1 else None), parts[2:]
        if version is None:
            _only_get(request)
            return web.json_response(discovery.api_versions(request.host))
    elif parts[0] == "apis":
        if len(parts) == 1:
            _only_get(request)
            return web.json_response(discovery.api_group_list(store.registry))
        group, version, rest = parts[1], (parts[2] if len(parts) > 2 else None), parts[3:]
        if version is None:
            _only_get(request)
            return _found(discovery.api_group(store.registry, group), request.path)
    else:
        raise errors.path_not_found(request.path)
    if not rest:
        _only_get(request)
        return _found(discovery.resource_list(store.registry, group, version), request.path)
    target = resolve(store.registry, group, version, rest, request.path)
    return await _serve_resource(request, store, target)


def _only_get(request: web.Request) -> None:
    if request.method not in ("GET", "HEAD"):
        raise errors.method_not_allowed(request.method, request.path)


def _found(document: JSON | None, path: str) -> web.Response:
    if document is None:
        raise errors.path_not_found(path)
    return web.json_response(document)


async def _serve_resource(request: web.Request, store: Store, t: Target) -> web.StreamResponse:
    method, query = request.method, request.query
    if method != "GET" and query.get("dryRun"):
        raise errors.bad_request("dryRun is not supported by the devstack.kubeapi stand-in")
    as_table = tables.wants_table(request.headers.get("Accept"))
    include = query.get("includeObject", "Metadata")
    watching = t.watch or query.get("watch") in ("true", "1")
    if t.subresource == "eviction" and t.name is not None:
        if method != "POST":
            raise errors.method_not_allowed(method, request.path)
        store.evict(t.rt, t.namespace, t.name, await _body(request))
        return web.json_response(eviction.SUCCESS, status=201)
    if method == "GET" and t.name is not None and not watching:
        obj = for_version(t.rt, store.get(t.rt, t.namespace, t.name))
        return web.json_response(tables.table(t.rt, [obj], include=include) if as_table else obj)
    if method == "GET":
        labels, fields = _selectors(query, t.name)
        if watching:
            scope = WatchScope(t.rt, t.namespace, labels, fields)
            return await serve_watch(request, store, scope, as_table=as_table, include=include)
        return web.json_response(_list(store, t, labels, fields, query, as_table, include))
    if method == "POST" and t.name is None and (t.namespace is not None or not t.rt.namespaced):
        obj = store.create(t.rt, t.namespace, await _body(request))
        return web.json_response(for_version(t.rt, obj), status=201)
    if method == "PUT" and t.name is not None:
        obj = store.replace(t.rt, t.namespace, t.name, await _body(request), t.subresource)
        return web.json_response(for_version(t.rt, obj))
    if method == "PATCH" and t.name is not None:
        content_type = request.content_type
        if content_type.startswith("application/apply-patch"):
            raise errors.unsupported_media_type(content_type, "server-side apply is not supported")
        body = _parse(await request.read(), "application/json")
        obj = store.patch(t.rt, t.namespace, t.name, content_type, body, t.subresource)
        return web.json_response(for_version(t.rt, obj))
    if method == "DELETE" and t.subresource is None:
        propagation, preconditions = _delete_options(query, await _body(request, optional=True))
        if t.name is None:
            labels, fields = _selectors(query, None)
            items = store.delete_collection(t.rt, t.namespace, labels, fields, propagation)
            return web.json_response(_list_body(store, t.rt, items, {}))
        obj, removed = store.delete(
            t.rt, t.namespace, t.name, propagation=propagation, preconditions=preconditions
        )
        if removed and not t.rt.custom:
            return web.json_response(_success(t.rt, obj))  # built-ins answer with a Status
        return web.json_response(for_version(t.rt, obj))
    raise errors.method_not_allowed(method, request.path)


def _selectors(query: Query, name: str | None) -> tuple[Selector, Selector]:
    field_text = query.get("fieldSelector", "")
    if name is not None:  # watching one object by URL is a field selector on its name
        field_text = ",".join(filter(None, [field_text, f"metadata.name={name}"]))
    try:
        return parse_label_selector(query.get("labelSelector")), parse_field_selector(field_text)
    except ValueError as exc:
        raise errors.bad_request(f"invalid selector: {exc}") from None


def _list_body(store: Store, rt: ResourceType, items: list[JSON], extra_meta: JSON) -> JSON:
    return {
        "kind": rt.list_kind_name,
        "apiVersion": rt.api_version,
        "metadata": {"resourceVersion": str(store.resource_version), **extra_meta},
        "items": [for_version(rt, obj) for obj in items],
    }


def _list(
    store: Store,
    t: Target,
    labels: Selector,
    fields: Selector,
    query: Query,
    as_table: bool,
    include: str,
) -> JSON:
    items = store.list_objects(t.rt, t.namespace, labels, fields)
    if token := query.get("continue"):
        start = _decode_continue(token)
        items = [
            o for o in items if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > start
        ]
    extra: JSON = {}
    limit = _int_param(query, "limit")
    if limit and len(items) > limit:
        last = items[limit - 1]["metadata"]
        extra["continue"] = _encode_continue((last.get("namespace", ""), last["name"]))
        extra["remainingItemCount"] = len(items) - limit
        items = items[:limit]
    if as_table:
        meta = {"resourceVersion": str(store.resource_version), **extra}
        return tables.table(t.rt, items, include=include, list_meta=meta)
    return _list_body(store, t.rt, items, extra)


def _int_param(query: Query, name: str) -> int | None:
    raw = query.get(name)
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise errors.bad_request(f"invalid {name}: {raw!r}") from None
    if value < 0:
        raise errors.bad_request(f"{name} must not be negative")
    return value


def _encode_continue(key: tuple[str, str]) -> str:
    # Opaque to clients, as in Kubernetes: the key of the last item returned.
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def _decode_continue(token: str) -> tuple[str, str]:
    try:
        ns, name = json.loads(base64.urlsafe_b64decode(token.encode()))
        return str(ns), str(name)
    except (ValueError, TypeError, binascii.Error):
        raise errors.bad_request("invalid continue token") from None


def _delete_options(query: Query, body: Any) -> tuple[str | None, JSON | None]:
    options = body if isinstance(body, dict) else {}
    policy = query.get("propagationPolicy") or options.get("propagationPolicy")
    orphan = query.get("orphanDependents") or options.get("orphanDependents")
    if policy is None and orphan is not None:
        policy = "Orphan" if str(orphan).lower() == "true" else "Background"
    if policy not in (None, "Orphan", "Background", "Foreground"):
        raise errors.bad_request(f"invalid propagationPolicy: {policy!r}")
    preconditions = options.get("preconditions")
    return policy, preconditions if isinstance(preconditions, dict) else None


def _success(rt: ResourceType, obj: JSON) -> JSON:
    meta = obj["metadata"]
    details = {"name": meta["name"], "kind": rt.plural, "uid": meta["uid"]}
    if rt.group:
        details["group"] = rt.group
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }


async def _body(request: web.Request, *, optional: bool = False) -> Any:
    raw = await request.read()
    if not raw.strip():
        if optional:
            return None
        raise errors.bad_request("the request body is empty")
    return _parse(raw, request.content_type)


def _parse(raw: bytes, content_type: str) -> Any:
    try:
        if content_type in ("application/yaml", "application/x-yaml", "text/yaml"):
            return yaml.safe_load(raw)
        return json.loads(raw)
    except (ValueError, yaml.YAMLError) as exc:
        raise errors.bad_request(f"the request body is not valid JSON/YAML: {exc}") from None


async def _close_watches(app: web.Application) -> None:
    app[STORE].close()


def create_app(store: Store) -> web.Application:
    """The stand-in as an aiohttp application over `store` (see `KubeAPIServer` to serve it)."""
    app = web.Application(middlewares=[status_errors], client_max_size=16 * 1024 * 1024)
    app[STORE] = store
    app.router.add_route("*", "/{tail:.*}", dispatch)
    app.on_shutdown.append(_close_watches)
    return app
