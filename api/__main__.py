"""`python -m api`: serve the API, configured only by environment variables.

See docs/configuration.md ("API") for the variables; a missing or bad one stops the process
with one line naming it.
"""

from __future__ import annotations

import logging
import sys

from aiohttp import web

from api.app import create_app
from api.logs import configure_logging
from api.settings import Settings, SettingsError
from streamexport_core.catalog import CatalogError


def main() -> int:
    try:
        settings = Settings.from_env()
        app = create_app(settings)
    except (SettingsError, CatalogError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    logging.getLogger("api").info("starting", extra={"host": settings.host, "port": settings.port})
    web.run_app(app, host=settings.host, port=settings.port, access_log=None, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
