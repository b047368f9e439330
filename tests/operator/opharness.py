"""Test harness for the operator: the real operator (kopf) on a thread, and an SMTP relay
that can be taken down and brought back on its port."""

from __future__ import annotations

import asyncio
import threading
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller

from devstack import mailsink
from devstack.services import free_port
from streamexport_core.clock import Clock, system_clock
from streamexport_operator.__main__ import run
from streamexport_operator.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CRD = ROOT / "crds" / "exports.streamexport.io.yaml"


class SmtpServer:
    """devstack's mail sink (aiosmtpd) on a fixed loopback port, stoppable and restartable."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = mailsink.start(self.folder, port=self.port)

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return list(mailsink.read_messages(self.folder))


class OperatorThread:
    """The real operator (kopf) on its own thread and event loop."""

    def __init__(self, settings: Settings, clock: Clock = system_clock) -> None:
        self.settings = settings
        self.clock = clock
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="streamexport-operator")

    def _main(self) -> None:
        try:
            asyncio.run(
                run(self.settings, stop_flag=self._stop, ready_flag=self._ready, clock=self.clock)
            )
        except BaseException as error:  # reported by start() and stop()
            self._error = error
            self._ready.set()

    def start(self, timeout: float = 20.0) -> OperatorThread:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the operator did not become ready")
        if self._error is not None:
            raise self._error
        return self

    def stop(self, timeout: float = 20.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError("the operator did not stop")
        if self._error is not None:
            raise self._error
