"""An active/standby pair in one kopf peering: each pod has its own priority, so kopf pauses
only the lower one and exports keep being served (equal priorities pause both)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from jobsim import NAMESPACE, create_export, eventually, wait_for_job
from lightkube.generic_resource import create_namespaced_resource
from opharness import CRD, ROOT, OperatorThread

from devstack.kubeapi import ThreadedKubeAPI
from streamexport_operator.kube import KubeClient

Start = Callable[..., OperatorThread]
PEERING_CRDS = ROOT / "charts" / "streamexport" / "crds" / "kopf-peering.yaml"
PEERING = "streamexport"
KopfPeering = create_namespaced_resource("kopf.dev", "v1", "KopfPeering", "kopfpeerings")


@pytest.fixture
def kubeapi() -> Iterator[ThreadedKubeAPI]:
    """The stand-in with kopf's peering CRDs too (the chart installs them for a pair)."""
    with ThreadedKubeAPI(crds=[CRD, PEERING_CRDS]) as api:
        yield api


async def peers(kube: KubeClient) -> dict[str, Any]:
    peering = await kube.get(KopfPeering, PEERING, namespace=NAMESPACE)
    assert peering is not None
    return dict(peering.get("status") or {})


async def test_a_pair_has_distinct_priorities_and_serves_exports(
    start_operator: Start, kube: KubeClient
) -> None:
    await kube.create(
        {"apiVersion": "kopf.dev/v1", "kind": "KopfPeering", "metadata": {"name": PEERING}},
        namespace=NAMESPACE,
    )
    start_operator(peering=PEERING)
    start_operator(peering=PEERING)

    async def both_present() -> dict[str, Any] | None:
        found = await peers(kube)
        return found if len(found) == 2 else None

    pair = await eventually(both_present)
    priorities = [peer["priority"] for peer in pair.values()]
    assert priorities[0] != priorities[1], "equal priorities pause both operators"

    name = (await create_export(kube))["metadata"]["name"]
    await wait_for_job(kube, name)


async def test_an_explicit_priority_is_published(start_operator: Start, kube: KubeClient) -> None:
    await kube.create(
        {"apiVersion": "kopf.dev/v1", "kind": "KopfPeering", "metadata": {"name": PEERING}},
        namespace=NAMESPACE,
    )
    start_operator(peering=PEERING, peering_priority=40000)

    async def published() -> list[int] | None:
        return [peer["priority"] for peer in (await peers(kube)).values()] or None

    assert await eventually(published) == [40000]
