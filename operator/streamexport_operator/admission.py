"""Which queued exports may start now: pure, first come first served, under two limits."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Candidate:
    """A queued export; ordering is by creation time (RFC 3339 sorts as text), then name."""

    created: str
    namespace: str
    name: str
    owner: str


def admit(
    queued: Iterable[Candidate],
    running_owners: Iterable[str],
    *,
    max_running: int,
    max_per_owner: int,
) -> list[Candidate]:
    """The candidates to start, oldest first.

    `running_owners` has one entry per running export. An owner at its own limit does not
    block other owners' older exports behind it (no head-of-line blocking); the global limit
    stops admission outright.
    """
    per_owner = Counter(running_owners)
    running = sum(per_owner.values())
    admitted: list[Candidate] = []
    for candidate in sorted(queued):
        if running >= max_running:
            break
        if per_owner[candidate.owner] >= max_per_owner:
            continue
        admitted.append(candidate)
        per_owner[candidate.owner] += 1
        running += 1
    return admitted


def admit_for_kueue(queued: Iterable[Candidate]) -> list[Candidate]:
    """With Kueue every queued export gets its (suspended) Job at once, oldest first: Kueue's
    quotas and its own FIFO decide when each runs; holding Jobs back here would only hide
    them from Kueue and order them twice."""
    return sorted(queued)
