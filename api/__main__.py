"""`python -m api`: serve the API, configured only by environment variables.

See docs/configuration.md ("API") for the variables; a missing or bad one stops the process
with one line naming it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from aiohttp import web

from api.app import create_app
from api.logs import configure_logging
from api.settings import Settings, SettingsError
from streamexport_core.catalog import CatalogError
from streamexport_core.clock import Clock, system_clock


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Only `--help`: every setting is an environment variable (docs/configuration.md, "API")."""
    parser = argparse.ArgumentParser(
        prog="python -m api",
        description=(
            "Serve the streamexport REST API (POST/GET/DELETE /api/v1/exports). Configured only "
            "by environment variables: DATABASE_URL, S3_BUCKET, JWT_SECRET (or JWT_ALGORITHM="
            "RS256 with JWT_PUBLIC_KEY), API_HOST, API_PORT, ...; docs/configuration.md lists "
            "them all. A missing or bad one stops it with one line naming it (exit code 2)."
        ),
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, *, clock: Clock = system_clock) -> int:
    parse_args(argv)
    try:
        settings = Settings.from_env()
        app = create_app(settings, clock=clock)
    except (SettingsError, CatalogError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    logging.getLogger("api").info("starting", extra={"host": settings.host, "port": settings.port})
    web.run_app(app, host=settings.host, port=settings.port, access_log=None, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
