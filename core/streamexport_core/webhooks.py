"""Signed webhooks when an export ends: what the API, the operator and a receiver share.

Pure (no I/O): the request option (`notify.webhookUrl`) and its host allow-list, the event's
stable id and type, its body, and the signature.

- Allow-list: the installation names the hosts a webhook may go to (`WEBHOOK_ALLOWED_HOSTS`,
  comma-separated: `hooks.example.com`, `*.example.com` for any subdomain, `host:8443` for
  one port only); empty, the default, allows none, so no user can make the operator call an
  internal address. The API checks a request's URL against it, and the operator again before
  every delivery.
- Event: one per export and terminal phase, its id a UUID derived from the Export's uid and
  the phase (`event_id`), so that every retry, also after an operator restart, carries the
  same id and a receiver can drop duplicates. Delivery is at least once.
- Body (`webhook_body`): the export's GET body (`streamexport_core.export_view.export_body`)
  without any URL (`downloadUrl`, `downloadUrlExpiresAt`, `notify`), plus `eventId` and `type`
  (`export.completed`, `export.failed`, `export.cancelled`). A receiver fetches the download
  link with a GET of the export.
- Signature (`sign`, `verify`): header `Streamexport-Signature: t=<unix seconds>,v1=<hex>`,
  `v1` = HMAC-SHA256 with the installation's secret over `<t>.<the body's bytes>`. A receiver
  recomputes it and refuses a timestamp more than five minutes away from its own clock
  (`DEFAULT_TOLERANCE_SECONDS`): a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final
from urllib.parse import urlsplit

from streamexport_core.contract import CANCELLED, COMPLETED, FAILED
from streamexport_core.errors import InvalidRequest, SettingsError
from streamexport_core.export_view import export_body, phase

SIGNATURE_HEADER: Final = "Streamexport-Signature"
EVENT_ID_HEADER: Final = "Streamexport-Event-Id"
EVENT_TYPE_HEADER: Final = "Streamexport-Event-Type"
DEFAULT_TOLERANCE_SECONDS: Final = 300.0
MAX_URL_LENGTH: Final = 2048
# What the OpenAPI document declares; `check_webhook_url` checks more (the host, no userinfo).
URL_PATTERN: Final = r"^https?://[!-\[\]-~]+$"
EVENT_TYPES: Final = {
    COMPLETED: "export.completed",
    FAILED: "export.failed",
    CANCELLED: "export.cancelled",
}
# Fields of the GET body a webhook never carries: the download link (a bearer credential for
# the file), its expiry, and where the webhook itself goes.
URL_FIELDS: Final = ("downloadUrl", "downloadUrlExpiresAt", "notify")
NOTIFY_FIELDS: Final = ("webhookUrl",)
_EVENT_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, "https://streamexport.io/webhooks")
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


class SignatureError(ValueError):
    """A webhook request whose signature a receiver must refuse; the message says why."""


# --- allow-list -------------------------------------------------------------------------


def parse_allowed_hosts(
    raw: str | None, variable: str = "WEBHOOK_ALLOWED_HOSTS"
) -> tuple[str, ...]:
    """The entries of a comma-separated allow-list, lower-case; `SettingsError` names a bad one."""
    entries = []
    for part in (raw or "").split(","):
        entry = part.strip().lower().rstrip(".")
        if not entry:
            continue
        host, port = _split_entry(entry)
        name = host[2:] if host.startswith("*.") else host
        if not name or any(c in name for c in "*/@?#\\ ") or (port is not None and port < 1):
            raise SettingsError(
                f"{variable}: {part.strip()!r} is not a host name, *.domain or host:port"
            )
        entries.append(entry)
    return tuple(entries)


def _split_entry(entry: str) -> tuple[str, int | None]:
    """`host`, `host:port`, `[v6]`, `[v6]:port` → (host, port or None)."""
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None
    elif entry.count(":") == 1:
        host, port = entry.split(":")
    else:
        host, port = entry, None
    if port is None:
        return host, None
    return host, int(port) if port.isdigit() and int(port) <= 65535 else 0


def host_allowed(host: str, port: int, allowed: Iterable[str]) -> bool:
    """Whether `host` (and `port`) is on the allow-list: an exact name, a `*.domain` for any
    name below that domain (not the domain itself), optionally restricted to one port."""
    host = host.lower().rstrip(".")
    for entry in allowed:
        name, only_port = _split_entry(entry)
        if only_port is not None and only_port != port:
            continue
        if name.startswith("*."):
            if host.endswith(name[1:]) and len(host) > len(name) - 1:
                return True
        elif host == name:
            return True
    return False


def check_webhook_url(raw: Any, allowed: Sequence[str]) -> str:
    """An absolute `http://` or `https://` URL (scheme in lower case) without credentials
    or fragment whose host is on the allow-list; `InvalidRequest` naming `notify.webhookUrl`
    otherwise."""
    field = "notify.webhookUrl"
    if not isinstance(raw, str):
        raise InvalidRequest([f"{field} must be a string"])
    if len(raw) > MAX_URL_LENGTH:
        raise InvalidRequest([f"{field} must be at most {MAX_URL_LENGTH} characters"])
    # Visible ASCII only: a parser that reads a backslash or a space differently from ours
    # could otherwise send the request to another host than the one checked here.
    if not raw or any(not "!" <= c <= "~" or c == "\\" for c in raw):
        raise InvalidRequest([f"{field} must be an absolute http or https URL"])
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise InvalidRequest([f"{field} must be an absolute http or https URL"]) from None
    if not raw.startswith(("http://", "https://")) or not parts.hostname:
        raise InvalidRequest([f"{field} must be an absolute http or https URL"])
    if "@" in parts.netloc:
        raise InvalidRequest([f"{field} must not carry a user name or password"])
    if parts.fragment or raw.endswith("#"):
        raise InvalidRequest([f"{field} must not have a #fragment"])
    host = parts.hostname
    if not host_allowed(host, port or _DEFAULT_PORTS[parts.scheme], allowed):
        why = (
            "this installation allows no webhook hosts"
            if not allowed
            else "it is not on this installation's webhook allow-list"
        )
        raise InvalidRequest([f"{field} host {host} is not allowed: {why}"])
    return raw


def parse_notify(raw: Any, allowed: Sequence[str]) -> str | None:
    """The request's `notify` object: its `webhookUrl`, checked, or None when absent."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InvalidRequest(["notify must be an object"])
    errors = [
        f"property notify.{name} should not exist" for name in raw if name not in NOTIFY_FIELDS
    ]
    url = None
    if raw.get("webhookUrl") is not None:
        try:
            url = check_webhook_url(raw["webhookUrl"], allowed)
        except InvalidRequest as exc:
            errors.extend(exc.errors)
    if errors:
        raise InvalidRequest(errors)
    return url


