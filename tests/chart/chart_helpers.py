"""Shared by the chart tests: render with real Helm (helm-python-sdk, Helm v4), parse."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = ROOT / "charts" / "streamexport"
ALL_ON_VALUES = Path(__file__).with_name("values-all-on.yaml")
RELEASE = "streamexport"
NAMESPACE = "exports"
# The oldest and the newest Kubernetes minor the chart is checked against.
KUBE_VERSIONS = ("1.29", "1.33")

Obj = dict[str, Any]


@dataclass(frozen=True)
class Rendered:
    """The objects of one `helm template`, parsed."""

    values_name: str
    values: dict[str, Any]
    objects: list[Obj]

    def of_kind(self, *kinds: str) -> list[Obj]:
        return [obj for obj in self.objects if obj["kind"] in kinds]

    def one(self, kind: str, component: str) -> Obj:
        """The single object of `kind` labelled with app.kubernetes.io/component=`component`."""
        found = [
            obj
            for obj in self.of_kind(kind)
            if obj["metadata"].get("labels", {}).get("app.kubernetes.io/component") == component
        ]
        assert len(found) == 1, f"expected one {kind} of {component}, got {len(found)}"
        return found[0]

    def named(self, kind: str, name: str) -> Obj:
        found = [obj for obj in self.of_kind(kind) if obj["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind}/{name}, got {len(found)}"
        return found[0]


def parse_manifests(manifests: dict[str, str]) -> list[Obj]:
    """Helm's rendered templates (path -> text) as a list of objects; NOTES.txt is skipped."""
    return [
        obj
        for path, text in sorted(manifests.items())
        if path.endswith((".yaml", ".yml"))
        for obj in yaml.safe_load_all(text)
        if obj
    ]


def load_values(path: Path) -> dict[str, Any]:
    return helm_python.values_from_yaml(path.read_text(encoding="utf-8"))


def container_env(container: Obj) -> dict[str, Any]:
    """A container's env as name -> value, or name -> valueFrom for references."""
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in container["env"]}


def pod_templates(objects: list[Obj]) -> Iterator[tuple[str, Obj]]:
    """Every pod spec the chart renders, with a label for messages."""
    for obj in objects:
        if obj["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            yield f"{obj['kind']}/{obj['metadata']['name']}", obj["spec"]["template"]["spec"]
        elif obj["kind"] == "Pod":
            yield f"Pod/{obj['metadata']['name']}", obj["spec"]
