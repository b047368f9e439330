"""`python -m devstack.kubeapi`: serves in the foreground and stops cleanly on signals."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

READY = re.compile(r"kubeapi ready url=(http://\S+)")


@pytest.fixture
def cli(crd_path: Path) -> Iterator[subprocess.Popen[str]]:
    command = [sys.executable, "-m", "devstack.kubeapi", "--port", "0", "--crd", str(crd_path)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    yield process
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)
    assert process.stderr is not None
    process.stderr.close()


def _ready_url(process: subprocess.Popen[str]) -> str:
    assert process.stderr is not None
    for line in process.stderr:  # ends at EOF if the process dies: then the test fails
        if match := READY.search(line):
            return match.group(1)
    raise AssertionError(f"no ready line; exit code {process.wait(timeout=10)}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_and_exits_zero_on_signal(
    cli: subprocess.Popen[str], sig: signal.Signals
) -> None:
    url = _ready_url(cli)
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(f"{url}/apis/streamexport.io/v1", timeout=5) as response:  # noqa: S310
        assert json.load(response)["groupVersion"] == "streamexport.io/v1"
    cli.send_signal(sig)
    assert cli.wait(timeout=10) == 0


def test_cli_exits_one_for_an_invalid_crd_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: CustomResourceDefinition\nmetadata: {name: x}\nspec: {}\n")
    command = [sys.executable, "-m", "devstack.kubeapi", "--port", "0", "--crd", str(bad)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert "cannot load CRDs" in done.stderr
