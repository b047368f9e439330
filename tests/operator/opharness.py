"""Test harness for the operator: the real operator (kopf) on a thread, and an SMTP relay
that can be taken down and brought back on its port."""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller

from devstack import mailsink
from devstack.services import free_port
from streamexport_core.clock import Clock, system_clock
from streamexport_operator.__main__ import run
from streamexport_operator.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
_NUMBERS = itertools.count(1)
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


class _CleanedUp(logging.Handler):
    """Sets `done` when kopf reports the operator's cleanup activity finished on `thread`."""

    def __init__(self, thread: str) -> None:
        super().__init__()
        self.thread = thread
        self.done = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.threadName == self.thread and "succeeded" in record.getMessage():
            self.done.set()


class OperatorThread:
    """The real operator (kopf) on its own thread and event loop."""

    def __init__(self, settings: Settings, clock: Clock = system_clock) -> None:
        self.settings = settings
        self.clock = clock
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread = threading.Thread(
            target=self._main, name=f"streamexport-operator-{next(_NUMBERS)}"
        )
        self._cleaned_up = _CleanedUp(self._thread.name)

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except asyncio.CancelledError:
            pass  # stop() cut kopf's wait for tasks it spawned while stopping (see there)
        except BaseException as error:  # reported by start() and stop()
            self._error = error
            self._ready.set()

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        await run(self.settings, stop_flag=self._stop, ready_flag=self._ready, clock=self.clock)

    def start(self, timeout: float = 20.0) -> OperatorThread:
        cleanup_log = logging.getLogger("kopf.activities.cleanup")
        cleanup_log.setLevel(logging.INFO)  # its "succeeded" line is INFO
        cleanup_log.addHandler(self._cleaned_up)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the operator did not become ready")
        if self._error is not None:
            raise self._error
        return self

    def stop(self, timeout: float = 20.0) -> None:
        """Stop gracefully: kopf stops its handlers and runs our cleanup activity.

        A timer that an event spawns while kopf is stopping outlives its daemon killer, and kopf
        then waits a fixed 5 s for it. Once the cleanup has run there is nothing left to wait
        for, so the rest of that wait is cancelled (as kopf itself does on a second signal)."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        while self._thread.is_alive() and time.monotonic() < deadline:
            if self._cleaned_up.done.wait(0.05):
                self._thread.join(0.2)
                if self._thread.is_alive() and self._loop is not None and self._task is not None:
                    self._loop.call_soon_threadsafe(self._task.cancel)
                break
        self._thread.join(max(0.0, deadline - time.monotonic()))
        logging.getLogger("kopf.activities.cleanup").removeHandler(self._cleaned_up)
        if self._thread.is_alive():
            raise TimeoutError("the operator did not stop")
        if self._error is not None:
            raise self._error
