"""The components stand side by side on the shared core: no cycles, no imports across them.

The graph is read from the source (every `import` and `from ... import`, also inside
functions), so a lazy import cannot hide a cycle; each module is also imported alone in a
fresh interpreter, so none of them works only after another was imported first.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = {
    "streamexport_core": REPO / "core" / "streamexport_core",
    "exporter": REPO / "exporter",
    "api": REPO / "api",
    "streamexport_operator": REPO / "operator" / "streamexport_operator",
}
# What each component may import of ours: the core, and itself.
ALLOWED = {
    "streamexport_core": {"streamexport_core"},
    "exporter": {"exporter", "streamexport_core"},
    "api": {"api", "streamexport_core"},
    "streamexport_operator": {"streamexport_operator", "streamexport_core"},
}
OURS = set(PACKAGES) | {"devstack"}


def module_name(package: str, path: Path) -> str:
    parts = path.relative_to(PACKAGES[package]).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((package, *parts))


def modules() -> Iterator[tuple[str, Path]]:
    for package, root in PACKAGES.items():
        for path in sorted(root.rglob("*.py")):
            yield module_name(package, path), path


def imports_of(name: str, path: Path) -> set[str]:
    """Our modules that `name` imports (a `from pkg import mod` counts as `pkg.mod`)."""
    known = {module for module, _ in modules()}
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            if target.split(".")[0] not in OURS:
                continue
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


GRAPH = {name: imports_of(name, path) for name, path in modules()}


def test_no_import_cycles() -> None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> None:
        if node in done:
            return
        if node in visiting:
            cycle = [*visiting[visiting.index(node) :], node]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        visiting.append(node)
        for target in sorted(GRAPH[node]):
            # A package's __init__ importing its own submodules is not a cycle.
            if not target.startswith(node + "."):
                visit(target)
        visiting.pop()
        done.add(node)

    for node in sorted(GRAPH):
        visit(node)


def test_components_import_only_the_core_and_themselves() -> None:
    crossings = [
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        for target in targets
        if target.split(".")[0] not in ALLOWED[name.split(".")[0]]
    ]
    assert crossings == []


def test_the_core_package_imports_no_third_party_module_on_import() -> None:
    heavy = ("psycopg", "boto3", "botocore", "yaml", "aiohttp", "kopf")
    code = f"import sys, streamexport_core; print(sorted(set(sys.modules) & set({heavy!r})))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# Imported once before the forks: third-party packages, never ours. Importing them is most of
# each module's import time (boto3, kopf, psycopg: ~1 s together), and which third-party
# packages each program's extra really provides is tests/layout/test_extras_alone.py's job.
THIRD_PARTY = (
    "aiohttp", "boto3", "botocore.config", "jinja2", "jwt", "kopf", "lxml", "openpyxl",
    "prometheus_client", "psycopg", "psycopg_pool", "yaml",
)
# Forks one child per module from a parent that has imported none of ours: each child starts
# with only the stdlib and THIRD_PARTY loaded, imports its one module, and reports.
ALONE = """
import importlib, os, sys
for package in sys.argv[1].split(","):
    try:
        importlib.import_module(package)
    except ImportError:
        pass  # not installed: the child imports (and fails on) it itself
assert not [m for m in sys.modules if m.split(".")[0] in sys.argv[2].split(",")]
failures = []
for name in sys.argv[3:]:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            importlib.import_module(name)
        except BaseException as exc:
            os.write(write, f"{type(exc).__name__}: {exc}".encode()[:2000])
            os._exit(1)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        message = pipe.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    if status != 0:
        failures.append(f"{name}: {message or status}")
print("\\n".join(failures))
sys.exit(1 if failures else 0)
"""


def test_every_module_imports_alone_in_a_fresh_interpreter() -> None:
    """A module that needs another of ours to be imported first fails here even if the test
    suite's import order happens to hide it."""
    names = [name for name, _ in modules() if not name.endswith("__main__")]
    result = subprocess.run(
        [sys.executable, "-c", ALONE, ",".join(THIRD_PARTY), ",".join(sorted(OURS)), *names],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
