"""A SIGKILL from outside is not an out-of-memory: it is retried, and named `Killed` when every
attempt is killed; a real memory limit still ends `OOMKilled` (see test_e2e_failures.py)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import psycopg
from e2e_support import Client
from test_e2e_failures import _exporter_processes, _job_failures, _mails_about, _open_uploads

from devstack.stack import Stack

SLOW = {"startDate": "2024-01-01", "endDate": "2024-08-31"}


@contextlib.contextmanager
def exporters_held(stack: Stack) -> Iterator[None]:
    """XLSX of these rows takes well under a second: a lock taken after the API's COUNT holds
    every exporter at its own COUNT until the block ends, so a test can kill it or outlast
    its deadline without racing the export's end."""
    with psycopg.connect(stack.database_url) as lock:
        lock.execute("LOCK TABLE transactions IN ACCESS EXCLUSIVE MODE")
        yield


def _kill_exporters(export_id: str) -> int:
    killed = 0
    for process in _exporter_processes(export_id):
        process.kill()
        killed += 1
    return killed


def test_one_external_sigkill_is_retried_and_completes(stack: Stack, alice: Client) -> None:
    export_id = alice.create("xlsx", **SLOW)
    with exporters_held(stack):
        alice.wait(
            export_id, lambda b: b["status"] == "PROCESSING" and _exporter_processes(export_id)
        )
        assert _kill_exporters(export_id) >= 1
    body = alice.wait_final(export_id, timeout=180)
    assert body["status"] == "COMPLETED", body
    assert _job_failures(stack, export_id) == 1


def test_sigkill_on_every_attempt_is_killed_not_oomkilled(stack: Stack, alice: Client) -> None:
    export_id = alice.create("xlsx", **SLOW)
    deadline = time.monotonic() + 180
    with exporters_held(stack):
        while True:
            _, body = alice.get(export_id)
            if body["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
                break
            assert time.monotonic() < deadline, body
            _kill_exporters(export_id)
            time.sleep(0.1)
    assert body["status"] == "FAILED", body
    assert body["failureReason"] == "Killed", body
    deadline = time.monotonic() + 30
    while not _mails_about(stack, export_id) or [
        u for u in _open_uploads(stack) if export_id in u["Key"]
    ]:
        assert time.monotonic() < deadline, "no failure email, or an orphan upload"
        time.sleep(0.2)
    [mail] = _mails_about(stack, export_id)
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "memory" not in text and "Killed" in text


def test_a_job_past_its_deadline_is_deadline_exceeded(stack: Stack, alice: Client) -> None:
    stack.restart_operator(JOB_ACTIVE_DEADLINE_SECONDS="2")
    try:
        export_id = alice.create("xlsx", **SLOW)
        with exporters_held(stack):
            body = alice.wait_final(export_id)
    finally:
        stack.restart_operator()
    assert (body["status"], body["failureReason"]) == ("FAILED", "DeadlineExceeded"), body
