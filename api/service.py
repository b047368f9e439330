"""What the endpoints do, in terms of the catalog, the COUNT, the Export resource and S3.

Views translate HTTP to these calls and back; this module raises the domain errors of
`api.errors` and never sees a request or a response.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, replace
from typing import Any

from api.auth import User
from api.counting import PING_TIMEOUT_SECONDS, RowCounter
from api.errors import (
    ExportFinished,
    ExportNotFound,
    IdempotencyKeyReused,
    TooManyRows,
    Unavailable,
)
from api.export_cache import ExportCache
from api.exports import (
    CreateRequest,
    Manifest,
    accepted_body,
    build_export,
    created_within,
    download_window,
    export_body,
    idempotency_key_hash,
    idempotent_name,
    parse_create_body,
    phase,
    visible_to,
)
from api.kube import AlreadyExists, Conflict, KubeClient, KubeError
from api.listing import ListQuery
from api.presign import Presigner
from api.scoping import check_filters, scoped_resource
from api.settings import Settings
from streamexport_core.catalog import Catalog
from streamexport_core.clock import Clock, system_clock
from streamexport_core.contract import (
    CANCEL_ANNOTATION,
    TERMINAL_PHASES,
)
from streamexport_core.timestamps import format_time

log = logging.getLogger("api.service")

# Each generation of a key's name is one window old; retention deletes old exports, so the
# chain is short (30-day retention / 1-day window) and this bound is only a guard.
MAX_KEY_GENERATIONS = 64
CANCEL_ATTEMPTS = 3


@dataclass(frozen=True)
class Created:
    body: dict[str, Any]
    replayed: bool


class ExportService:
    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        counter: RowCounter,
        kube: KubeClient,
        presigner: Presigner,
        cache: ExportCache,
        clock: Clock = system_clock,
    ) -> None:
        self._settings = settings
        # "Now" for expiry (410), the idempotency window and cancel requests: a parameter, so
        # that a test can move it instead of waiting.
        self._clock = clock
        self._namespace = settings.export_namespace
        self._catalog = catalog
        self._counter = counter
        self._kube = kube
        self._presigner = presigner
        self._cache = cache

    async def create(self, user: User, body: Any, idempotency_key: str | None) -> Created:
        """Validate, count, and create the Export; a keyed repeat returns the original."""
        request = parse_create_body(self._catalog, body, self._settings.webhook_allowed_hosts)
        # Whose rows: resolved from the token once, then recorded in the spec (403 if none).
        request = replace(
            request,
            resource=scoped_resource(
                request.resource, user, self._settings.admin_unscoped_resources
            ),
        )
        check_filters(request.resource, request.filters)
        name, key_hash = str(uuid.uuid4()), None
        if idempotency_key is not None:
            key_hash = idempotency_key_hash(user.id, idempotency_key)
            name, existing = await self._key_slot(key_hash)
            if existing is not None:
                return Created(_replay(existing, request), replayed=True)

        rows = await self._counter.count(request.resource, request.filters)
        if rows > self._settings.max_export_rows:
            raise TooManyRows(rows, self._settings.max_export_rows)

        manifest = build_export(
            name=name,
            namespace=self._namespace,
            request=request,
            user=user,
            estimated_rows=rows,
            key_hash=key_hash,
        )
        try:
            created = await self._kube.create_export(self._namespace, manifest)
        except AlreadyExists:
            # A concurrent request with the same key won the race: answer as its replay.
            existing = await self._kube.get_export(self._namespace, name)
            if existing is None:
                raise Unavailable("The export changed while being created; retry") from None
            return Created(_replay(existing, request), replayed=True)
        self._cache.remember_created(created)  # the caller's next list shows it
        log.info(
            "export created",
            extra={
                "export": name,
                "user": user.id,
                "rows": rows,
                "format": request.format,
                "scope": _describe_scope(request),
            },
        )
        return Created(accepted_body(manifest), replayed=False)

    async def _key_slot(self, key_hash: str) -> tuple[str, Manifest | None]:
        """The name for a keyed request, and the export already made with it in the window."""
        now = self._clock()
        for generation in range(MAX_KEY_GENERATIONS):
            name = idempotent_name(key_hash, generation)
            existing = await self._kube.get_export(self._namespace, name)
            if existing is None:
                return name, None
            if created_within(existing, now, self._settings.idempotency_window_seconds):
                return name, existing
        raise Unavailable("Too many exports were made with this Idempotency-Key; use a new key")

    async def get(self, user: User, export_id: str) -> dict[str, Any]:
        """The export's state, with a freshly signed download URL when it is COMPLETED."""
        export = await self._visible(user, export_id)
        now = self._clock()
        seconds = download_window(export, now, self._settings.download_url_ttl_seconds)
        if seconds is None:
            return export_body(export)
        status = export["status"]
        link = await self._presigner.download_link(
            status["objectKey"], seconds, file_name=status.get("fileName")
        )
        return export_body(export, download_url=link.url, download_url_expires_at=link.expires_at)

    async def list_page(self, user: User, query: ListQuery) -> dict[str, Any]:
        """The caller's exports (every export for SUPER_ADMIN), newest first, one page."""
        owner = None if user.is_super_admin else user.id
        items, token = await self._cache.page(owner, query)
        return {"items": items, "continue": token}

    async def cancel(self, user: User, export_id: str) -> dict[str, Any]:
        """Record a cancellation request on the export for the operator to act on."""
        for _ in range(CANCEL_ATTEMPTS):
            export = await self._visible(user, export_id)
            current = phase(export)
            if current in TERMINAL_PHASES:
                raise ExportFinished(export["metadata"]["name"], current)
            metadata = export["metadata"]
            if CANCEL_ANNOTATION in (metadata.get("annotations") or {}):
                return export_body(export)
            requested = {CANCEL_ANNOTATION: format_time(self._clock())}
            patch_metadata: dict[str, Any] = {"annotations": requested}
            if metadata.get("resourceVersion"):
                # Conditional on what was read: a phase change in between is a 409 Conflict.
                patch_metadata["resourceVersion"] = metadata["resourceVersion"]
            try:
                updated = await self._kube.patch_export(
                    self._namespace, metadata["name"], {"metadata": patch_metadata}
                )
            except Conflict:
                continue
            except KubeError as exc:
                if exc.status == 404:
                    raise ExportNotFound(export_id) from None
                raise
            log.info("export cancellation requested", extra={"export": metadata["name"]})
            return export_body(updated)
        raise Unavailable("The export kept changing while being cancelled; retry")

    async def _visible(self, user: User, export_id: str) -> Manifest:
        name = _canonical_id(export_id)
        export = None if name is None else await self._kube.get_export(self._namespace, name)
        if export is None or not visible_to(export, user):
            raise ExportNotFound(export_id)
        return export

    async def readiness(self) -> dict[str, str]:
        """`ok` or `unavailable`, for the database, the Kubernetes API and the export list
        (`exportCache`: `ok` once listed and watching, else `syncing`)."""

        async def check(name: str, probe: Awaitable[object]) -> str:
            try:
                await probe
            except (Unavailable, KubeError) as exc:
                log.warning("not ready", extra={"dependency": name, "error": str(exc)})
                return "unavailable"
            return "ok"

        database, kubernetes = await asyncio.gather(
            check("database", self._counter.ping()),
            check(
                "kubernetes",
                self._kube.list_exports(self._namespace, limit=1, timeout=PING_TIMEOUT_SECONDS),
            ),
        )
        cache = "ok" if self._cache.synced else "syncing"
        return {"database": database, "kubernetes": kubernetes, "exportCache": cache}


def _replay(existing: Manifest, request: CreateRequest) -> dict[str, Any]:
    spec = existing.get("spec") or {}
    if spec.get("requestHash") != request.request_hash:
        raise IdempotencyKeyReused()
    granted = request.resource.granted
    if spec.get("scope") != (None if granted is None else granted.to_json()):
        # The same body from a token that now grants other rows is another request.
        raise IdempotencyKeyReused()
    return accepted_body(existing)


def _describe_scope(request: CreateRequest) -> str:
    granted = request.resource.granted
    return "open" if granted is None else granted.describe()


def _canonical_id(export_id: str) -> str | None:
    """Export ids are UUIDs; anything else cannot name an export (a 404, like a missing one)."""
    if len(export_id) != 36:
        return None
    try:
        return str(uuid.UUID(export_id))
    except ValueError:
        return None
