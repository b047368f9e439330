"""The pods `eviction` subresource (`POST .../pods/<name>/eviction`, a policy/v1 `Eviction`).

What kube-apiserver does for an eviction that no PodDisruptionBudget blocks (the stand-in
has no PodDisruptionBudgets, so none ever does):

1. it adds the `DisruptionTarget` condition to the pod's status (status True, reason
   `EvictionByEvictionAPI`, message `Eviction API: evicting`), one write;
2. it deletes the pod with the eviction's `deleteOptions` (a second write): a pod that runs
   on a node is deleted *gracefully* — it gets `deletionTimestamp` (now + the grace period)
   and `deletionGracePeriodSeconds` and stays until the kubelet has stopped its containers
   and deletes it for good (`devstack.jobrunner` plays that kubelet); with a grace period
   of 0 it is removed right after that mark (the kubelet's watch sees the mark and kills
   the containers at once); a pod that is not scheduled (no `spec.nodeName`) or already
   finished is removed at once (finalizers still hold it);
3. it answers 201 with a `Status` of `Success`.

Evicting a pod that is already being deleted changes nothing and succeeds, as there.
"""

from __future__ import annotations

import datetime
from typing import Any

from . import errors, objects

JSON = dict[str, Any]

EVICTION_VERSIONS = ("policy/v1", "policy/v1beta1")
DISRUPTION_TARGET = "DisruptionTarget"
EVICTION_REASON = "EvictionByEvictionAPI"
EVICTION_MESSAGE = "Eviction API: evicting"
DEFAULT_GRACE_SECONDS = 30  # the pod spec's default terminationGracePeriodSeconds
TERMINAL_PHASES = ("Succeeded", "Failed")
# What kube-apiserver answers an accepted eviction with (201 Created).
SUCCESS: JSON = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Success",
    "code": 201,
}


def delete_options(body: Any, namespace: str | None, name: str) -> JSON:
    """Validate an `Eviction` body against the URL (400 if off); its `deleteOptions`."""
    if not isinstance(body, dict):
        raise errors.bad_request("the request body must be a JSON object")
    api_version, kind = body.get("apiVersion"), body.get("kind")
    if api_version not in (None, "", *EVICTION_VERSIONS):
        raise errors.bad_request(
            f"the API version in the data ({api_version}) does not match"
            f" the expected API version ({EVICTION_VERSIONS[0]})"
        )
    if kind not in (None, "", "Eviction"):
        raise errors.bad_request(
            f"the kind in the data ({kind}) does not match the expected kind (Eviction)"
        )
    meta = body.get("metadata") or {}
    if not isinstance(meta, dict):
        raise errors.bad_request("metadata must be an object")
    if meta.get("namespace") not in (None, "", namespace):
        raise errors.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    if meta.get("name") != name:
        raise errors.bad_request("name in URL does not match name in Eviction object")
    options = body.get("deleteOptions") or {}
    if not isinstance(options, dict):
        raise errors.bad_request("deleteOptions must be an object")
    grace = options.get("gracePeriodSeconds")
    if grace is not None and (not isinstance(grace, int) or isinstance(grace, bool)):
        raise errors.bad_request(f"invalid gracePeriodSeconds: {grace!r}")
    return options


def grace_seconds(pod: JSON, options: JSON) -> int:
    """The eviction's grace period: its deleteOptions', else the pod's own (default 30 s)."""
    grace = options.get("gracePeriodSeconds")
    if grace is None:
        grace = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
    return max(0, int(DEFAULT_GRACE_SECONDS if grace is None else grace))


def with_disruption_condition(pod: JSON) -> JSON:
    """The pod with `DisruptionTarget` True (replacing any earlier one), as the first write."""
    status = dict(pod.get("status") or {})
    conditions = [
        c
        for c in status.get("conditions") or []
        if not (isinstance(c, dict) and c.get("type") == DISRUPTION_TARGET)
    ]
    conditions.append(
        {
            "type": DISRUPTION_TARGET,
            "status": "True",
            "lastProbeTime": None,
            "lastTransitionTime": objects.now(),
            "reason": EVICTION_REASON,
            "message": EVICTION_MESSAGE,
        }
    )
    status["conditions"] = conditions
    return {**pod, "status": status}


def has_containers_to_stop(pod: JSON) -> bool:
    """A kubelet runs the pod: it is scheduled to a node and has not finished."""
    phase = (pod.get("status") or {}).get("phase")
    return bool((pod.get("spec") or {}).get("nodeName")) and phase not in TERMINAL_PHASES


def marked_for_deletion(pod: JSON, grace: int) -> JSON:
    """The pod as a graceful delete leaves it: terminating, until the kubelet removes it."""
    at = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=grace)
    meta = {
        **pod["metadata"],
        "deletionTimestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "deletionGracePeriodSeconds": grace,
    }
    return {**pod, "metadata": meta}
