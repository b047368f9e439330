"""Resolve a container's `env` the way the kubelet does: values, Secrets, ConfigMaps, fieldRefs.

Pure: the referenced Secrets and ConfigMaps are passed in as already-fetched objects.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any

_FIELD_LABEL = re.compile(r"^metadata\.(labels|annotations)\['([^']+)'\]$")
_EXPANSION = re.compile(r"\$(\$|\(([A-Za-z_][A-Za-z0-9_.-]*)\))")


class EnvError(Exception):
    """A required reference could not be resolved: the kubelet's CreateContainerConfigError."""


def secret_value(secret: Mapping[str, Any], key: str) -> str | None:
    if key in (secret.get("stringData") or {}):
        return str(secret["stringData"][key])
    encoded = (secret.get("data") or {}).get(key)
    return None if encoded is None else base64.b64decode(encoded).decode("utf-8")


def field_value(pod: Mapping[str, Any], path: str) -> str:
    metadata = pod.get("metadata", {})
    simple = {
        "metadata.name": metadata.get("name"),
        "metadata.namespace": metadata.get("namespace"),
        "metadata.uid": metadata.get("uid"),
        "spec.nodeName": "localhost",
        "spec.serviceAccountName": pod.get("spec", {}).get("serviceAccountName", "default"),
        "status.podIP": "127.0.0.1",
        "status.podIPs": "127.0.0.1",
        "status.hostIP": "127.0.0.1",
        "status.hostIPs": "127.0.0.1",
    }
    if path in simple:
        return str(simple[path] or "")
    match = _FIELD_LABEL.match(path)
    if match:
        return str(metadata.get(match.group(1), {}).get(match.group(2), ""))
    raise EnvError(f"unsupported fieldRef.fieldPath {path!r}")


def resolve_env(
    container: Mapping[str, Any],
    pod: Mapping[str, Any],
    objects: Mapping[tuple[str, str], Mapping[str, Any] | None],
) -> dict[str, str]:
    """The container's environment; `objects` maps ("secret"|"configmap", name) to the object."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        prefix = source.get("prefix", "")
        for kind, key in (("secret", "secretRef"), ("configmap", "configMapRef")):
            if key in source:
                ref = source[key]
                obj = objects.get((kind, ref["name"]))
                if obj is None:
                    if not ref.get("optional"):
                        raise EnvError(f"{kind} {ref['name']!r} not found")
                    continue
                if kind == "secret":
                    keys = set(obj.get("data") or {}) | set(obj.get("stringData") or {})
                    for name in sorted(keys):
                        env[prefix + name] = secret_value(obj, name) or ""
                else:
                    for name, value in sorted((obj.get("data") or {}).items()):
                        env[prefix + name] = str(value)
    for var in container.get("env", []):
        name = var["name"]
        if "value" in var:
            env[name] = expand(str(var["value"]), env)
            continue
        source = var.get("valueFrom")
        if source is None:
            env[name] = ""
            continue
        value = _value_from(source, pod, objects)
        if value is not None:
            env[name] = value
    return env


def _value_from(
    source: Mapping[str, Any],
    pod: Mapping[str, Any],
    objects: Mapping[tuple[str, str], Mapping[str, Any] | None],
) -> str | None:
    if "fieldRef" in source:
        return field_value(pod, source["fieldRef"]["fieldPath"])
    for kind, key in (("secret", "secretKeyRef"), ("configmap", "configMapKeyRef")):
        if key not in source:
            continue
        ref = source[key]
        obj = objects.get((kind, ref["name"]))
        value = None
        if obj is not None:
            if kind == "secret":
                value = secret_value(obj, ref["key"])
            else:
                raw = (obj.get("data") or {}).get(ref["key"])
                value = None if raw is None else str(raw)
        if value is None and not ref.get("optional"):
            raise EnvError(f"{kind} {ref['name']!r} has no key {ref['key']!r}")
        return value
    raise EnvError(f"unsupported valueFrom {sorted(source)}")


def expand(value: str, env: Mapping[str, str]) -> str:
    """`$(VAR)` references, as Kubernetes expands them in env values, command and args:
    unknown names stay as written, and `$$` is an escaped `$`."""

    def replace(match: re.Match[str]) -> str:
        if match.group(1) == "$":
            return "$"
        return env.get(match.group(2), match.group(0))

    return _EXPANSION.sub(replace, value)


def references(container: Mapping[str, Any]) -> set[tuple[str, str]]:
    """The (kind, name) of every Secret and ConfigMap the container's env refers to."""
    refs: set[tuple[str, str]] = set()
    for source in container.get("envFrom", []):
        if "secretRef" in source:
            refs.add(("secret", source["secretRef"]["name"]))
        if "configMapRef" in source:
            refs.add(("configmap", source["configMapRef"]["name"]))
    for var in container.get("env", []):
        source = var.get("valueFrom") or {}
        if "secretKeyRef" in source:
            refs.add(("secret", source["secretKeyRef"]["name"]))
        if "configMapKeyRef" in source:
            refs.add(("configmap", source["configMapKeyRef"]["name"]))
    return refs
