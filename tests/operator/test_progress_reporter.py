"""The exporter's progress reporter patches `exports/status` (lightkube), throttled, and never
fails the export (exporter/kube_progress.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from jobsim import NAMESPACE, create_export, eventually, get_export

from devstack.kubeapi import ThreadedKubeAPI
from exporter.kube_progress import KubeStatusReporter, from_env, target_from_env
from exporter.progress import LogReporter, Progress, Throttled
from streamexport_operator.kube import KubeClient


class Recorder:
    def __init__(self) -> None:
        self.reports: list[Progress] = []

    def report(self, progress: Progress) -> None:
        self.reports.append(progress)


class FakeApi:
    """A loopback HTTP server that records PATCH bodies and answers with `status_code`."""

    def __init__(self, status_code: int = 200) -> None:
        self.bodies: list[bytes] = []
        self.status_code = status_code
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_PATCH(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                api.bodies.append(self.rfile.read(length))
                self.send_response(api.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def env_for(url: str, name: str = "e-1") -> dict[str, str]:
    return {"KUBERNETES_API_URL": url, "EXPORT_NAME": name, "EXPORT_NAMESPACE": NAMESPACE}


@pytest.fixture
def reporters() -> Iterator[list[KubeStatusReporter]]:
    made: list[KubeStatusReporter] = []
    yield made
    for reporter in made:
        reporter.close()


async def test_rows_and_percentage_land_on_the_export_status(
    kubeapi: ThreadedKubeAPI, kube: KubeClient, reporters: list[KubeStatusReporter]
) -> None:
    export = await create_export(kube, estimated_rows=1000)
    name = export["metadata"]["name"]
    target = target_from_env(env_for(kubeapi.url, name))
    assert target is not None
    inner = Recorder()
    reporter = KubeStatusReporter(target, inner, min_interval=0.1)
    reporters.append(reporter)

    reporter.report(Progress(rows_written=250, total_rows=1000, elapsed_seconds=1.0))

    async def patched() -> dict[str, Any] | None:
        status = (await get_export(kube, name)).get("status") or {}
        return status if status.get("rowsWritten") == 250 else None

    status = await eventually(patched)
    assert status["progressPercentage"] == 25
    assert len(inner.reports) == 1  # local logging still gets every report

    reporter.report(Progress(1000, 1000, 2.0, done=True))  # synchronous
    status = (await get_export(kube, name))["status"]
    assert (status["rowsWritten"], status["progressPercentage"]) == (1000, 100)


async def test_reports_are_throttled_and_the_newest_wins(
    reporters: list[KubeStatusReporter],
) -> None:
    with FakeApi() as api:
        target = target_from_env(env_for(api.url))
        assert target is not None
        reporter = KubeStatusReporter(target, min_interval=60.0)
        reporters.append(reporter)
        for rows in range(1, 101):
            reporter.report(Progress(rows, 100, rows / 10))

        async def first_sent() -> list[bytes]:
            return api.bodies

        await eventually(first_sent)
        reporter.report(Progress(100, 100, 11.0, done=True))
        # One throttled patch, then the final one: never one per report.
        assert len(api.bodies) == 2
        final = {"status": {"rowsWritten": 100, "progressPercentage": 100}}
        assert json.loads(api.bodies[-1]) == final


async def test_an_unestimated_export_reports_rows_only(
    reporters: list[KubeStatusReporter],
) -> None:
    with FakeApi() as api:
        target = target_from_env(env_for(api.url))
        assert target is not None
        reporter = KubeStatusReporter(target)
        reporters.append(reporter)
        reporter.report(Progress(42, None, 1.0, done=False))
        reporter.report(Progress(50, None, 2.0, done=True))
        final = {"status": {"rowsWritten": 50, "progressPercentage": 100}}
        assert json.loads(api.bodies[-1]) == final


async def test_a_failing_api_never_raises(reporters: list[KubeStatusReporter]) -> None:
    with FakeApi(status_code=500) as api:
        target = target_from_env(env_for(api.url))
        assert target is not None
        reporter = KubeStatusReporter(target, min_interval=0.0)
        reporters.append(reporter)
        for rows in range(10):
            reporter.report(Progress(rows, 10, 1.0, done=True))
        assert len(api.bodies) == 5  # then it gives up


def test_without_an_api_the_local_reporter_is_used_alone() -> None:
    inner = LogReporter()
    assert from_env(inner, {"EXPORT_NAME": "e-1", "EXPORT_NAMESPACE": "default"}) is inner
    assert from_env(inner, {"KUBERNETES_API_URL": "http://x"}) is inner  # no export name


def test_in_cluster_url_needs_the_service_account(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))  # nor a kubeconfig to fall back on
    env = {
        "EXPORT_NAME": "e-1",
        "EXPORT_NAMESPACE": "default",
        "KUBERNETES_SERVICE_HOST": "10.0.0.1",
    }
    assert target_from_env(env) is None  # no token file outside a pod


async def test_the_exporters_throttle_drives_it_through_from_env(
    kubeapi: ThreadedKubeAPI, kube: KubeClient, reporters: list[KubeStatusReporter]
) -> None:
    name = (await create_export(kube, estimated_rows=1000))["metadata"]["name"]
    reporter = from_env(LogReporter(), env_for(kubeapi.url, name), min_interval=0.0)
    assert isinstance(reporter, KubeStatusReporter)
    reporters.append(reporter)
    throttled = Throttled(reporter, total_rows=1000, interval=0.0)
    throttled.update(400)
    throttled.finish(1000)
    status = (await get_export(kube, name))["status"]
    assert (status["rowsWritten"], status["progressPercentage"]) == (1000, 100)
