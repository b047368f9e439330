"""Pure functions between request bodies, Export resources and response bodies.

No I/O here: building the Export manifest, naming it, and mapping its status to the seed's
response fields are functions of their inputs, tested without a server. The GET body itself
(`export_body`, `phase`) lives in `streamexport_core.export_view`, because the operator builds
each webhook's body from it too; it is re-exported here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from api.auth import User
from api.errors import ExportExpired
from streamexport_core.catalog import Catalog, Resource
from streamexport_core.contract import (
    API_VERSION,
    COMPLETED,
    FORMATS,
    IDEMPOTENCY_LABEL,
    KIND,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    OWNER_LABEL,
    QUEUED,
)
from streamexport_core.errors import InvalidRequest, UnknownResource
from streamexport_core.export_view import export_body as export_body
from streamexport_core.export_view import phase as phase
from streamexport_core.filters import parse_filters
from streamexport_core.options import (
    OPTION_FIELDS,
    ExportOptions,
    parse_options,
    with_columns,
)
from streamexport_core.timestamps import format_time, parse_time
from streamexport_core.webhooks import parse_notify

BODY_FIELDS = frozenset({"resourceType", "filters", "format", "notify", *OPTION_FIELDS})
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]{1,255}$"  # 1-255 visible ASCII characters, e.g. a UUID
QUEUED_MESSAGE = "Export queued. You will receive an email with the download link when ready."

Manifest = dict[str, Any]


@dataclass(frozen=True)
class CreateRequest:
    resource: Resource
    format: str
    filters: Mapping[str, Any]  # typed values, for the COUNT
    filters_json: Mapping[str, Any]  # the validated JSON values, for the spec
    request_hash: str
    options: ExportOptions = field(default_factory=ExportOptions)
    webhook_url: str | None = None  # notify.webhookUrl, its host on the allow-list


def parse_create_body(
    catalog: Catalog, body: Any, webhook_hosts: Sequence[str] = ()
) -> CreateRequest:
    """Validate a POST body; `InvalidRequest` lists every problem as `<field> <reason>`.

    `webhook_hosts`: the hosts a `notify.webhookUrl` may name (WEBHOOK_ALLOWED_HOSTS; none by
    default, so that every webhook is refused)."""
    if not isinstance(body, dict):
        raise InvalidRequest(["body must be a JSON object"])
    errors = [f"property {name} should not exist" for name in body if name not in BODY_FIELDS]

    resource: Resource | None = None
    resource_type = body.get("resourceType")
    if resource_type is None:
        errors.append("resourceType should not be empty")
    elif not isinstance(resource_type, str):
        errors.append("resourceType must be a string")
    else:
        try:
            resource = catalog.get(resource_type)
        except UnknownResource as exc:
            errors.extend(exc.errors)

    fmt = body.get("format")
    if fmt is None:
        errors.append("format should not be empty")
    elif not isinstance(fmt, str) or fmt.lower() not in FORMATS:
        errors.append(f"format must be one of the following values: {', '.join(FORMATS)}")

    raw_filters = body.get("filters")
    filters: dict[str, Any] = {}
    if raw_filters is not None and not isinstance(raw_filters, dict):
        errors.append("filters must be an object")
    elif resource is not None:
        try:
            filters = parse_filters(resource, raw_filters)
        except InvalidRequest as exc:
            errors.extend(exc.errors)
    options = ExportOptions()
    if resource is not None and isinstance(fmt, str) and fmt.lower() in FORMATS:
        try:
            options = parse_options(resource, fmt.lower(), body)
        except InvalidRequest as exc:
            errors.extend(exc.errors)
    webhook_url = None
    try:
        webhook_url = parse_notify(body.get("notify"), webhook_hosts)
    except InvalidRequest as exc:
        errors.extend(exc.errors)
    if errors:
        raise InvalidRequest(errors)

    assert resource is not None and isinstance(fmt, str)
    fmt = fmt.lower()
    filters_json = {name: raw_filters[name] for name in filters} if raw_filters else {}
    normalised = {"resourceType": resource.resource_type, "format": fmt, "filters": filters_json}
    # Only options that differ from the default: a body without them hashes as it always did.
    normalised.update(options.to_spec())
    if webhook_url is not None:
        normalised["notify"] = {"webhookUrl": webhook_url}
    return CreateRequest(
        resource=with_columns(resource, options.columns),
        options=options,
        format=fmt,
        filters=filters,
        filters_json=filters_json,
        request_hash=_sha256(json.dumps(normalised, sort_keys=True, separators=(",", ":"))),
        webhook_url=webhook_url,
    )


def parse_idempotency_key(values: list[str]) -> str | None:
    """The `Idempotency-Key` header's value, if one was sent; `InvalidRequest` if malformed."""
    if not values:
        return None
    if len(values) > 1:
        raise InvalidRequest(["Idempotency-Key must be given at most once"])
    if not re.fullmatch(IDEMPOTENCY_KEY_PATTERN, values[0]):
        raise InvalidRequest(["Idempotency-Key must be 1 to 255 visible ASCII characters"])
    return values[0]


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def owner_label(user_id: str) -> str:
    return _sha256(user_id)[:40]


