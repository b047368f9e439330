"""`python -m streamexport_operator`: the documented start command, configured by env vars."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from jobsim import create_export, eventually, wait_for_job
from opharness import ROOT

from devstack.kubeapi import ThreadedKubeAPI
from devstack.services import DUMMY_CREDENTIALS, MotoThread, free_port
from streamexport_operator.kube import KubeClient

BASE_ENV = {
    "PATH": os.environ.get("PATH", ""),
    "EXPORTER_IMAGE": "streamexport/exporter:test",
    "S3_BUCKET": "exports",
    **DUMMY_CREDENTIALS,
}


def test_a_missing_variable_stops_it_with_one_line_naming_it() -> None:
    env = {k: v for k, v in BASE_ENV.items() if k != "EXPORTER_IMAGE"}
    done = subprocess.run(
        [sys.executable, "-m", "streamexport_operator"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "streamexport-operator: configuration error: EXPORTER_IMAGE is required but not set"
    ]


@pytest.fixture
def operator_process(kubeapi: ThreadedKubeAPI, s3_server: MotoThread) -> Iterator[tuple[Any, int]]:
    liveness = free_port()
    env = {
        **BASE_ENV,
        "KUBERNETES_API_URL": kubeapi.url,
        "OPERATOR_NAMESPACES": "default",
        "OPERATOR_LIVENESS_PORT": str(liveness),
        "OPERATOR_METRICS_PORT": "0",
        "S3_ENDPOINT_URL": s3_server.endpoint_url,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "streamexport_operator"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        yield process, liveness
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        assert process.stderr is not None
        process.stderr.close()


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


async def test_it_runs_serves_healthz_logs_json_and_stops_on_sigterm(
    operator_process: tuple[Any, int], kube: KubeClient
) -> None:
    process, liveness = operator_process

    async def is_healthy() -> bool:
        return await asyncio.to_thread(healthy, liveness)

    await eventually(is_healthy, timeout=30)
    name = (await create_export(kube))["metadata"]["name"]
    await wait_for_job(kube, name)

    process.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(process.wait, 30) == 0
    text = process.stderr.read()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    about = [line for line in lines if (line.get("object") or {}).get("name") == name]
    assert any("job created" in line["message"] for line in about)
    assert any("phase changed" in line["message"] for line in about)
