"""An eviction mid-export, end to end: the exporter's pod is evicted through the Kubernetes API
(`POST pods/<name>/eviction`, as `kubectl drain` does), its exporter gets SIGTERM and stops
(aborting its upload, if it had begun one), the Job's podFailurePolicy (`Ignore` on
DisruptionTarget) starts a replacement without counting a failure, and the replacement
completes the export: one Job, one email, no open multipart upload, the database's rows."""

from __future__ import annotations

import csv
import io
import json
import urllib.request
from pathlib import Path
from typing import Any

from e2e_support import Client
from polling import eventually_sync
from test_e2e_export_flow import _database_csv, _download, _mails_once_recorded
from test_e2e_failures import _exporter_processes, _job_failures, _kube, _open_uploads
from test_e2e_fault_reasons import exporters_held

from devstack.stack import NAMESPACE, Stack

FILTERS = {"startDate": "2024-01-01", "endDate": "2024-08-31"}
PODS = f"/api/v1/namespaces/{NAMESPACE}/pods"
JOBS = f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs"


def _pods_of(stack: Stack, export_id: str) -> list[Any]:
    listing = _kube(stack, f"{PODS}?labelSelector=job-name%3D{export_id}")
    return list(listing["items"])


def _jobs_of(stack: Stack, export_id: str) -> list[Any]:
    """Every Job owned by the Export (the operator names its one Job after the Export)."""
    export = _kube(stack, f"/apis/streamexport.io/v1/namespaces/{NAMESPACE}/exports/{export_id}")
    uid = export["metadata"]["uid"]
    return [
        job
        for job in _kube(stack, JOBS)["items"]
        if any(ref.get("uid") == uid for ref in job["metadata"].get("ownerReferences") or [])
    ]


def _evict(stack: Stack, pod_name: str) -> Any:
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": pod_name}}
    request = urllib.request.Request(  # noqa: S310 - the local stand-in
        f"{stack.kube_url}{PODS}/{pod_name}/eviction",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 201
        return json.loads(response.read())


def test_an_evicted_exporter_is_replaced_and_the_export_completes_once(
    stack: Stack, alice: Client, mail_dir: Path
) -> None:
    export_id = alice.create("csv", **FILTERS)
    with exporters_held(stack):
        alice.wait(
            export_id, lambda b: b["status"] == "PROCESSING" and _exporter_processes(export_id)
        )
        first = {process.pid for process in _exporter_processes(export_id)}
        [pod] = _pods_of(stack, export_id)
        evicted = pod["metadata"]["name"]
        assert _evict(stack, evicted)["status"] == "Success"
        # The kubelet's SIGTERM: the exporter stops (its upload aborted) within the pod's
        # grace period (30 s), while its query still waits for the lock.
        eventually_sync(
            lambda: not first & {p.pid for p in _exporter_processes(export_id)}, timeout=40
        )
        eventually_sync(
            lambda: evicted not in {p["metadata"]["name"] for p in _pods_of(stack, export_id)},
            timeout=30,
        )
    body = alice.wait_final(export_id, timeout=180)

    assert body["status"] == "COMPLETED", body
    assert _job_failures(stack, export_id) == 0  # the eviction did not count (Ignore)
    [job] = _jobs_of(stack, export_id)
    assert job["status"]["succeeded"] == 1
    [replacement] = _pods_of(stack, export_id)
    assert replacement["metadata"]["name"] != evicted
    assert replacement["metadata"]["annotations"]["devstack.streamexport.io/attempt"] == "1"
    data = _download(body["downloadUrl"])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows == _database_csv(stack, FILTERS)
    assert body["actualRowCount"] == len(rows) - 1
    assert [u for u in _open_uploads(stack) if export_id in u["Key"]] == []
    [mail] = _mails_once_recorded(stack, mail_dir, export_id)
    assert mail["to"] == "alice@example.com"
