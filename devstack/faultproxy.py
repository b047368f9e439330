"""A TCP proxy that can take a service away mid-stream and bring it back, for failure tests.

    with FaultProxy(("127.0.0.1", moto_port), cut_after_bytes=6 * 1024 * 1024) as proxy:
        ...  # point the client at proxy.url; after 6 MiB client->server the link is cut:
        ...  # open connections are reset and new ones refused, until proxy.restore()

`hold_after_bytes` instead stalls the traffic (a hung peer) until `proxy.release()`;
`hold()` does so from now on (a server that stopped answering, like `kill -STOP`).
`upstream` may be a unix socket's path (the embedded PostgreSQL listens on one only).

The service behind keeps its state (unlike stopping and restarting a server process), so a
test can check afterwards what the client did or did not clean up.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from types import TracebackType
from typing import Self

_BUFFER = 256 * 1024


class FaultProxy:
    def __init__(
        self,
        upstream: tuple[str, int] | str,
        *,
        cut_after_bytes: int | None = None,
        hold_after_bytes: int | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.upstream = upstream
        self.cut_after_bytes = cut_after_bytes
        self.hold_after_bytes = hold_after_bytes
        self.bytes_up = 0  # client -> server
        self._lock = threading.Lock()
        self._held = threading.Event()
        self._released = threading.Event()
        self._down = threading.Event()
        self._cut_event = threading.Event()
        self._closing = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(0.2)
        self.host = host
        self.port = int(self._listener.getsockname()[1])
        self._acceptor = threading.Thread(target=self._accept_loop, name="faultproxy", daemon=True)
        self._acceptor.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def is_cut(self) -> bool:
        return self._down.is_set()

    def wait_cut(self, timeout: float) -> bool:
        """True once the link has been cut (by `cut()` or by the byte budget)."""
        return self._cut_event.wait(timeout)

    def wait_held(self, timeout: float) -> bool:
        """True once traffic is being held (the `hold_after_bytes` budget is spent)."""
        return self._held.wait(timeout)

    def hold(self) -> None:
        """Stall every byte from clients from now on, on open and new connections."""
        self._released.clear()
        self._held.clear()
        self.hold_after_bytes = self.bytes_up

    def release(self) -> None:
        """Let held traffic through, and all traffic after it."""
        self.hold_after_bytes = None
        self._released.set()

    def cut(self) -> None:
        """Reset every open connection and refuse new ones."""
        with self._lock:
            self._down.set()
            self._cut_event.set()
            sockets = list(self._sockets)
        for sock in sockets:
            _reset(sock)

    def restore(self) -> None:
        """Forward again (with no byte budget)."""
        self.cut_after_bytes = None
        self._down.clear()

    def close(self) -> None:
        self._closing.set()
        self._released.set()
        self.cut()
        self._acceptor.join(5)
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(5)
        self._listener.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- internals ------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._down.is_set():
                _reset(client)
                continue
            try:
                server = _connect(self.upstream)
            except OSError:
                _reset(client)
                continue
            client.settimeout(None)
            server.settimeout(None)
            with self._lock:
                self._sockets.update((client, server))
                for source, sink, upstream in ((client, server, True), (server, client, False)):
                    thread = threading.Thread(
                        target=self._pump, args=(source, sink, upstream), daemon=True
                    )
                    self._threads.append(thread)
                    thread.start()

    def _pump(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        try:
            while not self._down.is_set():
                data = source.recv(_BUFFER)
                if not data:
                    break
                if upstream and self.cut_after_bytes is not None:
                    room = self.cut_after_bytes - self.bytes_up
                    if len(data) >= room:
                        sink.sendall(data[: max(room, 0)])
                        self.bytes_up += max(room, 0)
                        self.cut()
                        break
                if upstream and self.hold_after_bytes is not None:
                    room = max(self.hold_after_bytes - self.bytes_up, 0)
                    if len(data) > room:
                        sink.sendall(data[:room])
                        self.bytes_up += room
                        data = data[room:]
                        self._held.set()
                        self._released.wait()
                        if self._down.is_set():
                            break
                sink.sendall(data)
                if upstream:
                    self.bytes_up += len(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._sockets.discard(source)
                self._sockets.discard(sink)
            _reset(source)
            _reset(sink)


def _connect(upstream: tuple[str, int] | str) -> socket.socket:
    if isinstance(upstream, tuple):
        return socket.create_connection(upstream, timeout=5)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    try:
        sock.connect(upstream)
    except OSError:
        sock.close()
        raise
    return sock


def _reset(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0), as a dropped link looks to the peer; shutdown() first
    wakes a thread blocked in recv() on it."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
