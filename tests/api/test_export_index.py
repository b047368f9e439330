"""The cache's sorted index pages exactly as the plain keyset paging does (pure, no server)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from api.export_index import ExportIndex
from api.exports import export_body, visible_to
from api.listing import ListQuery, decode_cursor, page
from streamexport_core.contract import PHASES

OWNERS = ["user-a", "user-b"]


def export(name: str, second: int, owner: str, phase: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "creationTimestamp": f"2026-01-01T10:00:{second:02d}Z"},
        "spec": {"requestedBy": {"userId": owner}},
        "status": {"phase": phase},
    }


exports_strategy = st.dictionaries(
    st.text("abcdef", min_size=1, max_size=3),
    st.tuples(st.integers(0, 5), st.sampled_from(OWNERS), st.sampled_from(PHASES)),
    max_size=25,
).map(lambda found: [export(name, *rest) for name, rest in found.items()])


class _Owner:
    def __init__(self, user_id: str) -> None:
        self.id = user_id
        self.is_super_admin = False


@given(
    exports_strategy,
    st.sampled_from([None, *OWNERS]),
    st.sampled_from([None, *PHASES]),
    st.integers(1, 7),
)
def test_every_page_matches_the_plain_paging(
    exports: list[dict[str, Any]], owner: str | None, status: str | None, limit: int
) -> None:
    index = ExportIndex.of(exports)
    mine = [e for e in exports if owner is None or visible_to(e, _Owner(owner))]  # type: ignore[arg-type]
    query = ListQuery(limit=limit, status=status)
    while True:
        expected, expected_token = page(mine, query)
        items, token = index.page(owner, query)
        assert (items, token) == ([export_body(e) for e in expected], expected_token)
        if token is None:
            return
        query = ListQuery(limit=limit, status=status, after=decode_cursor(token))


def test_an_update_moves_an_export_between_phases_and_a_delete_removes_it() -> None:
    index = ExportIndex.of([export("a", 1, "user-a", "QUEUED"), export("b", 2, "user-a", "QUEUED")])
    index.upsert(export("a", 1, "user-a", "FAILED"))
    index.delete("b")
    queued, _ = index.page("user-a", ListQuery(status="QUEUED"))
    failed, _ = index.page("user-a", ListQuery(status="FAILED"))
    assert (queued, [item["id"] for item in failed], len(index)) == ([], ["a"], 1)
