"""`python -m streamexport_operator`: run the operator with settings from the environment.

Watches OPERATOR_NAMESPACES (or all with `*`), standalone unless OPERATOR_PEERING names a
kopf peering for an active/standby pair, with `/healthz` on OPERATOR_LIVENESS_PORT and
JSON log lines that name the export they are about.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import threading
from collections.abc import Sequence

import kopf

from streamexport_core.clock import Clock, system_clock
from streamexport_operator.settings import Settings, SettingsError

Flag = asyncio.Event | threading.Event
# Upper bound of a random peering priority: two pods of a pair all but never draw the same one
# (kopf pauses every operator of a peering when the highest priority is shared).
MAX_RANDOM_PRIORITY = 2**31 - 1


def peering_priority(settings: Settings) -> int | None:
    """OPERATOR_PEERING_PRIORITY, else a random one per process when peering; None standalone."""
    if settings.peering is None:
        return None
    if settings.peering_priority is not None:
        return settings.peering_priority
    return random.randint(1, MAX_RANDOM_PRIORITY)


async def run(
    settings: Settings,
    *,
    stop_flag: Flag | None = None,
    ready_flag: Flag | None = None,
    clock: Clock = system_clock,
) -> None:
    """Run the operator until stopped (SIGTERM/SIGINT in the main thread, or `stop_flag`);
    `clock` is its "now" for retention."""
    from streamexport_operator import handlers, webhooks  # noqa: F401 - registers the handlers

    await kopf.operator(
        standalone=settings.peering is None,
        peering_name=settings.peering,
        priority=peering_priority(settings),
        clusterwide=settings.clusterwide,
        namespaces=() if settings.clusterwide else settings.namespaces,
        liveness_endpoint=(
            f"http://0.0.0.0:{settings.liveness_port}/healthz" if settings.liveness_port else None
        ),
        memo=kopf.Memo(settings=settings, clock=clock),
        stop_flag=stop_flag,
        ready_flag=ready_flag,
    )


def configure_logging(settings: Settings) -> None:
    """kopf's JSON formatter: one object per line, the export under `object`."""
    kopf.configure(
        debug=settings.log_level == "DEBUG",
        quiet=settings.log_level in ("WARNING", "ERROR"),
        log_format=kopf.LogFormat.JSON,
        log_refkey="object",
    )
    logging.getLogger().setLevel(settings.log_level)
    if settings.log_level != "DEBUG":
        # One line per event handled and per probe is noise; our own lines say what happened.
        for chatty in ("kopf.objects", "aiohttp.access"):
            logging.getLogger(chatty).setLevel(logging.WARNING)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Only `--help`: every setting is an environment variable (docs/configuration.md)."""
    parser = argparse.ArgumentParser(
        prog="python -m streamexport_operator",
        description=(
            "Run the streamexport operator (kopf): one Job per Export, status from the Job and "
            "its pods, emails. Configured only by environment variables: EXPORTER_IMAGE, "
            "S3_BUCKET, OPERATOR_NAMESPACES, SMTP_HOST, ...; docs/configuration.md lists them "
            "all. A missing or bad one stops it with one line naming it (exit code 2)."
        ),
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, *, clock: Clock = system_clock) -> int:
    parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"streamexport-operator: configuration error: {error}", file=sys.stderr)
        return 2
    configure_logging(settings)
    asyncio.run(run(settings, clock=clock))
    return 0


if __name__ == "__main__":
    sys.exit(main())
