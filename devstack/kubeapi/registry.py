"""The served resource types: built-in kinds plus whatever CustomResourceDefinitions add."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
SUBRESOURCE_VERBS = ("get", "patch", "update")


@dataclass(frozen=True)
class PrinterColumn:
    """One `additionalPrinterColumns` entry of a CRD version (only simple `.a.b` paths)."""

    name: str
    type: str
    json_path: str
    description: str = ""
    priority: int = 0
    format: str = ""


@dataclass(frozen=True)
class ResourceType:
    """One served group/version/plural, as listed in discovery."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: frozenset[str] = frozenset()
    printer_columns: tuple[PrinterColumn, ...] = ()
    list_kind: str = ""
    # CRD-defined kinds differ from built-ins in small ways (delete response, patch types).
    custom: bool = False
    crd_name: str = field(default="", compare=False)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def storage_key(self) -> str:
        # All versions of one group/plural share one storage, as in etcd.
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def list_kind_name(self) -> str:
        return self.list_kind or f"{self.kind}List"

    @property
    def singular_name(self) -> str:
        return self.singular or self.kind.lower()


def _builtin(
    group: str,
    version: str,
    plural: str,
    kind: str,
    *,
    namespaced: bool = True,
    short: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
    status: bool = False,
) -> ResourceType:
    return ResourceType(
        group=group,
        version=version,
        plural=plural,
        kind=kind,
        namespaced=namespaced,
        short_names=short,
        categories=categories,
        subresources=frozenset({"status"}) if status else frozenset(),
    )


BUILTINS: tuple[ResourceType, ...] = (
    _builtin("", "v1", "namespaces", "Namespace", namespaced=False, short=("ns",), status=True),
    ResourceType(
        group="",
        version="v1",
        plural="pods",
        kind="Pod",
        namespaced=True,
        short_names=("po",),
        categories=("all",),
        subresources=frozenset({"status", "eviction"}),  # eviction: POST only (`eviction`)
    ),
    _builtin("", "v1", "events", "Event", short=("ev",)),
    _builtin("", "v1", "secrets", "Secret"),
    _builtin("", "v1", "configmaps", "ConfigMap", short=("cm",)),
    _builtin("", "v1", "serviceaccounts", "ServiceAccount", short=("sa",)),
    _builtin("batch", "v1", "jobs", "Job", categories=("all",), status=True),
    _builtin("events.k8s.io", "v1", "events", "Event", short=("ev",)),
    _builtin("coordination.k8s.io", "v1", "leases", "Lease"),
    _builtin(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        namespaced=False,
        short=("crd", "crds"),
        categories=("api-extensions",),
        status=True,
    ),
)

CRD_STORAGE_KEY = "customresourcedefinitions.apiextensions.k8s.io"
NAMESPACES_STORAGE_KEY = "namespaces"

_VERSION_RE = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version: str) -> tuple[int, int, int]:
    """Kubernetes' version ordering: GA > beta > alpha, higher numbers first."""
    match = _VERSION_RE.match(version)
    if not match:
        return (-1, 0, 0)
    stage = {"alpha": 0, "beta": 1, None: 2}[match.group(2)]
    return (stage, int(match.group(1)), int(match.group(3) or 0))


def crd_resource_types(crd: JSON) -> list[ResourceType]:
    """Parse a CRD into its served resource types; ValueError names the bad field."""
    name = _get(crd, "metadata", "name")
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        raise ValueError("spec: Required value")
    group, names = spec.get("group"), spec.get("names")
    if not isinstance(group, str) or not group:
        raise ValueError("spec.group: Required value")
    if not isinstance(names, dict):
        raise ValueError("spec.names: Required value")
    plural, kind = names.get("plural"), names.get("kind")
    if not isinstance(plural, str) or not plural or not isinstance(kind, str) or not kind:
        raise ValueError("spec.names.plural and spec.names.kind: Required value")
    if name != f"{plural}.{group}":
        raise ValueError("metadata.name: Invalid value: must be spec.names.plural+'.'+spec.group")
    scope = spec.get("scope")
    if scope not in ("Namespaced", "Cluster"):
        raise ValueError("spec.scope: Unsupported value: must be Namespaced or Cluster")
    versions = spec.get("versions")
    if not isinstance(versions, list) or not versions:
        raise ValueError("spec.versions: Required value")

    result: list[ResourceType] = []
    for ver in versions:
        if not isinstance(ver, dict) or not isinstance(ver.get("name"), str):
            raise ValueError("spec.versions[].name: Required value")
        if not ver.get("served", True):
            continue
        subresources = ver.get("subresources") or {}
        result.append(
            ResourceType(
                group=group,
                version=ver["name"],
                plural=plural,
                kind=kind,
                namespaced=scope == "Namespaced",
                singular=str(names.get("singular") or kind.lower()),
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                subresources=frozenset(k for k in ("status", "scale") if k in subresources),
                printer_columns=tuple(_printer_columns(ver.get("additionalPrinterColumns"))),
                list_kind=str(names.get("listKind") or f"{kind}List"),
                custom=True,
                crd_name=str(name),
            )
        )
    return result


def _printer_columns(raw: Any) -> list[PrinterColumn]:
    if not isinstance(raw, list):
        return []
    return [
        PrinterColumn(
            name=str(col.get("name", "")),
            type=str(col.get("type", "string")),
            json_path=str(col.get("jsonPath", "")),
            description=str(col.get("description", "")),
            priority=int(col.get("priority", 0)),
            format=str(col.get("format", "")),
        )
        for col in raw
        if isinstance(col, dict)
    ]


def _get(obj: JSON, *path: str) -> Any:
    value: Any = obj
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


class Registry:
    """Mutable index of served resource types; CRD writes add and remove entries."""

    def __init__(self) -> None:
        self._types: dict[tuple[str, str, str], ResourceType] = {}
        for rt in BUILTINS:
            self._types[(rt.group, rt.version, rt.plural)] = rt

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._types.get((group, version, plural))

    def all(self) -> list[ResourceType]:
        return list(self._types.values())

    def resources(self, group: str, version: str) -> list[ResourceType]:
        return [rt for (g, v, _), rt in self._types.items() if (g, v) == (group, version)]

    def groups(self) -> dict[str, list[str]]:
        """Non-core groups with their versions, preferred (highest priority) first."""
        found: dict[str, set[str]] = {}
        for group, version, _ in self._types:
            if group:
                found.setdefault(group, set()).add(version)
        return {
            group: sorted(versions, key=version_priority, reverse=True)
            for group, versions in sorted(found.items())
        }

    def by_storage_key(self, storage_key: str) -> ResourceType | None:
        """The preferred resource type for one storage (used to describe stored objects)."""
        matches = [rt for rt in self._types.values() if rt.storage_key == storage_key]
        matches.sort(key=lambda rt: version_priority(rt.version), reverse=True)
        return matches[0] if matches else None

    def register_crd(self, crd: JSON) -> None:
        """(Re)register a CRD's versions; raises ValueError for an invalid CRD."""
        types = crd_resource_types(crd)
        self.unregister_crd(str(crd["metadata"]["name"]))
        for rt in types:
            key = (rt.group, rt.version, rt.plural)
            if key in self._types and not self._types[key].custom:
                continue  # a CRD cannot shadow a built-in kind
            self._types[key] = rt

    def unregister_crd(self, name: str) -> None:
        for key in [k for k, rt in self._types.items() if rt.custom and rt.crd_name == name]:
            del self._types[key]
