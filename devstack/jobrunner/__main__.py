"""`python -m devstack.jobrunner`: run Jobs from a Kubernetes API as local processes."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import signal
import tempfile
from collections.abc import Callable
from pathlib import Path

from devstack.jobrunner.runner import JobRunner
from devstack.kubeclient import KubeClient


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.jobrunner",
        description=(
            "Development stand-in for the kubelet and the Job controller (not a production"
            " component): runs the Jobs of a Kubernetes API as local processes."
        ),
    )
    parser.add_argument("--kube-url", required=True, help="Kubernetes API base URL")
    parser.add_argument("--namespace", default=None, help="only this namespace (default: all)")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="per-pod files (default: a new temp dir)"
    )
    parser.add_argument(
        "--backoff-seconds",
        type=float,
        default=1.0,
        help="pause between retries, times the number of failed pods (Kubernetes: 10 s, doubling)",
    )
    parser.add_argument(
        "--watch-timeout",
        type=int,
        default=300,
        help="seconds each watch lasts before the Jobs are listed again (default: 300)",
    )
    parser.add_argument(
        "--shutdown-grace",
        type=float,
        default=5.0,
        help="on SIGTERM/SIGINT, seconds the running Jobs' processes get before SIGKILL",
    )
    parser.add_argument(
        "--container-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a default for every container's environment (its own env wins), standing in"
        " for a node-level mount, e.g. STREAMEXPORT_CATALOG=/path/catalog.yaml; repeatable",
    )
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ...")
    args = parser.parse_args(argv)
    container_env = dict(item.partition("=")[::2] for item in args.container_env)
    if any(not name for name in container_env):
        parser.error("--container-env takes NAME=VALUE")
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="jobrunner-"))
    make_runner = functools.partial(
        JobRunner,
        workdir=workdir,
        namespace=args.namespace,
        backoff_seconds=args.backoff_seconds,
        watch_timeout_seconds=args.watch_timeout,
        shutdown_grace_seconds=args.shutdown_grace,
        container_env=container_env,
    )
    asyncio.run(_serve(args.kube_url, make_runner))


async def _serve(url: str, make_runner: Callable[[KubeClient], JobRunner]) -> None:
    """Run until SIGINT/SIGTERM; then stop the Jobs' processes and return."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with KubeClient(url) as kube:
        runner = asyncio.create_task(make_runner(kube).run())
        waiter = asyncio.create_task(stop.wait())
        await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if runner.done():
            runner.result()  # it never ends by itself: raise what ended it
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
    logging.getLogger("devstack.jobrunner").info("event=stopped")


if __name__ == "__main__":
    main()
