"""kopf's settings follow ours: cluster scanning only cluster-wide, and a peering priority per
process unless one is given."""

from __future__ import annotations

import dataclasses

import kopf
import pytest

from streamexport_operator.__main__ import MAX_RANDOM_PRIORITY, peering_priority
from streamexport_operator.kopfsettings import configure
from streamexport_operator.settings import Settings

BASE = Settings(exporter_image="exporter:1", s3_bucket="exports")


@pytest.mark.parametrize(
    ("namespaces", "scanning_disabled"),
    [(("team-a",), True), (("team-a", "team-b"), True), (("*",), False)],
)
def test_cluster_scanning_only_when_watching_all_namespaces(
    namespaces: tuple[str, ...], scanning_disabled: bool
) -> None:
    settings = kopf.OperatorSettings()
    configure(settings, dataclasses.replace(BASE, namespaces=namespaces))
    assert settings.scanning.disabled is scanning_disabled
    assert settings.persistence.finalizer == "streamexport.io/operator"


def test_standalone_has_no_priority() -> None:
    assert peering_priority(BASE) is None


def test_a_given_priority_is_used() -> None:
    assert peering_priority(dataclasses.replace(BASE, peering="p", peering_priority=7)) == 7


def test_without_one_each_process_draws_a_random_priority() -> None:
    paired = dataclasses.replace(BASE, peering="p")
    drawn = {peering_priority(paired) for _ in range(20)}
    assert len(drawn) > 1
    assert all(p is not None and 1 <= p <= MAX_RANDOM_PRIORITY for p in drawn)
