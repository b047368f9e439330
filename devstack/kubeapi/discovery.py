"""Discovery documents (`/api`, `/apis`, `/apis/<g>/<v>`, `/version`) built from the registry.

Only the legacy (non-aggregated) discovery format is served: kubectl falls back to it when
the aggregated `apidiscovery.k8s.io` format is not offered, and kopf only knows this one.
"""

from __future__ import annotations

import platform
from typing import Any

from .registry import ALL_VERBS, SUBRESOURCE_VERBS, Registry, ResourceType

JSON = dict[str, Any]

KUBERNETES_VERSION = ("1", "32")


def version() -> JSON:
    major, minor = KUBERNETES_VERSION
    return {
        "major": major,
        "minor": minor,
        "gitVersion": f"v{major}.{minor}.0+devstack",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
        "goVersion": "n/a (devstack.kubeapi stand-in)",
        "compiler": "python",
        "platform": f"{platform.system().lower()}/{platform.machine()}",
    }


def root_paths(registry: Registry) -> JSON:
    paths = {"/api", "/api/v1", "/apis", "/version", "/healthz", "/readyz", "/livez"}
    for group, versions in registry.groups().items():
        paths.add(f"/apis/{group}")
        paths.update(f"/apis/{group}/{v}" for v in versions)
    return {"paths": sorted(paths)}


def api_versions(server_address: str) -> JSON:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group(group: str, versions: list[str]) -> JSON:
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": entries, "preferredVersion": entries[0]}


def api_group_list(registry: Registry) -> JSON:
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group(g, versions) for g, versions in registry.groups().items()],
    }


def api_group(registry: Registry, group: str) -> JSON | None:
    versions = registry.groups().get(group)
    if not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(group, versions)}


def _resource_entries(rt: ResourceType) -> list[JSON]:
    main: JSON = {
        "name": rt.plural,
        "singularName": rt.singular_name,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": list(ALL_VERBS),
    }
    if rt.short_names:
        main["shortNames"] = list(rt.short_names)
    if rt.categories:
        main["categories"] = list(rt.categories)
    subs = [_subresource_entry(rt, sub) for sub in sorted(rt.subresources)]
    return [main, *subs]


def _subresource_entry(rt: ResourceType, sub: str) -> JSON:
    entry: JSON = {
        "name": f"{rt.plural}/{sub}",
        "singularName": "",
        "namespaced": rt.namespaced,
        "kind": "Scale" if sub == "scale" else rt.kind,
        "verbs": list(SUBRESOURCE_VERBS),
    }
    if sub == "eviction":  # as kube-apiserver lists pods/eviction: another group's kind
        entry.update(group="policy", version="v1", kind="Eviction", verbs=["create"])
    return entry


def resource_list(registry: Registry, group: str, version: str) -> JSON | None:
    types = sorted(registry.resources(group, version), key=lambda rt: rt.plural)
    if not types:
        return None
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": [entry for rt in types for entry in _resource_entries(rt)],
    }
