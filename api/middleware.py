"""The outermost middleware: request id in and out, one access log line, metrics."""

from __future__ import annotations

import logging
import re
import time
import uuid

from aiohttp import web

from api.errors import Handler
from api.logs import request_id_var
from api.metrics import Metrics

log = logging.getLogger("api.access")

REQUEST_ID_HEADER = "X-Request-Id"
# A client's id is echoed only if it is short and plain: it ends up in logs and headers.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
USER_ID_KEY = web.RequestKey("user_id", str)  # set by the views once the caller is known
METRICS_KEY = web.AppKey("metrics", Metrics)


def _route_template(request: web.Request) -> str:
    """The route's path template: bounded label values, no ids."""
    resource = request.match_info.route.resource
    return "unmatched" if resource is None else resource.canonical


@web.middleware
async def request_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
    token = request_id_var.set(request_id)
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers[REQUEST_ID_HEADER] = request_id
        return response
    except web.HTTPException as exc:  # redirects and the like, re-raised by the error layer
        status = exc.status
        exc.headers[REQUEST_ID_HEADER] = request_id
        raise
    finally:
        elapsed = time.perf_counter() - started
        route = _route_template(request)
        request.app[METRICS_KEY].observe(route, request.method, status, elapsed)
        log.info(
            "request",
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": request.path,
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
                "user": request.get(USER_ID_KEY),
            },
        )
        request_id_var.reset(token)
