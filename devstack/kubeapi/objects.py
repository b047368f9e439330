"""Pure object rules of the apiserver: identity checks, server-set metadata, status isolation."""

from __future__ import annotations

import copy
import datetime
import re
import secrets
import string
import uuid
from typing import Any

from . import errors
from .registry import ResourceType

JSON = dict[str, Any]

# DNS-1123 subdomain: what the apiserver requires of most object names.
_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# Server-owned metadata: clients cannot change it with PUT or PATCH.
_IMMUTABLE_META = (
    "name",
    "namespace",
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
)


def now() -> str:
    """RFC 3339 in UTC with second precision, as metav1.Time serialises."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: Any) -> datetime.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def for_version(rt: ResourceType, obj: JSON) -> JSON:
    """The object as served by `rt`'s version (storage is shared by all versions)."""
    if obj.get("apiVersion") == rt.api_version:
        return obj
    return {**obj, "apiVersion": rt.api_version}


def spec_part(obj: JSON) -> JSON:
    """What `generation` tracks: everything except metadata and status."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def same_object(old: JSON, new: JSON) -> bool:
    """True if a write changes nothing: the apiserver then keeps the resourceVersion."""
    old_meta = {k: v for k, v in old.get("metadata", {}).items() if k != "resourceVersion"}
    new_meta = {k: v for k, v in new.get("metadata", {}).items() if k != "resourceVersion"}
    return old_meta == new_meta and {**old, "metadata": None} == {**new, "metadata": None}


def _metadata(body: JSON) -> JSON:
    meta = body.get("metadata", {})
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise errors.bad_request("metadata must be an object")
    return meta


def check_identity(rt: ResourceType, body: Any, namespace: str | None) -> JSON:
    """Validate apiVersion/kind/namespace of a written body against the URL (400 if off)."""
    if not isinstance(body, dict):
        raise errors.bad_request("the request body must be a JSON object")
    api_version, kind = body.get("apiVersion"), body.get("kind")
    if api_version not in (None, "", rt.api_version):
        raise errors.bad_request(
            f"the API version in the data ({api_version}) does not match"
            f" the expected API version ({rt.api_version})"
        )
    if kind not in (None, "", rt.kind):
        raise errors.bad_request(
            f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})"
        )
    body_ns = _metadata(body).get("namespace")
    if rt.namespaced and body_ns not in (None, "", namespace):
        raise errors.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    return body


def prepare_create(rt: ResourceType, body: JSON, namespace: str | None) -> JSON:
    """The object to store for a POST: server-set metadata filled, `status` reset if split."""
    obj = copy.deepcopy(body)
    meta = obj["metadata"] = copy.deepcopy(_metadata(obj))
    obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind

    name = meta.get("name")
    if not name and meta.get("generateName"):
        alphabet = string.ascii_lowercase + string.digits
        name = str(meta["generateName"]) + "".join(secrets.choice(alphabet) for _ in range(5))
    if not name:
        raise errors.invalid(
            rt.kind, "", "metadata.name: Required value: name or generateName is required"
        )
    if not isinstance(name, str) or len(name) > 253 or not _NAME_RE.match(name):
        raise errors.invalid(
            rt.kind,
            str(name),
            "metadata.name: Invalid value: a lowercase RFC 1123 subdomain must consist of"
            " lower case alphanumeric characters, '-' or '.'",
        )
    meta["name"] = name
    if rt.namespaced:
        meta["namespace"] = namespace  # taken from the URL, as the apiserver does
    else:
        meta.pop("namespace", None)
    for key in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
        meta.pop(key, None)
    meta["uid"] = str(uuid.uuid4())
    meta["creationTimestamp"] = now()
    meta["generation"] = 1
    if "status" in rt.subresources:
        obj.pop("status", None)  # with a status subresource, create ignores status
    return obj


def prepare_update(rt: ResourceType, old: JSON, candidate: JSON, subresource: str | None) -> JSON:
    """The object to store after PUT/PATCH: status/spec isolation and metadata rules applied."""
    new = copy.deepcopy(candidate)
    if "status" in rt.subresources:
        if subresource == "status":
            # Writes to /status change only status: everything else comes from the old object.
            status = new.get("status")
            new = copy.deepcopy(old)
            if status is None:
                new.pop("status", None)
            else:
                new["status"] = status
        elif "status" in old:
            new["status"] = copy.deepcopy(old["status"])  # the main endpoint ignores status
        else:
            new.pop("status", None)
    new["apiVersion"], new["kind"] = old["apiVersion"], old["kind"]
    meta = new["metadata"] = _metadata(new)
    old_meta = old["metadata"]
    for key in _IMMUTABLE_META:
        if key in old_meta:
            meta[key] = old_meta[key]
        else:
            meta.pop(key, None)
    meta.pop("resourceVersion", None)

    if old_meta.get("deletionTimestamp"):
        added = set(meta.get("finalizers") or []) - set(old_meta.get("finalizers") or [])
        if added:
            raise errors.invalid(
                rt.kind,
                old_meta["name"],
                "metadata.finalizers: Forbidden: no new finalizers can be added"
                " if the object is being deleted",
            )
    if spec_part(new) != spec_part(old):
        meta["generation"] = int(old_meta.get("generation", 1)) + 1
    return new


def crd_with_status(crd: JSON) -> JSON:
    """A CRD as the apiserver reports it once accepted: names accepted and Established."""
    crd = copy.deepcopy(crd)
    names = (crd.get("spec") or {}).get("names") or {}
    stamp = now()
    crd["status"] = {
        "acceptedNames": copy.deepcopy(names),
        "storedVersions": [
            v["name"] for v in crd["spec"]["versions"] if isinstance(v, dict) and v.get("storage")
        ],
        "conditions": [
            {"type": kind, "status": "True", "reason": reason, "lastTransitionTime": stamp}
            for kind, reason in (
                ("NamesAccepted", "NoConflicts"),
                ("Established", "InitialNamesAccepted"),
            )
        ],
    }
    return crd
