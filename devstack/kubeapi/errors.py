"""Kubernetes-style API errors: every failure leaves the stand-in as a `Status` object."""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]


class KubeError(Exception):
    """An API error with its HTTP code and Kubernetes `reason` (e.g. 404 NotFound)."""

    def __init__(self, code: int, reason: str, message: str, details: JSON | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> JSON:
        """The `Status` body that a real kube-apiserver would send for this error."""
        body: JSON = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def _details(kind: str, name: str | None, group: str) -> JSON:
    details: JSON = {"kind": kind}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    return details


def not_found(plural: str, group: str, name: str) -> KubeError:
    what = f"{plural}.{group}" if group else plural
    return KubeError(404, "NotFound", f'{what} "{name}" not found', _details(plural, name, group))


def already_exists(plural: str, group: str, name: str) -> KubeError:
    what = f"{plural}.{group}" if group else plural
    return KubeError(
        409, "AlreadyExists", f'{what} "{name}" already exists', _details(plural, name, group)
    )


def conflict(plural: str, group: str, name: str, why: str) -> KubeError:
    what = f"{plural}.{group}" if group else plural
    return KubeError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {what} "{name}": {why}',
        _details(plural, name, group),
    )


def invalid(kind: str, name: str, message: str) -> KubeError:
    return KubeError(422, "Invalid", f'{kind} "{name}" is invalid: {message}', {"kind": kind})


def bad_request(message: str) -> KubeError:
    return KubeError(400, "BadRequest", message)


def path_not_found(path: str) -> KubeError:
    # The real server answers unknown URLs with a bare 404 Status, reason NotFound.
    return KubeError(404, "NotFound", f"the server could not find the requested resource ({path})")


def method_not_allowed(method: str, path: str) -> KubeError:
    return KubeError(405, "MethodNotAllowed", f"{method} is not supported on {path}")


def unsupported_media_type(content_type: str, accepted: str) -> KubeError:
    return KubeError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format ({content_type})"
        f" - accepted media types include: {accepted}",
    )


def gone(message: str) -> KubeError:
    # Watches resumed from a version the history no longer holds: clients must relist.
    return KubeError(410, "Expired", message)
