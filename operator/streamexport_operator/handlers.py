"""kopf handlers: thin and typed; the work is in reconcile, notifier and expiry.

Every Export or Job event recomputes that Export's status from the world and then runs an
admission pass, so a queued export starts as soon as a Job's end frees its slot. The two
in-memory indexes (pending exports, export Jobs) are filled by kopf before any handler runs,
which keeps admission consistent after a restart.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any, TypeVar

import kopf

from streamexport_core.clock import Clock, system_clock
from streamexport_operator import expiry, kopfsettings, notifier, reconcile, uploads
from streamexport_operator.admission import Candidate
from streamexport_operator.exports import (
    GROUP,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    OWNER_LABEL,
    PLURAL,
    VERSION,
    Key,
    cancel_requested,
    is_deleting,
    is_terminal,
    owner_of,
)
from streamexport_operator.retention import due_at, seconds_left
from streamexport_operator.runtime import Runtime, open_runtime
from streamexport_operator.settings import Settings
from streamexport_operator.status import job_is_finished

EXPORTS = (GROUP, VERSION, PLURAL)
JOBS = ("batch", "v1", "jobs")
MANAGED_JOBS = {MANAGED_BY_LABEL: MANAGED_BY}
RESYNC_SECONDS = 30.0
NOTIFY_INTERVAL_SECONDS = 60.0
# How often a failed or cancelled export checks whether its exporter's pod has ended.
UPLOAD_CLEANUP_INTERVAL_SECONDS = 5.0

_K = TypeVar("_K")
_V = TypeVar("_V")
PendingIndex = kopf.Index[Key, Candidate]
JobIndex = kopf.Index[Key, tuple[str, bool]]


def runtime_of(memo: kopf.Memo) -> Runtime:
    runtime: Runtime = memo["runtime"]
    return runtime


@kopf.on.startup()
async def startup(
    settings: kopf.OperatorSettings, memo: kopf.Memo, logger: kopf.Logger, **_: Any
) -> None:
    config: Settings = memo.get("settings") or Settings.from_env()
    memo["settings"] = config
    kopfsettings.configure(settings, config)
    stack = contextlib.AsyncExitStack()
    clock: Clock = memo.get("clock") or system_clock
    memo["runtime"] = await stack.enter_async_context(open_runtime(config, clock))
    memo["stack"] = stack
    if not config.email_enabled:
        logger.info("email disabled: SMTP_HOST is not set")
    logger.info(
        "operator started namespaces=%s peering=%s priority=%s max_running=%d max_per_owner=%d",
        ",".join(config.namespaces),
        config.peering or "standalone",
        settings.peering.priority if config.peering else "-",
        config.max_running_exports,
        config.max_running_exports_per_owner,
    )


@kopf.on.cleanup()
async def cleanup(memo: kopf.Memo, **_: Any) -> None:
    stack: contextlib.AsyncExitStack | None = memo.get("stack")
    if stack is not None:
        await stack.aclose()


@kopf.on.login()
def login(memo: kopf.Memo, **kwargs: Any) -> kopf.ConnectionInfo | None:
    """KUBERNETES_API_URL when set (a local stand-in, `kubectl proxy`), else in-cluster, else
    the kubeconfig: the same order as the operator's own client (streamexport_core.kube)."""
    config: Settings = memo.get("settings") or Settings.from_env()
    if config.kubernetes_api_url:
        return kopf.ConnectionInfo(server=config.kubernetes_api_url.rstrip("/"))
    return kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(**kwargs)


def _is_pending(body: kopf.Body, **_: Any) -> bool:
    return not (is_terminal(body) or is_deleting(body) or cancel_requested(body))


@kopf.index(*EXPORTS, when=_is_pending)
def pending_exports(
    body: kopf.Body, namespace: str | None, name: str, **_: Any
) -> dict[Key, Candidate]:
    """Exports that may still need a Job, in admission order."""
    created = str(body.metadata.get("creationTimestamp") or "")
    key = (_ns(namespace), name)
    return {key: Candidate(created, key[0], name, owner_of(body))}


