"""Serving the stand-in: `KubeAPIServer` (async context manager) and `ThreadedKubeAPI` (sync)."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import types
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the env
from aiohttp import web

from . import errors
from .app import create_app
from .registry import Registry
from .store import Store

log = logging.getLogger("devstack.kubeapi")


def load_crds(store: Store, paths: Iterable[str | Path]) -> int:
    """Create every CustomResourceDefinition found in the YAML files; returns how many."""
    crd_type = store.registry.lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    assert crd_type is not None
    count = 0
    for path in paths:
        try:
            for doc in yaml.safe_load_all(Path(path).read_text()):
                if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                    store.create(crd_type, None, doc)
                    count += 1
        except (yaml.YAMLError, errors.KubeError) as exc:
            raise ValueError(f"cannot load CRDs from {path}: {exc}") from exc
    return count


def _listen(host: str, port: int) -> socket.socket:
    # Our own socket, so that port=0 works and the chosen port is known before serving.
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    return socket.create_server((host, port), family=family)


class KubeAPIServer:
    """The stand-in served on `host:port` (port 0 picks a free one) inside a running loop."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        crds: Iterable[str | Path] = (),
        namespaces: Iterable[str] = ("default",),
        history: int = 1000,
    ) -> None:
        self.host = host
        self._requested_port = port
        self._crds = list(crds)
        self.store = Store(Registry(), namespaces=tuple(namespaces), history=history)
        self._runner: web.AppRunner | None = None
        self.port = port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        load_crds(self.store, self._crds)
        sock = _listen(self.host, self._requested_port)
        self.port = sock.getsockname()[1]
        # handler_cancellation: a watch whose client hangs up is cancelled at once, not
        # on its next event; shutdown_timeout bounds how long stop() waits for streams.
        self._runner = web.AppRunner(
            create_app(self.store), access_log=None, handler_cancellation=True, shutdown_timeout=2.0
        )
        await self._runner.setup()
        try:
            await web.SockSite(self._runner, sock).start()
        except BaseException:
            await self._runner.cleanup()
            sock.close()
            raise

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()  # on_shutdown ends the watch streams first
            self._runner = None

    async def __aenter__(self) -> KubeAPIServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


class ThreadedKubeAPI:
    """`KubeAPIServer` on its own thread and event loop, for synchronous code and fixtures."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **kwargs: Any) -> None:
        self._server = KubeAPIServer(host, port, **kwargs)
        self._thread = threading.Thread(target=self._run, name="devstack-kubeapi", daemon=True)
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return self._server.url

    def start(self, timeout: float = 10.0) -> ThreadedKubeAPI:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("devstack.kubeapi did not start in time")
        if self._error is not None:
            self._thread.join()
            raise self._error
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._stopping is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError("devstack.kubeapi did not stop in time")

    def __enter__(self) -> ThreadedKubeAPI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        try:
            await self._server.start()
        except BaseException as exc:  # reported to start()'s caller, not lost in the thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            await self._server.stop()
