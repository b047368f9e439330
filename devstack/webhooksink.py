"""A local webhook receiver that checks what a real one must: development stand-in and test aid.

`python -m devstack.webhooksink --port 18095 --dir .stack/webhooks` (the secret from
WEBHOOK_SECRET). Every POST is verified with `streamexport_core.webhooks.verify`: a missing,
malformed or wrong signature, or a timestamp more than five minutes from now (a replay), is a
401 and not recorded. A good one is recorded (in memory, and as a line of
`deliveries.jsonl` in the folder) and answered 200, also when its `eventId` was seen before:
delivery is at least once, so duplicates are accepted and counted, as a receiver that drops
them by id would count them. `GET /deliveries` lists what was recorded; `--fail-first N`
answers the first N good requests 503, for retry tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from streamexport_core.webhooks import (
    DEFAULT_TOLERANCE_SECONDS,
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    SignatureError,
    verify,
)

log = logging.getLogger("devstack.webhooksink")
DELIVERIES_FILE = "deliveries.jsonl"


@dataclass
class Sink:
    """What the receiver has seen; its methods are the HTTP handlers."""

    secret: str
    folder: Path | None = None
    fail_first: int = 0
    clock: Callable[[], float] = time.time
    tolerance: float = DEFAULT_TOLERANCE_SECONDS
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why each refused request was refused
    failed: int = 0  # good requests answered 503 on purpose (fail_first)
    arrivals: list[float] = field(default_factory=list)  # when each good request came
    # Called after each recorded delivery, before the answer goes out (tests cut a link here).
    after_delivery: Callable[[], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def counts(self) -> Counter[str]:
        """Deliveries per event id (more than one: a duplicate, which at-least-once allows)."""
        with self._lock:
            return Counter(str(d["eventId"]) for d in self.deliveries)

    async def receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            timestamp = verify(
                request.headers.get(SIGNATURE_HEADER),
                body,
                self.secret,
                now=self.clock(),
                tolerance=self.tolerance,
            )
            event = json.loads(body)
        except (SignatureError, ValueError) as exc:
            with self._lock:
                self.refused.append(str(exc))
            log.warning("refused path=%s reason=%s", request.path, exc)
            return web.json_response({"error": str(exc)}, status=401)
        with self._lock:
            self.arrivals.append(self.clock())
            if self.failed < self.fail_first:
                self.failed += 1
                return web.json_response({"error": "failing on purpose"}, status=503)
            duplicate = any(d["eventId"] == event.get("eventId") for d in self.deliveries)
            delivery = {
                "eventId": event.get("eventId"),
                "headerEventId": request.headers.get(EVENT_ID_HEADER),
                "type": event.get("type"),
                "exportId": event.get("id"),
                "status": event.get("status"),
                "actualRowCount": event.get("actualRowCount"),
                "signedAt": timestamp,
                "receivedAt": self.clock(),
                "path": request.path_qs,
                "duplicate": duplicate,
                "body": event,
            }
            self.deliveries.append(delivery)
            if self.folder is not None:
                with (self.folder / DELIVERIES_FILE).open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(delivery) + "\n")
        if self.after_delivery is not None:
            self.after_delivery()
        log.info(
            "delivery event_id=%s type=%s export=%s duplicate=%s",
            delivery["eventId"],
            delivery["type"],
            delivery["exportId"],
            duplicate,
        )
        return web.json_response({"received": event.get("eventId"), "duplicate": duplicate})

    async def list_deliveries(self, request: web.Request) -> web.Response:
        with self._lock:
            return web.json_response({"deliveries": self.deliveries, "refused": self.refused})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/deliveries", self.list_deliveries)
        app.router.add_post("/{tail:.*}", self.receive)
        return app


def read_deliveries(folder: Path) -> list[dict[str, Any]]:
    """The deliveries a sink process recorded in `folder`, oldest first."""
    path = folder / DELIVERIES_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


class SinkThread:
    """The receiver on its own thread and event loop, on a fixed port: stoppable and
    restartable there (`start`, `stop`), as a receiver that goes down and comes back."""

    def __init__(self, sink: Sink, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sink = sink
        self.host = host
        self.port = port or _free_port(host)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped: asyncio.Event | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SinkThread:
        ready = threading.Event()

        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            self._stopped = asyncio.Event()
            runner = web.AppRunner(self.sink.app(), access_log=None)
            await runner.setup()
            await web.TCPSite(runner, self.host, self.port).start()
            ready.set()
            await self._stopped.wait()
            await runner.cleanup()

        self._thread = threading.Thread(
            target=asyncio.run, args=(serve(),), name="webhooksink", daemon=True
        )
        self._thread.start()
        if not ready.wait(10):
            raise TimeoutError("the webhook sink did not start")
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None or self._stopped is None:
            return
        self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(10)
        self._thread = None

    def __enter__(self) -> SinkThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.webhooksink", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18095)
    parser.add_argument("--dir", type=Path, required=True, help="folder for deliveries.jsonl")
    parser.add_argument("--fail-first", type=int, default=0, help="answer N good requests 503")
    args = parser.parse_args()
    secret = os.environ.get("WEBHOOK_SECRET", "")
    if not secret:
        parser.error("WEBHOOK_SECRET must be set (the operator's signing secret)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    args.dir.mkdir(parents=True, exist_ok=True)
    sink = Sink(secret=secret, folder=args.dir, fail_first=args.fail_first)
    server = SinkThread(sink, args.host, args.port).start()
    log.info("listening on %s, writing to %s", server.url, args.dir / DELIVERIES_FILE)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop()


if __name__ == "__main__":
    main()