def idempotency_key_hash(user_id: str, key: str) -> str:
    """The full hash goes in spec.idempotencyKey; its first 63 characters are the label."""
    return _sha256(f"{user_id}:{key}")


def idempotent_name(key_hash: str, generation: int) -> str:
    """The Export name for a keyed request: a UUID derived from the key, so that concurrent
    retries (from any API replica) collide on create instead of making two exports.

    `generation` moves on when the export of the previous one has left the window.
    """
    digest = hashlib.sha256(f"{key_hash}:{generation}".encode()).digest()
    value = int.from_bytes(digest[:16], "big")
    # RFC 9562 version 8 ("custom") and the RFC 4122 variant.
    value = (value & ~(0xF000 << 64)) | (0x8000 << 64)
    value = (value & ~(0xC000 << 48)) | (0x8000 << 48)
    return str(uuid.UUID(int=value))


def build_export(
    *,
    name: str,
    namespace: str,
    request: CreateRequest,
    user: User,
    estimated_rows: int,
    key_hash: str | None,
) -> Manifest:
    labels = {MANAGED_BY_LABEL: MANAGED_BY, OWNER_LABEL: owner_label(user.id)}
    spec: dict[str, Any] = {
        "resourceType": request.resource.resource_type,
        "format": request.format,
        "filters": dict(request.filters_json),
        "requestedBy": {"userId": user.id, "email": user.email},
        "estimatedRowCount": estimated_rows,
        "requestHash": request.request_hash,
    }
    if request.resource.granted is not None:
        spec["scope"] = request.resource.granted.to_json()
    spec.update(request.options.to_spec())
    if request.webhook_url is not None:
        spec["notify"] = {"webhookUrl": request.webhook_url}
    if key_hash is not None:
        labels[IDEMPOTENCY_LABEL] = key_hash[:63]
        spec["idempotencyKey"] = key_hash
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": spec,
    }


def accepted_body(export: Manifest) -> dict[str, Any]:
    """The seed's 202 body; the same for the original request and its idempotent replays."""
    spec = export["spec"]
    return {
        "exportId": export["metadata"]["name"],
        "status": QUEUED,
        "estimatedRowCount": spec["estimatedRowCount"],
        "format": spec["format"],
        "message": QUEUED_MESSAGE,
    }


def visible_to(export: Manifest, user: User) -> bool:
    if user.is_super_admin:
        return True
    requested_by = (export.get("spec") or {}).get("requestedBy") or {}
    return bool(requested_by.get("userId") == user.id)


def created_within(export: Manifest, now: dt.datetime, seconds: int) -> bool:
    created = parse_time(export.get("metadata", {}).get("creationTimestamp"))
    # A server that sets no creationTimestamp cannot age the export out.
    return created is None or now - created < dt.timedelta(seconds=seconds)


def download_window(export: Manifest, now: dt.datetime, ttl: int) -> int | None:
    """Seconds a fresh download URL may live, None when there is no file to download;
    `ExportExpired` once the file's expiresAt has passed."""
    status = export.get("status") or {}
    expires_at = parse_time(status.get("expiresAt"))
    if expires_at is not None and expires_at <= now:
        raise ExportExpired(export["metadata"]["name"], format_time(expires_at))
    if phase(export) != COMPLETED or not status.get("objectKey"):
        return None
    if expires_at is None:
        return ttl
    # Whole seconds, never past expiresAt (SigV4 takes an integer X-Amz-Expires).
    return max(1, min(ttl, int((expires_at - now).total_seconds())))