@kopf.index(*JOBS, labels=MANAGED_JOBS)
def export_jobs(
    body: kopf.Body, namespace: str | None, name: str, labels: kopf.Labels, **_: Any
) -> dict[Key, tuple[str, bool]]:
    """Every export Job: its owner and whether it has finished."""
    return {(_ns(namespace), name): (labels.get(OWNER_LABEL, ""), job_is_finished(body))}


@kopf.on.event(*EXPORTS)
async def export_event(
    type: str | None, namespace: str | None, name: str, memo: kopf.Memo, **kwargs: Any
) -> None:
    if type != "DELETED":
        await reconcile.reconcile(runtime_of(memo), _ns(namespace), name)
    await _admit(memo, kwargs)


@kopf.on.event(*JOBS, labels=MANAGED_JOBS)
async def job_event(namespace: str | None, name: str, memo: kopf.Memo, **kwargs: Any) -> None:
    # The Job is named after its Export.
    await reconcile.reconcile(runtime_of(memo), _ns(namespace), name)
    await _admit(memo, kwargs)


@kopf.timer(
    *EXPORTS,
    interval=RESYNC_SECONDS,
    initial_delay=RESYNC_SECONDS,
    when=lambda body, **_: not is_terminal(body),
)
async def resync(namespace: str | None, name: str, memo: kopf.Memo, **kwargs: Any) -> None:
    """A safety net for a missed or failed event: event handlers are not retried."""
    await reconcile.reconcile(runtime_of(memo), _ns(namespace), name)
    await _admit(memo, kwargs)


async def _admit(memo: kopf.Memo, indexes: Mapping[str, Any]) -> None:
    """An admission pass over kopf's indexes (handler kwargs named after the index functions)."""
    pending: PendingIndex = indexes["pending_exports"]
    jobs: JobIndex = indexes["export_jobs"]
    await reconcile.run_admission(runtime_of(memo), _flatten(pending), _flatten(jobs))


def _ns(namespace: str | None) -> str:
    if not namespace:
        raise kopf.PermanentError("exports and their Jobs are namespaced")
    return namespace


def _needs_email(body: kopf.Body, memo: kopf.Memo, **_: Any) -> bool:
    return notifier.needs_email(body, runtime_of(memo).settings)


@kopf.timer(*EXPORTS, interval=NOTIFY_INTERVAL_SECONDS, when=_needs_email)
async def notify(namespace: str | None, name: str, memo: kopf.Memo, **_: Any) -> None:
    """Send the email once the export has finished; failures retry via kopf.TemporaryError."""
    await notifier.deliver(runtime_of(memo), _ns(namespace), name)


def _needs_upload_cleanup(body: kopf.Body, **_: Any) -> bool:
    return uploads.needs_upload_cleanup(body)


@kopf.timer(*EXPORTS, interval=UPLOAD_CLEANUP_INTERVAL_SECONDS, when=_needs_upload_cleanup)
async def abort_orphan_uploads(
    namespace: str | None, name: str, memo: kopf.Memo, **kwargs: Any
) -> None:
    """Abort what a killed exporter left of its multipart upload; S3 errors retry with backoff."""
    # `retry`: kopf's count of this handler's failed attempts since its last success.
    retry = int(kwargs.get("retry") or 0)
    await uploads.clean_up(runtime_of(memo), _ns(namespace), name, retry)


def _retention_applies(body: kopf.Body, memo: kopf.Memo, **_: Any) -> bool:
    retention = runtime_of(memo).settings.retention_seconds
    return due_at(body.get("status") or {}, retention) is not None


@kopf.daemon(*EXPORTS, when=_retention_applies, cancellation_timeout=5.0)
async def retain(
    namespace: str | None,
    name: str,
    status: kopf.Status,
    memo: kopf.Memo,
    stopped: kopf.DaemonStopped,
    **_: Any,
) -> None:
    """Sleep until the retention period ends, then delete the object and the Export."""
    runtime = runtime_of(memo)
    left = seconds_left(status, runtime.settings.retention_seconds, runtime.clock())
    if left is not None and left > 0:
        await stopped.wait(left)
    if not stopped:
        await expiry.expire(runtime, _ns(namespace), name)


def _flatten(index: kopf.Index[_K, _V]) -> dict[_K, _V]:
    """One value per key (each key is one object)."""
    return {key: value for key, store in index.items() for value in store}
