"""Admission is first come, first served under a global and a per-owner limit."""

from __future__ import annotations

from streamexport_operator.admission import Candidate, admit


def candidate(second: int, owner: str, name: str | None = None) -> Candidate:
    return Candidate(f"2026-01-01T00:00:{second:02d}Z", "default", name or f"e{second}", owner)


def test_oldest_first_up_to_the_global_limit() -> None:
    queued = [candidate(3, "a"), candidate(1, "b"), candidate(2, "c"), candidate(4, "d")]
    chosen = admit(queued, [], max_running=2, max_per_owner=2)
    assert [c.name for c in chosen] == ["e1", "e2"]


def test_running_exports_take_their_slots() -> None:
    queued = [candidate(1, "a"), candidate(2, "b")]
    assert admit(queued, ["x", "y", "z"], max_running=4, max_per_owner=2) == [queued[0]]
    assert admit(queued, ["x"] * 4, max_running=4, max_per_owner=2) == []


def test_an_owner_at_its_limit_does_not_block_others() -> None:
    queued = [candidate(1, "a"), candidate(2, "a"), candidate(3, "b")]
    chosen = admit(queued, ["a"], max_running=4, max_per_owner=2)
    assert [c.name for c in chosen] == ["e1", "e3"]


def test_same_second_ties_are_broken_by_name() -> None:
    queued = [candidate(1, "a", "b-export"), candidate(1, "b", "a-export")]
    assert [c.name for c in admit(queued, [], max_running=1, max_per_owner=1)] == ["a-export"]


def test_nothing_queued_nothing_admitted() -> None:
    assert admit([], ["a"], max_running=4, max_per_owner=2) == []
