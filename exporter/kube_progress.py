"""Progress on the Export's status: `rowsWritten` and `progressPercentage`, patched through the
Kubernetes API while the export runs (the operator owns every other status field).

Only `patch` on `exports/status` is used, at most once per `min_interval` seconds, from a
thread of its own so that the export never waits on the API; the final report is sent
synchronously (within the client's deadline) so that it is not lost at exit. lightkube's
blocking client (its HTTP, auth and deadline); a failing API is logged once and never fails
the export.

Wiring: `build_reporter()` (what `python -m exporter` uses).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from exporter.logs import get_logger
from exporter.progress import LogReporter, Progress, ProgressReporter
from streamexport_core.contract import JobEnv
from streamexport_core.errors import SettingsError

if TYPE_CHECKING:
    from lightkube import Client

# lightkube (and httpx behind it, ~0.1 s to import) is imported only once there is an API to
# report to: a run from the command line, or the benchmark's, never pays for it.

DEFAULT_MIN_INTERVAL = 3.0
# Progress is a nicety: a short deadline, so the final report never holds up the exit long.
DEFAULT_TIMEOUT_SECONDS = 5.0
# After this many failures in a row the reporter stops trying: progress is a nicety.
MAX_CONSECUTIVE_FAILURES = 5


@dataclass(frozen=True)
class ApiTarget:
    """Which Export to patch, and how to reach the Kubernetes API."""

    name: str
    namespace: str
    api_url: str | None = None  # None: in-cluster (the pod's service account) or kubeconfig
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS

    def client(self) -> Client:
        from streamexport_core.kube import sync_client

        return sync_client(
            self.api_url,
            timeout_seconds=self.timeout_seconds,
            field_manager="streamexport-exporter",
        )


def target_from_env(env: Mapping[str, str]) -> ApiTarget | None:
    """`KUBERNETES_API_URL`, else the pod's service account; None when neither is available
    or the export's name and namespace are unknown (a run from the command line)."""
    name, namespace = env.get(JobEnv.EXPORT_NAME, ""), env.get(JobEnv.EXPORT_NAMESPACE, "")
    if not name or not namespace:
        return None
    url = env.get(JobEnv.KUBERNETES_API_URL, "").strip() or None
    if url is None and not env.get("KUBERNETES_SERVICE_HOST"):
        return None  # not in a pod, and no API named: nothing to report to
    try:
        timeout = float(env.get(JobEnv.KUBERNETES_TIMEOUT_SECONDS) or DEFAULT_TIMEOUT_SECONDS)
    except ValueError:
        timeout = DEFAULT_TIMEOUT_SECONDS
    target = ApiTarget(name, namespace, url, timeout if timeout > 0 else DEFAULT_TIMEOUT_SECONDS)
    from streamexport_core.kube import kube_config

    try:
        kube_config(url)  # the in-cluster service account (or a kubeconfig), or nothing
    except SettingsError:
        return None
    return target


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
        self._client = target.client()
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
        self._thread.join(self.target.timeout_seconds + 1)
        with self._send_lock:
            self._client.close()

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
        from lightkube.types import PatchType

        from streamexport_core.kube import Export

        try:
            self._client.patch(
                Export.Status,
                self.target.name,
                status_patch(progress),
                namespace=self.target.namespace,
                patch_type=PatchType.MERGE,
            )
        except Exception as error:  # whatever the API or the network did: never fail the export
            self._failures += 1
            if self._failures == 1 or self._failures == MAX_CONSECUTIVE_FAILURES:
                self._log.warning(
                    "progress_patch_failed",
                    error=repr(error),
                    failures=self._failures,
                    giving_up=self._failures == MAX_CONSECUTIVE_FAILURES,
                )
            return
        self._failures = 0


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
