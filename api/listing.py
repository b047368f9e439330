"""Listing exports newest first, a page at a time, with an opaque keyset cursor.

Kubernetes lists objects in name order and names are UUIDs, so its own `continue` cannot
give "newest first". Exports are sorted by (creationTimestamp, name) descending and paged
with a cursor holding the last item's sort key: stable while new exports arrive, and no
per-client state. The API serves pages from its watched cache (`api.export_index`, sorted
indexes); `page` below is the same paging over a plain list, the reference it is tested on.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from api.exports import phase
from streamexport_core.contract import PHASES
from streamexport_core.errors import InvalidRequest

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
QUERY_FIELDS = frozenset({"limit", "continue", "status"})

Manifest = dict[str, Any]
SortKey = tuple[str, str]


@dataclass(frozen=True)
class ListQuery:
    limit: int = DEFAULT_LIMIT
    after: SortKey | None = None
    status: str | None = None


def parse_list_query(query: Mapping[str, list[str]]) -> ListQuery:
    """Check `limit`, `continue` and `status`; `InvalidRequest` names every bad parameter."""
    errors = [f"property {name} should not exist" for name in query if name not in QUERY_FIELDS]
    errors += [f"{name} must be given at most once" for name, v in query.items() if len(v) > 1]
    limit, after, status = DEFAULT_LIMIT, None, None
    if "limit" in query:
        raw = query["limit"][0]
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            errors.append(f"limit must be an integer from 1 to {MAX_LIMIT}")
        else:
            limit = int(raw)
    if query.get("continue", [""])[0]:  # an empty token means the first page, as in Kubernetes
        after = decode_cursor(query["continue"][0])
        if after is None:
            errors.append("continue must be a token returned by a previous list")
    if "status" in query:
        status = query["status"][0]
        if status not in PHASES:
            errors.append(f"status must be one of the following values: {', '.join(PHASES)}")
    if errors:
        raise InvalidRequest(errors)
    return ListQuery(limit=limit, after=after, status=status)


def sort_key(export: Manifest) -> SortKey:
    metadata = export["metadata"]
    return (str(metadata.get("creationTimestamp") or ""), str(metadata["name"]))


def encode_cursor(key: SortKey) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> SortKey | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):
        return None
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return (value[0], value[1])
    return None


def page(exports: Iterable[Manifest], query: ListQuery) -> tuple[list[Manifest], str | None]:
    """One page of `exports`, newest first, and the cursor of the next page (None at the end)."""
    chosen = [e for e in exports if query.status is None or phase(e) == query.status]
    chosen.sort(key=sort_key, reverse=True)
    if query.after is not None:
        after = query.after
        chosen = [e for e in chosen if sort_key(e) < after]
    items = chosen[: query.limit]
    more = len(chosen) > query.limit
    return items, (encode_cursor(sort_key(items[-1])) if more else None)
