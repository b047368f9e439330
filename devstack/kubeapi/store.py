"""In-memory object storage with the apiserver's write semantics, history and watch fan-out.

Everything here is synchronous and runs on the server's event loop, so no write can
interleave with another or with a watch's subscribe-then-snapshot step.
"""

from __future__ import annotations

import asyncio
import collections
import copy
from dataclasses import dataclass, field
from typing import Any

from . import errors, eviction, objects, patching
from .registry import CRD_STORAGE_KEY, NAMESPACES_STORAGE_KEY, Registry, ResourceType
from .selectors import EVERYTHING, Selector

JSON = dict[str, Any]
Key = tuple[str, str]  # (namespace or "", name)

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"


@dataclass(frozen=True)
class Event:
    """One committed change; `old` lets watches turn selector transitions into ADDED/DELETED."""

    rv: int
    storage_key: str
    type: str
    obj: JSON
    old: JSON | None = None


@dataclass(eq=False)
class Subscription:
    """A watch's queue of events; `None` means the server is shutting down."""

    queue: asyncio.Queue[Event | None] = field(default_factory=asyncio.Queue)


def default_propagation(rt: ResourceType) -> str:
    # batch/v1 Jobs keep the legacy default of orphaning their pods; everything else cascades.
    return "Orphan" if (rt.group, rt.plural) == ("batch", "jobs") else "Background"