# --- the event --------------------------------------------------------------------------


def event_id(export: Mapping[str, Any]) -> str:
    """The same id for every delivery of one Export's end (its uid: names are reused)."""
    meta = export.get("metadata") or {}
    uid = meta.get("uid") or f"{meta.get('namespace')}/{meta.get('name')}"
    return str(uuid.uuid5(_EVENT_NAMESPACE, f"{uid}/{phase(export)}"))


def event_type(export: Mapping[str, Any]) -> str:
    """`export.completed`, `export.failed` or `export.cancelled`; KeyError before the end."""
    return EVENT_TYPES[phase(export)]


def webhook_body(export: Mapping[str, Any], event: str) -> dict[str, Any]:
    """The GET body without URLs, plus `eventId` and `type`."""
    body = {"eventId": event, "type": event_type(export)}
    body.update(
        (name, value) for name, value in export_body(export).items() if name not in URL_FIELDS
    )
    return body


def encode_body(body: Mapping[str, Any]) -> bytes:
    """The bytes that are sent and signed (compact JSON, UTF-8)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# --- the signature ----------------------------------------------------------------------


def _digest(secret: str | bytes, timestamp: int, body: bytes) -> str:
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """The `Streamexport-Signature` header's value: `t=<timestamp>,v1=<hex HMAC-SHA256>`."""
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify(
    header: str | None,
    body: bytes,
    secret: str | bytes,
    *,
    now: float,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
) -> int:
    """The signed timestamp if `header` signs `body` with `secret` within `tolerance` seconds
    of `now` (Unix seconds); `SignatureError` saying why not otherwise. Several `v1` values
    (a secret being rotated) pass when one matches."""
    if not header:
        raise SignatureError(f"no {SIGNATURE_HEADER} header")
    timestamp: int | None = None
    signatures = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError(
            f"malformed {SIGNATURE_HEADER} header: expected t=<unix seconds>,v1=<hex>"
        )
    age = now - timestamp
    if age > tolerance:
        raise SignatureError(
            f"signature timestamp is {age:.0f} s old, beyond the {tolerance:.0f} s tolerance"
            " (a replay?)"
        )
    if -age > tolerance:
        raise SignatureError(
            f"signature timestamp is {-age:.0f} s in the future, beyond the"
            f" {tolerance:.0f} s tolerance"
        )
    expected = _digest(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise SignatureError(
            "signature does not match the body (another secret, or the body was changed)"
        )
    return timestamp
