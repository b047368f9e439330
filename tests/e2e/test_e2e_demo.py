"""`make demo` keeps working: its script runs the whole flow on a small table and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from devstack.processes import free_port

REPO = Path(__file__).resolve().parents[2]


def test_demo_runs_one_export_per_format_and_shuts_down_cleanly() -> None:
    ports = {
        f"STACK_{name}_PORT": str(free_port())
        for name in (
            "KUBE", "API", "S3", "SMTP", "OPERATOR_HEALTH", "OPERATOR_METRICS", "WEBHOOK"
        )
    }
    result = subprocess.run(
        [sys.executable, "-m", "devstack.demo", "--rows", "20000", "--timeout", "180"],
        cwd=REPO, env={**os.environ, **ports}, capture_output=True, text=True, timeout=400,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert output.count("(matches actualRowCount") == 4, output[-4000:]  # one per format
    assert "Your TRANSACTIONS export is ready" in output
    assert output.count(": webhook export.completed event ") == 4, output[-4000:]
    assert output.rstrip().endswith("done.")
    api_port = int(ports["STACK_API_PORT"])
    assert _port_is_free(api_port), "the demo left its API running"


def _port_is_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0