class Store:
    """All objects of all resources, keyed by storage; stored dicts are never mutated."""

    def __init__(
        self, registry: Registry, *, namespaces: tuple[str, ...] = ("default",), history: int = 1000
    ) -> None:
        self.registry = registry
        self._objects: dict[str, dict[Key, JSON]] = collections.defaultdict(dict)
        self._uids: dict[str, tuple[str, Key]] = {}
        self._rv = 0
        self._history: collections.deque[Event] = collections.deque(maxlen=max(history, 1))
        self._floor = 0  # the newest rv that fell out of the history
        self._subscriptions: set[Subscription] = set()
        ns_type = registry.lookup("", "v1", "namespaces")
        assert ns_type is not None
        for name in namespaces:
            self.create(ns_type, None, {"metadata": {"name": name}})

    # --- reads ------------------------------------------------------------------------------

    @property
    def resource_version(self) -> int:
        return self._rv

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> JSON:
        obj = self._objects[rt.storage_key].get((namespace or "", name))
        if obj is None:
            raise errors.not_found(rt.plural, rt.group, name)
        return obj

    def list_objects(
        self,
        rt: ResourceType,
        namespace: str | None,
        labels: Selector = EVERYTHING,
        fields: Selector = EVERYTHING,
    ) -> list[JSON]:
        """Matching objects in etcd's key order: by namespace, then name."""
        bucket = self._objects[rt.storage_key]
        return [
            bucket[key]
            for key in sorted(bucket)
            if (namespace is None or key[0] == namespace)
            and labels.matches(bucket[key])
            and fields.matches(bucket[key])
        ]

    # --- writes -----------------------------------------------------------------------------

    def create(self, rt: ResourceType, namespace: str | None, body: Any) -> JSON:
        body = objects.check_identity(rt, body, namespace)
        obj = objects.prepare_create(rt, body, namespace)
        name = obj["metadata"]["name"]
        if rt.namespaced and ("", namespace or "") not in self._objects[NAMESPACES_STORAGE_KEY]:
            raise errors.not_found("namespaces", "", namespace or "")
        if (namespace or "", name) in self._objects[rt.storage_key]:
            raise errors.already_exists(rt.plural, rt.group, name)
        if rt.storage_key == CRD_STORAGE_KEY:
            self._check_crd(obj)
            obj = objects.crd_with_status(obj)
        elif rt.storage_key == NAMESPACES_STORAGE_KEY:
            obj["status"] = {"phase": "Active"}
        return self._commit(rt.storage_key, "ADDED", obj, None)

    def replace(
        self, rt: ResourceType, namespace: str | None, name: str, body: Any, subresource: str | None
    ) -> JSON:
        body = objects.check_identity(rt, body, namespace)
        body_name = (body.get("metadata") or {}).get("name")
        if body_name != name:
            raise errors.bad_request(
                f"the name of the object ({body_name}) does not match the name on the URL ({name})"
            )
        old = self.get(rt, namespace, name)
        self._check_version(rt, old, (body.get("metadata") or {}).get("resourceVersion"))
        return self._update(rt, old, body, subresource)

    def patch(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        content_type: str,
        body: Any,
        subresource: str | None,
    ) -> JSON:
        old = self.get(rt, namespace, name)
        try:
            if content_type == JSON_PATCH:
                candidate = patching.json_patch(old, body)
            elif not isinstance(body, dict):
                raise patching.PatchFormatError("a merge patch must be a JSON object")
            elif content_type == MERGE_PATCH:
                candidate = patching.merge_patch(old, body)
            elif content_type == STRATEGIC_PATCH and not rt.custom:
                candidate = patching.strategic_merge_patch(old, body)
            else:
                accepted = f"{JSON_PATCH}, {MERGE_PATCH}" + (
                    "" if rt.custom else f", {STRATEGIC_PATCH}"
                )
                raise errors.unsupported_media_type(content_type, accepted)
        except patching.PatchFormatError as exc:
            raise errors.bad_request(str(exc)) from None
        except patching.PatchError as exc:
            raise errors.invalid(rt.kind, name, str(exc)) from None
        if isinstance(body, dict):
            self._check_version(rt, old, (body.get("metadata") or {}).get("resourceVersion"))
        if not isinstance(candidate, dict):
            raise errors.invalid(rt.kind, name, "the patched object is not a JSON object")
        return self._update(rt, old, candidate, subresource)

    def delete(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        *,
        propagation: str | None = None,
        preconditions: JSON | None = None,
    ) -> tuple[JSON, bool]:
        """Delete (or mark for deletion, if finalizers remain); returns (object, was_removed)."""
        obj = self.get(rt, namespace, name)
        preconditions = preconditions or {}
        if preconditions.get("uid") not in (None, obj["metadata"]["uid"]):
            raise errors.conflict(
                rt.plural, rt.group, name, "the UID in the precondition does not match"
            )
        self._check_version(rt, obj, preconditions.get("resourceVersion"))
        return self._delete(rt.storage_key, obj, propagation or default_propagation(rt))

    def delete_collection(
        self,
        rt: ResourceType,
        namespace: str | None,
        labels: Selector,
        fields: Selector,
        propagation: str | None = None,
    ) -> list[JSON]:
        policy = propagation or default_propagation(rt)
        return [
            self._delete(rt.storage_key, obj, policy)[0]
            for obj in self.list_objects(rt, namespace, labels, fields)
        ]

    def evict(self, rt: ResourceType, namespace: str | None, name: str, body: Any) -> None:
        """The pods `eviction` subresource (see `eviction`): the DisruptionTarget condition,
        then a graceful delete."""
        pod = self.get(rt, namespace, name)
        options = eviction.delete_options(body, namespace, name)
        preconditions = options.get("preconditions") or {}
        if not isinstance(preconditions, dict):
            raise errors.bad_request("deleteOptions.preconditions must be an object")
        if preconditions.get("uid") not in (None, pod["metadata"]["uid"]):
            raise errors.conflict(
                rt.plural, rt.group, name, "the UID in the precondition does not match"
            )
        self._check_version(rt, pod, preconditions.get("resourceVersion"))
        if pod["metadata"].get("deletionTimestamp"):
            return  # already terminating: the disruption has happened
        grace = eviction.grace_seconds(pod, options)
        pod = self._commit(rt.storage_key, "MODIFIED", eviction.with_disruption_condition(pod), pod)
        if eviction.has_containers_to_stop(pod):
            marked = eviction.marked_for_deletion(pod, grace)
            pod = self._commit(rt.storage_key, "MODIFIED", marked, pod)
            if grace > 0:
                return  # its kubelet stops the containers, then removes it
        # Nothing to wait for, or grace 0: gone now (a kubelet saw the grace-0 mark first).
        self._delete(rt.storage_key, pod, default_propagation(rt))

    # --- watch support ----------------------------------------------------------------------

    def subscribe(self) -> Subscription:
        subscription = Subscription()
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    def events_since(self, rv: int) -> list[Event]:
        """Committed events newer than `rv`; 410 Expired if the history no longer has them all."""
        if rv < self._floor:
            raise errors.gone(f"too old resource version: {rv} ({self._floor + 1})")
        return [event for event in self._history if event.rv > rv]

    def close(self) -> None:
        """End every watch stream (server shutdown)."""
        for subscription in self._subscriptions:
            subscription.queue.put_nowait(None)

    # --- internals --------------------------------------------------------------------------

    def _check_version(self, rt: ResourceType, old: JSON, expected: Any) -> None:
        if expected not in (None, "") and str(expected) != old["metadata"]["resourceVersion"]:
            raise errors.conflict(
                rt.plural,
                rt.group,
                old["metadata"]["name"],
                "the object has been modified; please apply your changes to the latest version"
                " and try again",
            )

    def _check_crd(self, crd: JSON) -> None:
        try:
            Registry().register_crd(crd)  # a scratch registry: validate without side effects
        except ValueError as exc:
            raise errors.invalid(
                "CustomResourceDefinition", crd["metadata"]["name"], str(exc)
            ) from None

    def _update(
        self, rt: ResourceType, old: JSON, candidate: JSON, subresource: str | None
    ) -> JSON:
        new = objects.prepare_update(rt, old, candidate, subresource)
        if rt.storage_key == CRD_STORAGE_KEY and subresource != "status":
            self._check_crd(new)
        if objects.same_object(old, new):
            return old  # a no-op write: no new resourceVersion, no watch event
        meta = new["metadata"]
        if (
            meta.get("deletionTimestamp")
            and not meta.get("finalizers")
            and old["metadata"].get("finalizers")
        ):
            return self._remove(rt.storage_key, new)  # the last finalizer is gone
        # (A pod deleted gracefully has no finalizers and stays while its kubelet writes.)
        return self._commit(rt.storage_key, "MODIFIED", new, old)

    def _commit(self, storage_key: str, kind: str, obj: JSON, old: JSON | None) -> JSON:
        self._rv += 1
        obj = {**obj, "metadata": {**obj["metadata"], "resourceVersion": str(self._rv)}}
        meta = obj["metadata"]
        key = (meta.get("namespace") or "", meta["name"])
        if kind == "DELETED":
            self._objects[storage_key].pop(key, None)
            self._uids.pop(meta["uid"], None)
        else:
            self._objects[storage_key][key] = obj
            self._uids[meta["uid"]] = (storage_key, key)
        if storage_key == CRD_STORAGE_KEY:
            self._sync_crd(obj, removed=kind == "DELETED")
        event = Event(self._rv, storage_key, kind, obj, old)
        if len(self._history) == self._history.maxlen:
            self._floor = self._history[0].rv
        self._history.append(event)
        for subscription in self._subscriptions:
            subscription.queue.put_nowait(event)
        return obj

    def _sync_crd(self, crd: JSON, *, removed: bool) -> None:
        if not removed:
            self.registry.register_crd(crd)
            return
        self.registry.unregister_crd(crd["metadata"]["name"])
        storage = f"{crd['spec']['names']['plural']}.{crd['spec']['group']}"
        for obj in list(self._objects[storage].values()):
            self._commit(storage, "DELETED", obj, None)  # custom objects go with their CRD

    def _delete(self, storage_key: str, obj: JSON, policy: str) -> tuple[JSON, bool]:
        if policy == "Orphan":
            self._release_dependents(obj["metadata"]["uid"], delete=False)
        elif policy == "Foreground":
            self._release_dependents(obj["metadata"]["uid"], delete=True)
        meta = obj["metadata"]
        if meta.get("finalizers"):
            if meta.get("deletionTimestamp"):
                return obj, False
            new = copy.deepcopy(obj)
            new["metadata"]["deletionTimestamp"] = objects.now()
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            return self._commit(storage_key, "MODIFIED", new, obj), False
        return self._remove(storage_key, obj), True

    def _remove(self, storage_key: str, obj: JSON) -> JSON:
        removed = self._commit(storage_key, "DELETED", obj, None)
        if storage_key == NAMESPACES_STORAGE_KEY:
            # Namespace deletion takes its contents along (finalizers still honoured).
            name = obj["metadata"]["name"]
            for key, bucket in list(self._objects.items()):
                for child_key in [k for k in bucket if k[0] == name]:
                    child = bucket.get(child_key)  # re-read: GC may have taken it meanwhile
                    if child is not None:
                        self._delete(key, child, "Background")
        self._release_dependents(obj["metadata"]["uid"], delete=True)  # background GC
        return removed

    def _release_dependents(self, owner_uid: str, *, delete: bool) -> None:
        """Garbage-collect (or orphan) the objects whose ownerReferences point at `owner_uid`."""
        dependents = [
            (key, obj["metadata"]["uid"])
            for key, bucket in self._objects.items()
            for obj in bucket.values()
            if any(ref.get("uid") == owner_uid for ref in _owner_refs(obj))
        ]
        for storage_key, uid in dependents:
            where = self._uids.get(uid)
            if where is None:
                continue  # already collected through another path
            current = self._objects[storage_key][where[1]]  # re-read: earlier steps may change it
            refs = _owner_refs(current)
            others = [r for r in refs if r.get("uid") != owner_uid]
            if delete and not any(r.get("uid") in self._uids for r in others):
                self._delete(storage_key, current, "Background")
            else:
                new = copy.deepcopy(current)
                new["metadata"]["ownerReferences"] = others
                if not others:
                    del new["metadata"]["ownerReferences"]
                self._commit(storage_key, "MODIFIED", new, current)


def _owner_refs(obj: JSON) -> list[JSON]:
    refs = obj.get("metadata", {}).get("ownerReferences") or []
    return [ref for ref in refs if isinstance(ref, dict)]
