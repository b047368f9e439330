"""`python -m devstack.timeshift SECONDS api|operator` runs the real program (its settings
checks included) with its clock moved; tests/e2e/test_e2e_failures.py uses it for expiry."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ENV = {"PATH": os.environ.get("PATH", "")}  # no settings at all: each program refuses to start


@pytest.mark.parametrize(
    ("program", "refusal"),
    [
        ("api", "error: DATABASE_URL is required but not set"),
        ("operator", "configuration error: EXPORTER_IMAGE is required but not set"),
    ],
)
def test_it_runs_the_named_program(program: str, refusal: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "devstack.timeshift", "3600", program],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert refusal in done.stderr


def test_an_unknown_program_is_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "devstack.timeshift", "60", "exporter"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "invalid choice: 'exporter'" in done.stderr
