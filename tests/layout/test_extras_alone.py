"""Each program's extra installs alone into a fresh venv, and the program runs from it.

The images install exactly these extras (Dockerfile.exporter `[exporter]`, Dockerfile.operator
`[api,operator]`), so an import that only works because another extra happened to be installed
alongside would break an image. The venvs are built once per session, in parallel, from one
wheel of the working tree (non-editable, as in an image), using pip's cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# extra -> (the packages that extra's program consists of, its entry point's module)
PROGRAMS = {
    "exporter": (("exporter",), "exporter"),
    "api": (("api",), "api"),
    "operator": (("streamexport_operator",), "streamexport_operator"),
}
# Never copied into the build: state, caches and the development venv.
UNCOPIED = (".git", ".venv", ".stack", ".demo", "build", "*.egg-info", "__pycache__", ".*_cache")
INSTALL_TIMEOUT = 600

pytestmark = pytest.mark.slow


def _run(command: list[str], *, cwd: Path = Path("/"), timeout: float = 120) -> str:
    """Run `command` outside the checkout (so that its folders are not importable)."""
    result = subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        # Not this venv's: only what the fresh venv holds may be importable.
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
    _run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), "."],
        cwd=source,
        timeout=INSTALL_TIMEOUT,
    )
    [wheel] = wheels.glob("streamexport-*.whl")
    return wheel


def _install(workdir: Path, wheel: Path, extra: str) -> Path:
    """A fresh venv holding the wheel with `extra` and nothing else; returns its python."""
    target = workdir / f"venv-{extra}"
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    python = target / "bin" / "python"
    _run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-compile", f"{wheel}[{extra}]"],
        timeout=INSTALL_TIMEOUT,
    )
    return python


@pytest.fixture(scope="session")
def extra_pythons(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    workdir = tmp_path_factory.mktemp("extras")
    wheel = _wheel(workdir)
    with ThreadPoolExecutor(max_workers=len(PROGRAMS)) as pool:
        futures = {extra: pool.submit(_install, workdir, wheel, extra) for extra in PROGRAMS}
        yield {extra: future.result() for extra, future in futures.items()}


# Imports every module of the packages and reports any that fail, in the venv's interpreter.
IMPORT_ALL = """
import importlib, pkgutil, sys
failed = []
for name in sys.argv[1:]:
    package = importlib.import_module(name)
    for module in pkgutil.walk_packages(package.__path__, name + "."):
        if module.name.endswith(".__main__"):  # runs the program; the --help test covers it
            continue
        try:
            importlib.import_module(module.name)
        except Exception as exc:
            failed.append(f"{module.name}: {type(exc).__name__}: {exc}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


@pytest.mark.parametrize("extra", sorted(PROGRAMS))
def test_every_module_of_the_program_imports_with_its_extra_alone(
    extra_pythons: dict[str, Path], extra: str
) -> None:
    packages, _ = PROGRAMS[extra]
    _run([str(extra_pythons[extra]), "-c", IMPORT_ALL, *packages])


@pytest.mark.parametrize("extra", sorted(PROGRAMS))
def test_the_entry_point_prints_its_help_with_its_extra_alone(
    extra_pythons: dict[str, Path], extra: str
) -> None:
    _, entry_point = PROGRAMS[extra]
    # No settings in the environment: --help must not need any.
    out = _run([str(extra_pythons[extra]), "-m", entry_point, "--help"])
    assert f"python -m {entry_point}" in out


def test_an_extra_brings_no_other_program_s_libraries(extra_pythons: dict[str, Path]) -> None:
    """The operator's image has no database driver, the exporter's no web framework."""
    absent = {"operator": ("psycopg", "openpyxl"), "exporter": ("aiohttp", "kopf", "jwt")}
    probe = "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) for m in sys.argv[1:]))"
    for extra, modules in absent.items():
        _run([str(extra_pythons[extra]), "-c", probe, *modules])
