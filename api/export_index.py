"""The API's in-memory view of the Exports, indexed for newest-first pages (pure, no I/O).

Each export is kept as its list item (`export_body`: what a page returns, far smaller than
the manifest) and its sort key (creationTimestamp, name) sits in four sorted lists: its
owner's, its owner's of its phase, everyone's, everyone's of its phase. A page is then two
binary searches and a slice, whatever the number of exports.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from typing import Any

from api.exports import Manifest, export_body, phase
from api.listing import ListQuery, SortKey, encode_cursor, sort_key

# (owner's user id, or None for every owner; phase, or None for every phase)
Slot = tuple[str | None, str | None]
Body = dict[str, Any]


def owner_of(export: Manifest) -> str | None:
    requested_by = (export.get("spec") or {}).get("requestedBy") or {}
    user_id = requested_by.get("userId")
    return user_id if isinstance(user_id, str) else None


class ExportIndex:
    def __init__(self) -> None:
        self._bodies: dict[str, Body] = {}
        self._entries: dict[str, tuple[SortKey, tuple[Slot, ...]]] = {}
        self._keys: defaultdict[Slot, list[SortKey]] = defaultdict(list)

    @classmethod
    def of(cls, exports: list[Manifest]) -> ExportIndex:
        index = cls()
        for export in exports:
            index.upsert(export)
        return index

    def __len__(self) -> int:
        return len(self._bodies)

    def __contains__(self, name: object) -> bool:
        return name in self._bodies

    def upsert(self, export: Manifest) -> None:
        name = str(export["metadata"]["name"])
        self.delete(name)
        key, owner, current = sort_key(export), owner_of(export), phase(export)
        slots: tuple[Slot, ...] = ((None, None), (None, current))
        if owner is not None:
            slots += ((owner, None), (owner, current))
        for slot in slots:
            bisect.insort(self._keys[slot], key)
        self._entries[name] = (key, slots)
        self._bodies[name] = export_body(export)

    def delete(self, name: str) -> None:
        entry = self._entries.pop(name, None)
        if entry is None:
            return
        key, slots = entry
        for slot in slots:
            keys = self._keys[slot]
            at = bisect.bisect_left(keys, key)
            if at < len(keys) and keys[at] == key:
                del keys[at]
            if not keys:
                del self._keys[slot]
        del self._bodies[name]

    def page(self, owner: str | None, query: ListQuery) -> tuple[list[Body], str | None]:
        """One page newest first (`owner` None: every export) and the next page's cursor."""
        keys = self._keys.get((owner, query.status), [])
        end = len(keys) if query.after is None else bisect.bisect_left(keys, query.after)
        start = max(0, end - query.limit)
        chosen = keys[start:end][::-1]
        token = encode_cursor(chosen[-1]) if start > 0 and chosen else None
        return [self._bodies[name] for _, name in chosen], token
