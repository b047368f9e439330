"""Each program's extra installs alone into a fresh venv, and the program runs from it.

The images install exactly these extras (Dockerfile.exporter `[exporter]`, Dockerfile.operator
`[api,operator]`), so an import that only works because another extra happened to be installed
alongside would break an image. The venvs are built once per session, in parallel, from one
wheel of the working tree (non-editable, as in an image), using pip's cache, in the
background while the other suites run.
"""

from __future__ import annotations

from pathlib import Path

import extravenvs
import pytest
from extravenvs import PROGRAMS, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def extra_pythons() -> dict[str, Path]:
    """extra -> the python of a fresh venv holding only that extra (built in the background
    from the start of the session, see tests/extravenvs.py)."""
    return extravenvs.wait()


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
    run([str(extra_pythons[extra]), "-c", IMPORT_ALL, *packages])


@pytest.mark.parametrize("extra", sorted(PROGRAMS))
def test_the_entry_point_prints_its_help_with_its_extra_alone(
    extra_pythons: dict[str, Path], extra: str
) -> None:
    _, entry_point = PROGRAMS[extra]
    # No settings in the environment: --help must not need any.
    out = run([str(extra_pythons[extra]), "-m", entry_point, "--help"])
    assert f"python -m {entry_point}" in out


def test_an_extra_brings_no_other_program_s_libraries(extra_pythons: dict[str, Path]) -> None:
    """The operator's image has no database driver, the exporter's no web framework."""
    absent = {"operator": ("psycopg", "openpyxl"), "exporter": ("aiohttp", "kopf", "jwt")}
    probe = "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) for m in sys.argv[1:]))"
    for extra, modules in absent.items():
        run([str(extra_pythons[extra]), "-c", probe, *modules])
