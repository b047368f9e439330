"""Progress on the Export's status: `rowsWritten` and `progressPercentage`, patched through the
Kubernetes API while the export runs (the operator owns every other status field).

Only `patch` on `exports/status` is used, at most once per `min_interval` seconds, from a
thread of its own so that the export never waits on the API; the final report is sent
synchronously (briefly) so that it is not lost at exit. Stdlib HTTP only: no Kubernetes client
import in the exporter. A failing API is logged once and never fails the export.

Wiring: `build_reporter()` (what `python -m exporter` uses).
"""

from __future__ import annotations

import json
import os
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from exporter.logs import get_logger
from exporter.progress import LogReporter, Progress, ProgressReporter
from streamexport_core.contract import JobEnv, export_api_path

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
DEFAULT_MIN_INTERVAL = 3.0
REQUEST_TIMEOUT = 5.0
# After this many failures in a row the reporter stops trying: progress is a nicety.
MAX_CONSECUTIVE_FAILURES = 5


@dataclass(frozen=True)
class ApiTarget:
    """Where to PATCH and how to authenticate."""

    status_url: str
    token_path: Path | None = None
    ca_path: Path | None = None


def target_from_env(env: Mapping[str, str]) -> ApiTarget | None:
    """`KUBERNETES_API_URL`, else the pod's service account; None when neither is available
    or the export's name and namespace are unknown (a run from the command line)."""
    name, namespace = env.get(JobEnv.EXPORT_NAME, ""), env.get(JobEnv.EXPORT_NAMESPACE, "")
    if not name or not namespace:
        return None
    path = export_api_path(quote(namespace, safe=""), quote(name, safe="")) + "/status"
    url = env.get(JobEnv.KUBERNETES_API_URL, "").strip().rstrip("/")
    if url:
        return ApiTarget(status_url=url + path)
    host = env.get("KUBERNETES_SERVICE_HOST", "")
    token = SERVICE_ACCOUNT / "token"
    if not host or not token.exists():
        return None
    host = f"[{host}]" if ":" in host else host
    port = env.get("KUBERNETES_SERVICE_PORT", "443")
    return ApiTarget(
        status_url=f"https://{host}:{port}{path}",
        token_path=token,
        ca_path=SERVICE_ACCOUNT / "ca.crt",
    )


def status_patch(progress: Progress) -> dict[str, Any]:
    """The merge patch for one report; the percentage only when there is an estimate."""
    status: dict[str, Any] = {"rowsWritten": max(progress.rows_written, 0)}
    if progress.percentage is not None:
        status["progressPercentage"] = progress.percentage
    return {"status": status}


class KubeStatusReporter:
    """A `ProgressReporter` that forwards to `inner` (local logs) and patches the Export."""

    def __init__(
        self,
        target: ApiTarget,
        inner: ProgressReporter | None = None,
        *,
        min_interval: float = DEFAULT_MIN_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.target = target
        self.inner = inner
        self.min_interval = min_interval
        self._clock = clock
        self._log = get_logger("exporter.kube_progress")
        self._ssl = (
            ssl.create_default_context(cafile=str(target.ca_path))
            if target.ca_path is not None and target.ca_path.exists()
            else None
        )
        self._wakeup = threading.Condition()
        self._pending: Progress | None = None
        self._last_sent = float("-inf")
        self._failures = 0
        self._closed = False
        # One request at a time, so the final report cannot be overtaken by an older one.
        self._send_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="kube-progress", daemon=True)
        self._thread.start()

    def report(self, progress: Progress) -> None:
        if self.inner is not None:
            self.inner.report(progress)
        if progress.done:
            with self._wakeup:
                self._pending = None
                self._closed = True
                self._wakeup.notify()
            self._send(progress)  # the last word: synchronously, so it is not lost at exit
            return
        with self._wakeup:
            self._pending = progress
            self._wakeup.notify()

    def close(self) -> None:
        """Stop the sending thread (a final `done` report does this too)."""
        with self._wakeup:
            self._closed = True
            self._wakeup.notify()
        self._thread.join(REQUEST_TIMEOUT + 1)

    def _run(self) -> None:
        while True:
            with self._wakeup:
                while self._pending is None and not self._closed:
                    self._wakeup.wait()
                if self._closed:
                    return
                wait = self._last_sent + self.min_interval - self._clock()
                if wait > 0:
                    # Sleep out the interval (a newer report may arrive meanwhile), then send.
                    self._wakeup.wait(wait)
                    continue
                progress, self._pending = self._pending, None
            if progress is not None:
                self._send(progress)

    def _send(self, progress: Progress) -> None:
        with self._send_lock:
            if self._failures >= MAX_CONSECUTIVE_FAILURES:
                return
            if self._closed and not progress.done:
                return
            self._last_sent = self._clock()
            self._patch(progress)

    def _patch(self, progress: Progress) -> None:
        try:
            request = urllib.request.Request(  # noqa: S310 - an http(s) URL from our settings
                self.target.status_url,
                data=json.dumps(status_patch(progress)).encode(),
                method="PATCH",
                headers=self._headers(),
            )
            with urllib.request.urlopen(  # noqa: S310
                request, timeout=REQUEST_TIMEOUT, context=self._ssl
            ) as response:
                response.read()
        except (OSError, urllib.error.URLError, ValueError) as error:
            self._failures += 1
            if self._failures == 1 or self._failures == MAX_CONSECUTIVE_FAILURES:
                self._log.warning(
                    "progress_patch_failed",
                    error=error,
                    failures=self._failures,
                    giving_up=self._failures == MAX_CONSECUTIVE_FAILURES,
                )
            return
        self._failures = 0

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/merge-patch+json", "Accept": "application/json"}
        if self.target.token_path is not None:
            # Re-read each time: projected service-account tokens rotate.
            token = self.target.token_path.read_text().strip()
            headers["Authorization"] = f"Bearer {token}"
        return headers


def from_env(
    inner: ProgressReporter, env: Mapping[str, str] | None = None, **kwargs: Any
) -> ProgressReporter:
    """`KubeStatusReporter` around `inner` when a Kubernetes API is reachable, else `inner`."""
    target = target_from_env(os.environ if env is None else env)
    if target is None:
        return inner
    return KubeStatusReporter(target, inner, **kwargs)


def build_reporter() -> ProgressReporter:
    """Logs, plus the Export's status when a Kubernetes API and the export's name and
    namespace are known."""
    return from_env(LogReporter())
