"""What the handlers share for the operator's life: settings and clients, made at start-up."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from wsgiref.simple_server import WSGIServer

from streamexport_core.clock import Clock, system_clock
from streamexport_core.presign import DownloadSigner
from streamexport_operator import metrics
from streamexport_operator.exports import Key
from streamexport_operator.kube import KubeClient
from streamexport_operator.presign import make_s3_client
from streamexport_operator.settings import Settings

log = logging.getLogger("streamexport.operator")

# How long a Job this process created counts as running before the Job watch confirms it.
INFLIGHT_SECONDS = 60.0


@dataclass
class Runtime:
    settings: Settings
    kube: KubeClient
    s3: Any
    signer: DownloadSigner
    # "Now" for retention (deleting finished exports): a parameter, so a test can move it.
    clock: Clock = system_clock
    admission_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Jobs created but not yet seen in the Job index: key -> (owner, monotonic time).
    inflight: dict[Key, tuple[str, float]] = field(default_factory=dict)
    _locks: weakref.WeakValueDictionary[Key, asyncio.Lock] = field(
        default_factory=weakref.WeakValueDictionary
    )
    _metrics: tuple[WSGIServer, threading.Thread] | None = None

    def lock(self, key: Key) -> asyncio.Lock:
        """One lock per export: its reconciles, emails and expiry never interleave."""
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    def note_inflight(self, key: Key, owner: str) -> None:
        self.inflight[key] = (owner, time.monotonic())

    def prune_inflight(self, confirmed: set[Key], pending: set[Key]) -> None:
        """Forget Jobs the index has seen, exports no longer pending, and stale entries."""
        deadline = time.monotonic() - INFLIGHT_SECONDS
        for key, (_, since) in list(self.inflight.items()):
            if key in confirmed or key not in pending or since < deadline:
                del self.inflight[key]


@asynccontextmanager
async def open_runtime(
    settings: Settings, clock: Clock = system_clock
) -> AsyncIterator[Runtime]:
    """Clients for the operator's life; the metrics endpoint when a port is set."""
    s3 = await asyncio.to_thread(make_s3_client, settings)
    signer = await asyncio.to_thread(
        DownloadSigner.create,
        bucket=settings.s3_bucket,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.aws_region,
    )
    kube_client = KubeClient.connect(
        settings.kubernetes_api_url, settings.kubernetes_timeout_seconds
    )
    async with kube_client as kube:
        runtime = Runtime(settings=settings, kube=kube, s3=s3, signer=signer, clock=clock)
        if settings.metrics_port:
            runtime._metrics = metrics.serve(settings.metrics_port)
            log.info("metrics endpoint serving port=%d", settings.metrics_port)
        try:
            yield runtime
        finally:
            if runtime._metrics is not None:
                await asyncio.to_thread(metrics.stop, *runtime._metrics)
            s3.close()
