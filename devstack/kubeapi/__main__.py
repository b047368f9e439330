"""`python -m devstack.kubeapi`: serve the Kubernetes API stand-in in the foreground."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from .server import KubeAPIServer

log = logging.getLogger("devstack.kubeapi")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.kubeapi",
        description="Kubernetes API stand-in for tests and the local demo (not for production).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    parser.add_argument("--port", type=int, default=18443, help="TCP port (0 picks a free one)")
    parser.add_argument(
        "--crd",
        action="append",
        default=[],
        metavar="PATH",
        help="CustomResourceDefinition YAML file to load at startup (repeatable)",
    )
    parser.add_argument(
        "--namespace",
        action="append",
        default=[],
        metavar="NAME",
        help="namespace to create at startup besides 'default' (repeatable)",
    )
    parser.add_argument("--log-level", default="INFO", help="logging level (DEBUG logs requests)")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    namespaces = ("default", *(ns for ns in args.namespace if ns != "default"))
    async with KubeAPIServer(args.host, args.port, crds=args.crd, namespaces=namespaces) as server:
        log.info(
            "kubeapi ready url=%s crds=%d namespaces=%s",
            server.url,
            len(args.crd),
            ",".join(namespaces),
        )
        await stop.wait()
        log.info("kubeapi stopping url=%s", server.url)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    try:
        asyncio.run(serve(args))
    except (OSError, ValueError) as exc:  # port in use, unreadable or invalid CRD file
        log.error("kubeapi failed error=%r", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
