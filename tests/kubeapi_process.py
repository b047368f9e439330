"""The Kubernetes API stand-in as a subprocess, which a test can pause (SIGSTOP) and resume.

A paused server still accepts connections (the kernel queues them) but never answers: what a
hung or overloaded API server looks like to a client, and what its deadlines must handle.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType

REPO = Path(__file__).resolve().parents[1]
CRD = REPO / "crds" / "exports.streamexport.io.yaml"
READY = re.compile(r"kubeapi ready url=(http://\S+)")


class KubeAPIProcess:
    """`with KubeAPIProcess() as api:` ... `api.url`, `api.pause()`, `api.resume()`."""

    def __init__(self) -> None:
        command = [sys.executable, "-m", "devstack.kubeapi", "--port", "0", "--crd", str(CRD)]
        self.process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        self.url = self._ready_url()
        # Keep reading its log, so that a full pipe never blocks the server.
        self._drain = threading.Thread(target=self._read_rest, daemon=True)
        self._drain.start()

    def _ready_url(self) -> str:
        assert self.process.stderr is not None
        for line in self.process.stderr:  # ends at EOF if the process dies
            if match := READY.search(line):
                return match.group(1)
        raise AssertionError(f"no ready line; exit code {self.process.wait(timeout=10)}")

    def _read_rest(self) -> None:
        assert self.process.stderr is not None
        for _ in self.process.stderr:
            pass

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def __enter__(self) -> KubeAPIProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.process.kill()  # SIGKILL ends a stopped process too
        self.process.wait(timeout=10)
        self._drain.join(timeout=10)
        assert self.process.stderr is not None
        self.process.stderr.close()
