"""The S3 client is built on its own thread from the start of the export (exporter.upload)."""

from __future__ import annotations

import threading

import pytest

from exporter.errors import StorageError
from exporter.upload import EarlyClient


def test_the_first_client_is_the_one_built_early_on_another_thread() -> None:
    built: list[str] = []
    ready = threading.Event()

    def factory() -> object:
        built.append(threading.current_thread().name)
        ready.set()
        return object()

    early = EarlyClient(factory)
    assert ready.wait(10)  # building started without anyone asking for the client
    first = early()
    second = early()  # e.g. the abort's retry: a fresh client, built by the caller
    assert first is not second
    assert built == ["s3-client", threading.current_thread().name]


def test_a_failure_to_build_reaches_the_first_caller() -> None:
    def factory() -> object:
        raise ValueError("no region")

    early = EarlyClient(factory)
    with pytest.raises(ValueError, match="no region"):
        early()


def test_a_client_that_never_comes_is_a_clear_error_after_the_deadline() -> None:
    release = threading.Event()
    early = EarlyClient(lambda: release.wait(30), timeout=0.2)
    try:
        with pytest.raises(StorageError, match=r"S3 client was not ready after 0\.2 s"):
            early()
    finally:
        release.set()
