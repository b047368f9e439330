"""Keyset paging of exports newest first (pure, no server)."""

from __future__ import annotations

from typing import Any

from api.listing import ListQuery, decode_cursor, encode_cursor, page


def export(name: str, created: str, phase: str | None = None) -> dict[str, Any]:
    status = {"phase": phase} if phase else {}
    return {"metadata": {"name": name, "creationTimestamp": created}, "status": status}


EXPORTS = [
    export("b", "2026-01-01T10:00:00Z"),
    export("a", "2026-01-01T10:00:02Z", "FAILED"),
    export("d", "2026-01-01T10:00:01Z"),
    export("c", "2026-01-01T10:00:01Z"),
]


def names(items: list[dict[str, Any]]) -> list[str]:
    return [item["metadata"]["name"] for item in items]


def test_newest_first_with_name_breaking_ties() -> None:
    items, token = page(EXPORTS, ListQuery(limit=10))
    assert (names(items), token) == (["a", "d", "c", "b"], None)


def test_cursor_continues_after_the_last_item() -> None:
    first, token = page(EXPORTS, ListQuery(limit=2))
    assert token is not None
    second, end = page(EXPORTS, ListQuery(limit=2, after=decode_cursor(token)))
    assert (names(first), names(second), end) == (["a", "d"], ["c", "b"], None)


def test_new_exports_do_not_shift_the_next_page() -> None:
    _, token = page(EXPORTS, ListQuery(limit=2))
    assert token is not None
    newer = [*EXPORTS, export("z", "2026-01-01T11:00:00Z")]
    second, _ = page(newer, ListQuery(limit=2, after=decode_cursor(token)))
    assert names(second) == ["c", "b"]


def test_status_filter_applies_before_paging() -> None:
    items, token = page(EXPORTS, ListQuery(limit=1, status="QUEUED"))
    assert (names(items), token is not None) == (["d"], True)


def test_cursor_round_trips_and_rejects_garbage() -> None:
    key = ("2026-01-01T10:00:00Z", "b")
    assert decode_cursor(encode_cursor(key)) == key
    assert decode_cursor("not base64 at all!") is None
    assert decode_cursor(encode_cursor(("x", "y"))[:-3]) is None
