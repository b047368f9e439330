"""The aiohttp application: middlewares, routes, and the clients opened in `cleanup_ctx`."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from api import parselog
from api.auth import Authenticator
from api.counting import RowCounter
from api.errors import error_middleware
from api.kube import KubeClient
from api.metrics import Metrics
from api.middleware import METRICS_KEY, request_middleware
from api.openapi import openapi_document
from api.presign import Presigner
from api.routes import setup_routes
from api.service import ExportService
from api.settings import Settings, SettingsError
from api.views import AUTH_KEY, OPENAPI_KEY, SERVICE_KEY
from streamexport_core.catalog import Catalog, load_catalog
from streamexport_core.clock import Clock, system_clock

# A create body is a few hundred bytes; anything near this is not a request we want.
MAX_BODY_BYTES = 64 * 1024

log = logging.getLogger("api.app")

SETTINGS_KEY = web.AppKey("settings", Settings)
CATALOG_KEY = web.AppKey("catalog", Catalog)


def create_app(settings: Settings, *, clock: Clock = system_clock) -> web.Application:
    """The API application; its database pool and clients open when it starts. `clock` is what
    the API calls "now" for expiry and idempotency windows."""
    parselog.install()
    app = web.Application(
        middlewares=[request_middleware, error_middleware],
        client_max_size=MAX_BODY_BYTES,
    )
    catalog = load_catalog(settings.catalog_path)
    _check_scopes(settings, catalog)
    app[SETTINGS_KEY] = settings
    app[CATALOG_KEY] = catalog
    app[METRICS_KEY] = Metrics()
    app[AUTH_KEY] = Authenticator(settings)
    app[OPENAPI_KEY] = openapi_document(catalog)
    app.cleanup_ctx.append(functools.partial(_service, clock=clock))
    setup_routes(app)
    return app


def _check_scopes(settings: Settings, catalog: Catalog) -> None:
    unknown = sorted(settings.admin_unscoped_resources - set(catalog.resources))
    if unknown:
        raise SettingsError(
            f"ADMIN_UNSCOPED_RESOURCES names {', '.join(unknown)}, not in the catalog"
            f" ({', '.join(catalog.resource_types)})"
        )


async def _service(app: web.Application, *, clock: Clock) -> AsyncIterator[None]:
    settings = app[SETTINGS_KEY]
    if open_resources := app[CATALOG_KEY].open_resources:
        # Loud on purpose, once at start-up: every authenticated user reads every row of these.
        log.warning(
            "catalog resources without a row scope are open to every authenticated user",
            extra={"open_resources": ",".join(open_resources)},
        )
    kube = KubeClient.from_settings(settings)
    presigner = await Presigner.create(settings)
    counter = RowCounter(settings)
    await counter.open()
    try:
        await kube.open()
        app[SERVICE_KEY] = ExportService(
            settings, app[CATALOG_KEY], counter, kube, presigner, clock=clock
        )
        yield
    finally:
        await kube.close()
        await counter.close()
