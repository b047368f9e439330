"""Fixtures for the local Job runner's tests: a fresh Kubernetes API stand-in per test, a
client for it, the runner (on its own thread, or as a subprocess), a scratch folder that
the Jobs' scripts receive as STATE_DIR, and a clean-up list for the processes they start."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from runner_support import RunnerProcess, RunnerThread, process_gone

from devstack.kubeapi import ThreadedKubeAPI
from devstack.kubeclient import KubeClient


@pytest.fixture
def kubeapi() -> Iterator[ThreadedKubeAPI]:
    with ThreadedKubeAPI() as server:
        yield server


@pytest.fixture
async def kube(kubeapi: ThreadedKubeAPI) -> AsyncIterator[KubeClient]:
    async with KubeClient(kubeapi.url) as client:
        yield client


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    path = tmp_path / "state"
    path.mkdir()
    return path


@pytest.fixture
def spawned() -> Iterator[list[int]]:
    """Pids of the Jobs' processes a test waited for: killed afterwards if a failed test
    left them running (a passing test has seen them end)."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if not process_gone(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def runner(kubeapi: ThreadedKubeAPI, tmp_path: Path) -> Iterator[RunnerThread]:
    thread = RunnerThread(kubeapi.url, tmp_path / "pods").start()
    try:
        yield thread
    finally:
        thread.stop()


@pytest.fixture
def runner_process(kubeapi: ThreadedKubeAPI, tmp_path: Path) -> Iterator[RunnerProcess]:
    process = RunnerProcess(kubeapi.url, tmp_path).start()
    try:
        yield process
    finally:
        code = process.stop()
        assert code == 0, process.output()
