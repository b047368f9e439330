"""Fresh venvs, one per program's extra, for tests/layout/test_extras_alone.py.

Building them (one wheel of the working tree, then `pip install 'wheel[extra]'` into three new
venvs in parallel, from pip's cache) takes half a minute of mostly waiting on pip, so
tests/conftest.py starts it in the background as soon as collection shows that the test will
run; the test's fixture waits for it (`wait()`). Everything lives in one temporary folder that
is removed when the session ends.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# extra -> (the packages that extra's program consists of, its entry point's module)
PROGRAMS = {
    "exporter": (("exporter",), "exporter"),
    "api": (("api",), "api"),
    "operator": (("streamexport_operator",), "streamexport_operator"),
}
# Never copied into the build: state, caches and the development venv.
UNCOPIED = (".git", ".venv", ".stack", ".demo", "build", "*.egg-info", "__pycache__", ".*_cache")
INSTALL_TIMEOUT = 600
# The build runs beside the other suites: at a low priority, it takes only the CPU they leave
# idle (they wait on servers and subprocesses much of the time) and slows none of them.
NICE = ("nice", "-n", "15")

_pool: ThreadPoolExecutor | None = None
_build: Future[dict[str, Path]] | None = None
_workdir: Path | None = None


def run(command: list[str], *, cwd: Path = Path("/"), timeout: float = 120) -> str:
    """Run `command` outside the checkout (so that its folders are not importable) and without
    this venv's environment; its stdout, or an AssertionError with its output."""
    result = subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
        check=False,
    )
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _wheel(workdir: Path) -> Path:
    """One wheel of the working tree, built from a copy (never writes into the checkout)."""
    source = workdir / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*UNCOPIED))
    wheels = workdir / "wheels"
    run(
        [*NICE, sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), "."],
        cwd=source,
        timeout=INSTALL_TIMEOUT,
    )
    [wheel] = wheels.glob("streamexport-*.whl")
    return wheel


def _install(workdir: Path, wheel: Path, extra: str) -> Path:
    """A fresh venv holding the wheel with `extra` and nothing else; returns its python."""
    target = workdir / f"venv-{extra}"
    run([*NICE, sys.executable, "-m", "venv", "--clear", str(target)], timeout=INSTALL_TIMEOUT)
    python = target / "bin" / "python"
    run(
        [*NICE, str(python), "-m", "pip", "install", "-q", "--no-compile", f"{wheel}[{extra}]"],
        timeout=INSTALL_TIMEOUT,
    )
    return python


def _build_all(pool: ThreadPoolExecutor, workdir: Path) -> dict[str, Path]:
    wheel = _wheel(workdir)
    futures = {extra: pool.submit(_install, workdir, wheel, extra) for extra in PROGRAMS}
    return {extra: future.result() for extra, future in futures.items()}


def start() -> None:
    """Start building, once per session."""
    global _pool, _build, _workdir
    if _build is not None:
        return
    _workdir = Path(tempfile.mkdtemp(prefix="streamexport-extras-"))
    _pool = ThreadPoolExecutor(max_workers=1 + len(PROGRAMS), thread_name_prefix="extravenvs")
    _build = _pool.submit(_build_all, _pool, _workdir)


def wait() -> dict[str, Path]:
    """The venvs' pythons, once built (starts the build if nothing did)."""
    start()
    assert _build is not None
    return _build.result(timeout=INSTALL_TIMEOUT)


def stop() -> None:
    """Wait for a build still running, then remove everything."""
    global _pool, _build, _workdir
    if _pool is not None:
        _pool.shutdown(wait=True)
    if _workdir is not None:
        shutil.rmtree(_workdir, ignore_errors=True)
    _pool = _build = _workdir = None
