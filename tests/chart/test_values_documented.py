"""Every key of values.yaml has a comment right above it (what it does, unit, default), and
the schema knows every key, so a typo is an error rather than a silently ignored value."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from chart_helpers import CHART_DIR

VALUES_FILE = CHART_DIR / "values.yaml"
KEY_LINE = re.compile(r"^\s*(?:- )?[A-Za-z0-9_.\-/]+:(\s|$)")


def test_every_key_has_a_comment_above_it() -> None:
    lines = VALUES_FILE.read_text(encoding="utf-8").splitlines()
    undocumented = []
    for number, line in enumerate(lines):
        if not KEY_LINE.match(line):
            continue
        previous = next((p for p in reversed(lines[:number]) if p.strip()), "")
        if not previous.lstrip().startswith("#"):
            undocumented.append(f"values.yaml:{number + 1}: {line.strip()}")
    assert undocumented == []


def test_scalar_keys_state_their_default() -> None:
    """Each scalar key's comment block says "Default:"."""
    lines = VALUES_FILE.read_text(encoding="utf-8").splitlines()
    missing = []
    for number, line in enumerate(lines):
        match = re.match(r"^\s*([A-Za-z0-9_]+): (\S.*)$", line)
        if not match or line.lstrip().startswith("-"):
            continue
        block = []
        for previous in reversed(lines[:number]):
            if not previous.lstrip().startswith("#"):
                break
            block.append(previous)
        if "Default:" not in " ".join(block):
            missing.append(f"values.yaml:{number + 1}: {line.strip()}")
    assert missing == []


def schema_paths(schema: dict[str, Any], root: dict[str, Any], prefix: str = "") -> set[str]:
    """Dotted paths of the object properties the schema declares."""
    if "$ref" in schema:
        schema = root["definitions"][schema["$ref"].rsplit("/", 1)[1]]
    paths = set()
    for name, sub in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        paths.add(path)
        paths |= schema_paths(sub, root, path + ".")
    return paths


def value_paths(values: Any, prefix: str = "") -> set[str]:
    if not isinstance(values, dict):
        return set()
    paths = set()
    for name, sub in values.items():
        paths.add(f"{prefix}{name}")
        paths |= value_paths(sub, f"{prefix}{name}.")
    return paths


KUBERNETES_OBJECTS = (
    "podSecurityContext.",
    "containerSecurityContext.",
    "networkPolicy.exporterPodSelector.",
)


def test_schema_declares_every_default_key() -> None:
    schema = json.loads((CHART_DIR / "values.schema.json").read_text(encoding="utf-8"))
    values = yaml.safe_load(VALUES_FILE.read_text(encoding="utf-8"))
    declared = schema_paths(schema, schema)
    # Kubernetes' own objects (securityContext, selectors, resources) pass through unchecked.
    undeclared = {
        path
        for path in value_paths(values) - declared
        if not path.startswith(KUBERNETES_OBJECTS) and ".resources." not in path
    }
    assert undeclared == set()
