"""Fixtures for the operator's tests: the Kubernetes API stand-in, a real SMTP server and the
real kopf operator running on a thread against them (S3 is the shared moto server of
tests/conftest.py: `s3_server`, `s3_client`, `bucket`)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opharness import CRD, OperatorThread, SmtpServer

from devstack.kubeapi import ThreadedKubeAPI
from devstack.services import DUMMY_CREDENTIALS, MotoThread
from streamexport_core.clock import Clock, system_clock
from streamexport_operator.kube import KubeClient
from streamexport_operator.settings import Settings


@pytest.fixture
def kubeapi() -> Iterator[ThreadedKubeAPI]:
    with ThreadedKubeAPI(crds=[CRD]) as api:
        yield api


@pytest.fixture
async def kube(kubeapi: ThreadedKubeAPI) -> AsyncIterator[KubeClient]:
    """The test's own client (the operator's client class, plain HTTP to the stand-in)."""
    async with KubeClient.connect(kubeapi.url) as client:
        yield client


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's dummy credentials for the operator's S3 client (it reads the environment)."""
    for name, value in DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    server = SmtpServer(tmp_path / "mail")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(
    kubeapi: ThreadedKubeAPI, s3_server: MotoThread, bucket: str, smtp: SmtpServer, aws_env: None
) -> Settings:
    return Settings(
        exporter_image="streamexport/exporter:test",
        s3_bucket=bucket,
        namespaces=("default",),
        liveness_port=0,
        metrics_port=0,
        kubernetes_api_url=kubeapi.url,
        s3_endpoint_url=s3_server.endpoint_url,
        retention_seconds=0,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_security="none",
        smtp_timeout_seconds=5,
        api_public_url="https://exports.example.com",
    )


@pytest.fixture
def start_operator(settings: Settings) -> Iterator[Callable[..., OperatorThread]]:
    """`start_operator(clock=..., **overrides)` runs an operator with those settings (and that
    clock, default the system's); all are stopped after the test."""
    started: list[OperatorThread] = []

    def start(clock: Clock = system_clock, **overrides: Any) -> OperatorThread:
        operator = OperatorThread(dataclasses.replace(settings, **overrides), clock).start()
        started.append(operator)
        return operator

    yield start
    for operator in started:
        with contextlib.suppress(TimeoutError):
            operator.stop()
