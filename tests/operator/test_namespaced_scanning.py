"""Watching named namespaces, the operator asks the API only for what its namespaced Role grants:
no listing of namespaces, no watch on CRDs (kopf's cluster scanning is off)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from jobsim import create_export, wait_for_job
from opharness import OperatorThread

from streamexport_operator.kube import KubeClient

Start = Callable[..., OperatorThread]


def requested_paths(caplog: pytest.LogCaptureFixture) -> set[str]:
    """Paths the Kubernetes API stand-in served (its debug line per request)."""
    return {
        urlsplit(str(record.args[1])).path
        for record in caplog.records
        if record.name == "devstack.kubeapi"
        and record.msg.startswith("request ")
        and isinstance(record.args, tuple)
    }


async def test_namespaced_operator_neither_lists_namespaces_nor_watches_crds(
    start_operator: Start, kube: KubeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="devstack.kubeapi")
    start_operator(namespaces=("default",))
    name = (await create_export(kube))["metadata"]["name"]
    await wait_for_job(kube, name)

    paths = requested_paths(caplog)
    assert "/apis/streamexport.io/v1/namespaces/default/exports" in paths  # the log works
    assert "/api/v1/namespaces" not in paths
    assert not [p for p in paths if p.endswith("/customresourcedefinitions")]
