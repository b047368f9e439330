"""Domain errors and the one middleware that turns them (and aiohttp's own) into JSON.

Modules below the views raise these exceptions without knowing about HTTP; the mapping to
status codes lives here only. Bodies have the NestJS shape the seed's clients expect:
`{"statusCode": 400, "message": [...], "error": "Bad Request"}`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from aiohttp import web

from streamexport_core.errors import InvalidRequest

log = logging.getLogger("api.errors")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Unauthenticated(Exception):
    """No token, or one that is malformed, badly signed, expired or for another audience."""

    def __init__(self, message: str, *, token_given: bool) -> None:
        super().__init__(message)
        # RFC 6750 section 3.1: a request without credentials gets no error code.
        self.token_given = token_given


class Forbidden(Exception):
    """An authenticated caller asking for rows their token does not grant (row scope)."""


class ExportNotFound(Exception):
    """No such export, or one the caller may not see (the two are indistinguishable)."""

    def __init__(self, export_id: str) -> None:
        super().__init__(f"Export {export_id} not found")


class ExportExpired(Exception):
    """The export's file has passed its expiresAt."""

    def __init__(self, export_id: str, expires_at: str) -> None:
        super().__init__(
            f"Export {export_id} expired at {expires_at}; request a new export instead"
        )


class ExportFinished(Exception):
    """A cancellation of an export that has already ended."""

    def __init__(self, export_id: str, phase: str) -> None:
        super().__init__(f"Export {export_id} is already {phase} and cannot be cancelled")


class TooManyRows(Exception):
    """The filters select more rows than one export may hold."""

    def __init__(self, count: int, maximum: int) -> None:
        super().__init__(
            f"Export would contain {count:,} rows, which exceeds the maximum of {maximum:,}."
            " Please narrow your filters."
        )
        self.count = count
        self.maximum = maximum


class IdempotencyKeyReused(Exception):
    """An Idempotency-Key already used by this user for a different request body."""

    def __init__(self) -> None:
        super().__init__(
            "Idempotency-Key was already used with a different request body;"
            " use a new key for a new request"
        )


class Unavailable(Exception):
    """A dependency (the database or the Kubernetes API) failed or did not answer in time."""


_STATUS: dict[type[Exception], HTTPStatus] = {
    InvalidRequest: HTTPStatus.BAD_REQUEST,
    Unauthenticated: HTTPStatus.UNAUTHORIZED,
    Forbidden: HTTPStatus.FORBIDDEN,
    ExportNotFound: HTTPStatus.NOT_FOUND,
    ExportFinished: HTTPStatus.CONFLICT,
    ExportExpired: HTTPStatus.GONE,
    TooManyRows: HTTPStatus.UNPROCESSABLE_ENTITY,
    IdempotencyKeyReused: HTTPStatus.UNPROCESSABLE_ENTITY,
    Unavailable: HTTPStatus.SERVICE_UNAVAILABLE,
}

# RFC 6750: a 401 for a bearer-protected resource says which scheme it wants.
BEARER_CHALLENGE = 'Bearer realm="streamexport"'


def error_body(status: int, message: str | list[str]) -> dict[str, Any]:
    return {"statusCode": status, "message": message, "error": HTTPStatus(status).phrase}


def error_response(
    status: int, message: str | list[str], headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(error_body(status, message), status=status, headers=headers)


def _domain_response(exc: Exception) -> web.Response | None:
    status = next((s for kind, s in _STATUS.items() if isinstance(exc, kind)), None)
    if status is None:
        return None
    if isinstance(exc, InvalidRequest):
        return error_response(status, list(exc.errors))
    headers = None
    if isinstance(exc, Unauthenticated):
        challenge = BEARER_CHALLENGE
        if exc.token_given:
            challenge += ', error="invalid_token"'
        headers = {"WWW-Authenticate": challenge}
    return error_response(status, str(exc), headers)


def _http_exception_response(request: web.Request, exc: web.HTTPException) -> web.Response:
    status = exc.status
    headers: dict[str, str] = {}
    if isinstance(exc, web.HTTPMethodNotAllowed):
        headers["Allow"] = ", ".join(sorted(exc.allowed_methods))
        message = f"Method {request.method} is not allowed on {request.path}"
    elif status == HTTPStatus.NOT_FOUND:
        message = f"Cannot {request.method} {request.path}"
    else:
        # aiohttp's default text is "<status>: <reason>"; a text given on raise says more.
        text = exc.text or ""
        message = exc.reason if not text or text.startswith(f"{status}:") else text
    return error_response(status, message, headers or None)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Translate every failure into a JSON error body, exactly once."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _http_exception_response(request, exc)
    except Exception as exc:
        response = _domain_response(exc)
        if response is not None:
            if response.status >= 500:
                log.warning("dependency unavailable: %s", exc)
            return response
        log.exception("unhandled error")
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error")
