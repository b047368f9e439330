"""A local SMTP server (aiosmtpd) that writes every message it receives to a folder as `.eml`.

Development stand-in for a mail relay: `python -m devstack.mailsink --port 18025 --dir .stack/mail`.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import itertools
import logging
import signal
import threading
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger("devstack.mailsink")


class FolderHandler:
    """Save each accepted message as `<time>-<n>.eml`, written atomically (tmp + rename)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._counter = itertools.count(1)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{next(self._counter):05d}.eml"
        tmp = self.folder / f".{name}.tmp"
        tmp.write_bytes(content)
        tmp.rename(self.folder / name)
        message = email.message_from_bytes(content, policy=email.policy.default)
        log.info(
            "mail to=%s subject=%r file=%s", ",".join(envelope.rcpt_tos), message["subject"], name
        )
        return "250 Message accepted for delivery"


def read_messages(folder: Path) -> list[Any]:
    """Every saved message, oldest first, parsed with the modern email policy."""
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(folder.glob("*.eml"))
    ]


def start(folder: Path, host: str = "127.0.0.1", port: int = 0) -> Controller:
    """Start the sink in a background thread; `controller.port` is the bound port."""
    controller = Controller(FolderHandler(folder), hostname=host, port=port or _free_port(host))
    controller.start()
    return controller


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.mailsink", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18025)
    parser.add_argument("--dir", type=Path, required=True, help="folder for the .eml files")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    controller = start(args.dir, args.host, args.port)
    log.info("listening on smtp://%s:%d, writing to %s", args.host, args.port, args.dir)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
