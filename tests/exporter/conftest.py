"""Running the exporter the way the Job does: `python -m exporter` as a subprocess.

Fixtures:
- `run_exporter(*args, env=None, timeout=120) -> Run`: run to completion; `env` entries are
  added to `service_env` (a value of None removes the variable).
- `start_exporter(*args, env=None) -> Running`: start it and read its stderr as it goes.
- `objects(bucket) -> list[str]` / `uploads(bucket) -> list[dict]`: what the bucket holds.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest

EXPORTER = [sys.executable, "-m", "exporter"]


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def result(self) -> dict[str, Any]:
        lines = self.stdout.strip().splitlines()
        assert len(lines) == 1, f"expected one JSON line on stdout, got {self.stdout!r}"
        document: dict[str, Any] = json.loads(lines[0])
        return document

    @property
    def stderr_lines(self) -> list[str]:
        return self.stderr.strip().splitlines()


def _environment(base: Mapping[str, str], extra: Mapping[str, str | None] | None) -> dict[str, str]:
    env = dict(base)
    env["TERMINATION_MESSAGE_PATH"] = ""
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


@pytest.fixture
def run_exporter(service_env: dict[str, str]) -> Callable[..., Run]:
    def run(*args: str, env: Mapping[str, str | None] | None = None, timeout: float = 120) -> Run:
        completed = subprocess.run(
            [*EXPORTER, *args],
            env=_environment(service_env, env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Run(completed.returncode, completed.stdout, completed.stderr)

    return run


@dataclass
class Running:
    """A running exporter whose stderr lines are collected by a thread."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    _queue: queue.SimpleQueue[str | None] = field(default_factory=queue.SimpleQueue)
    _reader: threading.Thread | None = None
    _stdout: str = ""

    def start_reading(self) -> None:
        def read() -> None:
            assert self.process.stderr is not None
            for line in self.process.stderr:
                self._queue.put(line.rstrip("\n"))
            self._queue.put(None)

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()

    def wait_for_line(self, needle: str, timeout: float) -> str:
        """The first stderr line containing `needle`; fails the test after `timeout`."""
        for line in self.lines:
            if needle in line:
                return line
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                received = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            if received is None:
                break
            self.lines.append(received)
            if needle in received:
                return received
        raise AssertionError(f"no stderr line with {needle!r} in {timeout}s: {self.lines}")

    def wait(self, timeout: float) -> Run:
        assert self.process.stdout is not None
        stdout = self.process.stdout.read()  # returns at exit (stdout is small)
        returncode = self.process.wait(timeout)
        if self._reader is not None:
            self._reader.join(timeout)
        while (line := self._drain()) is not None:
            self.lines.append(line)
        self.process.stdout.close()
        assert self.process.stderr is not None
        self.process.stderr.close()
        return Run(returncode, stdout, "\n".join(self.lines))

    def _drain(self) -> str | None:
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None


@pytest.fixture
def start_exporter(service_env: dict[str, str]) -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def start(*args: str, env: Mapping[str, str | None] | None = None) -> Running:
        process = subprocess.Popen(
            [*EXPORTER, *args],
            env=_environment(service_env, env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        running = Running(process)
        running.start_reading()
        started.append(running)
        return running

    yield start
    for running in started:  # a failed test must not leave an exporter behind
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait()
        if running._reader is not None:
            running._reader.join(10)
        for stream in (running.process.stdout, running.process.stderr):
            if stream is not None and not stream.closed:
                stream.close()


COLUMNS = "id, created_at, amount, currency, status, customer_email, description, merchant_id"


@pytest.fixture
def fetch_rows(db: psycopg.Connection[Any]) -> Callable[..., list[tuple[Any, ...]]]:
    """The transactions table's typed rows in export order, optionally only `WHERE ids`."""

    def fetch(ids: list[int] | None = None) -> list[tuple[Any, ...]]:
        query = f"SELECT {COLUMNS} FROM transactions"
        if ids is not None:
            query += " WHERE id = ANY(%s)"
        query += " ORDER BY created_at, id"
        return db.execute(query, (ids,) if ids is not None else None).fetchall()

    return fetch


@pytest.fixture
def objects(s3_client: Any) -> Callable[[str], list[str]]:
    def keys(bucket: str) -> list[str]:
        listing = s3_client.list_objects_v2(Bucket=bucket)
        return [item["Key"] for item in listing.get("Contents", [])]

    return keys


@pytest.fixture
def uploads(s3_client: Any) -> Callable[[str], list[dict[str, Any]]]:
    def pending(bucket: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = s3_client.list_multipart_uploads(Bucket=bucket).get(
            "Uploads", []
        )
        return found

    return pending
