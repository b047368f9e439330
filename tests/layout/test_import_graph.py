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


def test_every_module_imports_alone_in_a_fresh_interpreter() -> None:
    names = [name for name, _ in modules() if not name.endswith("__main__")]
    # One interpreter per module, run a few at a time: a module that needs another to be
    # imported first fails here even if the test suite's import order happens to hide it.
    script = "import importlib, sys; importlib.import_module(sys.argv[1])"
    failures: list[str] = []
    running: list[tuple[str, subprocess.Popen[str]]] = []

    def reap(entry: tuple[str, subprocess.Popen[str]]) -> None:
        name, process = entry
        _, err = process.communicate(timeout=120)
        if process.returncode != 0:
            failures.append(f"{name}: {err.strip().splitlines()[-1] if err.strip() else '?'}")

    for name in names:
        running.append(
            (
                name,
                subprocess.Popen(
                    [sys.executable, "-c", script, name],
                    cwd=REPO,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
            )
        )
        if len(running) >= 4:
            reap(running.pop(0))
    for entry in running:
        reap(entry)
    assert failures == []
