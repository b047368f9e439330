"""What an export Job's pod needs in its namespace before it can start, and whether it is there.

A Job must live in its owner Export's namespace, and its pod names a ServiceAccount, Secrets
and the catalog ConfigMap that Kubernetes looks up in that same namespace. The chart creates
them in the release namespace only; an Export elsewhere (watchAllNamespaces) would get a
Job whose pod can never start and hang in PROCESSING. So, whenever the operator watches more
than one namespace, it checks them first (`get` on exactly these names, no list) and fails
the Export at once with `NamespaceNotPrepared`, naming each missing object, instead of
creating a Job. Copying Secrets across namespaces is left to the admin on purpose: an
operator that could read and write every Secret of the cluster is a larger risk than an
export that fails with a clear message (docs/install.md, "Exports in other namespaces").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lightkube.resources.core_v1 import ConfigMap, Secret, ServiceAccount

from streamexport_core.contract import JobEnv
from streamexport_core.timestamps import format_time
from streamexport_operator.exports import FAILED, Body
from streamexport_operator.kube import KubeClient
from streamexport_operator.settings import Settings
from streamexport_operator.status import conditions_for

NAMESPACE_NOT_PREPARED = "NamespaceNotPrepared"
_RESOURCES: Mapping[str, type[Any]] = {
    "ServiceAccount": ServiceAccount,
    "Secret": Secret,
    "ConfigMap": ConfigMap,
}


@dataclass(frozen=True)
class Prerequisite:
    """One object the Job's pod refers to; `key`: a data key it reads from it, if any."""

    kind: str
    name: str
    key: str | None = None

    def describe(self) -> str:
        text = f"{self.kind} {self.name}"
        return f"{text} (key {self.key})" if self.key else text


def needs_check(settings: Settings) -> bool:
    """Only an operator watching one namespace can rely on the chart having prepared it."""
    return settings.clusterwide or len(settings.namespaces) > 1


def required(settings: Settings) -> tuple[Prerequisite, ...]:
    """What `jobs.build_job` makes the pod refer to, without which the pod cannot start."""
    found = [
        Prerequisite("ServiceAccount", settings.exporter_service_account),
        Prerequisite("Secret", settings.exporter_database_secret, JobEnv.DATABASE_URL),
    ]
    if settings.exporter_s3_secret_required:
        # Its keys are optional in the pod (no keys: the pod's cloud identity); but a Secret
        # that the release namespace uses and this one lacks would silently switch identity.
        found.append(Prerequisite("Secret", settings.exporter_s3_secret))
    if settings.exporter_catalog_configmap:
        found.append(
            Prerequisite(
                "ConfigMap", settings.exporter_catalog_configmap, settings.exporter_catalog_key
            )
        )
    return tuple(found)


def is_satisfied(prerequisite: Prerequisite, obj: Body | None) -> bool:
    if obj is None:
        return False
    if prerequisite.key is None:
        return True
    data = {**(obj.get("data") or {}), **(obj.get("binaryData") or {})}
    return prerequisite.key in data


def missing(found: Mapping[Prerequisite, Body | None]) -> list[str]:
    """Descriptions of the prerequisites that are absent (or lack their key), in order."""
    return [p.describe() for p, obj in found.items() if not is_satisfied(p, obj)]


async def missing_in(kube: KubeClient, settings: Settings, namespace: str) -> list[str]:
    """What the namespace lacks for an export Job (empty: ready)."""
    found: dict[Prerequisite, Body | None] = {}
    for prerequisite in required(settings):
        res = _RESOURCES[prerequisite.kind]
        found[prerequisite] = await kube.get(res, prerequisite.name, namespace=namespace)
    return missing(found)


def not_prepared_message(namespace: str, absent: Sequence[str]) -> str:
    return (
        f"Namespace {namespace} is not prepared for export Jobs: missing {', '.join(absent)}."
        " An administrator must create them there (docs/install.md, 'Exports in other"
        " namespaces'); no Job was created."
    )


def not_prepared_status(
    export: Body, namespace: str, absent: Sequence[str], now: dt.datetime
) -> dict[str, Any]:
    """The FAILED status of an Export whose namespace cannot run its Job."""
    status: dict[str, Any] = {
        "phase": FAILED,
        "completedAt": format_time(now),
        "reason": NAMESPACE_NOT_PREPARED,
        "message": not_prepared_message(namespace, absent),
    }
    current = export.get("status") or {}
    generation = (export.get("metadata") or {}).get("generation")
    status["conditions"] = conditions_for(status, current.get("conditions") or [], now, generation)
    if generation is not None:
        status["observedGeneration"] = generation
    return status
