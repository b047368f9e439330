"""`make up` heals: an operator killed (SIGKILL) while an export runs is restarted by the
supervisor with backoff, and the export completes once: one Job, one email."""

from __future__ import annotations

import os
import signal
import time

from e2e_support import Client
from test_e2e_failures import _exporter_processes, _job_failures, _mails_about

from devstack.stack import Stack


def test_an_export_in_flight_when_the_operator_is_killed_completes_once(
    stack: Stack, alice: Client
) -> None:
    said: list[str] = []
    stack.supervisor.say = said.append
    try:
        export_id = alice.create("xlsx", startDate="2024-01-01", endDate="2024-08-31")
        alice.wait(
            export_id, lambda b: b["status"] == "PROCESSING" and _exporter_processes(export_id)
        )
        [operator] = [c for c in stack.supervisor.children if c.name == "operator"]
        os.kill(operator.process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 180
        while True:
            stack.supervisor.heal()
            _, body = alice.get(export_id)
            if body["status"] in ("COMPLETED", "FAILED", "CANCELLED") and operator.restarts:
                break
            assert time.monotonic() < deadline, (body, said)
            time.sleep(0.2)
    finally:
        stack.supervisor.say = print
    assert body["status"] == "COMPLETED", body
    assert any("operator exited with code 137" in line for line in said), said
    assert _job_failures(stack, export_id) == 0
    deadline = time.monotonic() + 30
    while not _mails_about(stack, export_id):
        assert time.monotonic() < deadline, "no email"
        time.sleep(0.2)
    assert len(_mails_about(stack, export_id)) == 1
