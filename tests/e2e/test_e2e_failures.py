"""Limits, expiry, cancellation, OOM and retries, end to end through real processes."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from typing import Any

import psutil
import psycopg
from e2e_support import MAX_ROWS, Client
from polling import eventually_sync

from devstack.mailsink import read_messages
from devstack.stack import BUCKET, NAMESPACE, Stack

EXPORTS = f"/apis/streamexport.io/v1/namespaces/{NAMESPACE}/exports"


def _kube(stack: Stack, path: str) -> Any:
    with urllib.request.urlopen(stack.kube_url + path, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def _export_names(stack: Stack) -> set[str]:
    return {item["metadata"]["name"] for item in _kube(stack, EXPORTS)["items"]}


def _exporter_processes(export_id: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            cmdline = process.info["cmdline"] or []
            if "exporter" in cmdline and process.environ().get("EXPORT_NAME") == export_id:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def _open_uploads(stack: Stack) -> list[Any]:
    return list(stack.s3_client().list_multipart_uploads(Bucket=BUCKET).get("Uploads", []))


def test_too_many_rows_is_422_and_creates_nothing(stack: Stack, alice: Client) -> None:
    before = _export_names(stack)
    status, body = alice.call(
        "POST", "/api/v1/exports", {"resourceType": "TRANSACTIONS", "format": "csv", "filters": {}}
    )
    assert status == 422
    assert body["message"].startswith("Export would contain 60,000 rows, which exceeds the maximum")
    assert f"{MAX_ROWS:,}" in body["message"]
    assert _export_names(stack) == before


def test_an_expired_export_is_gone(stack: Stack, alice: Client) -> None:
    export_id = alice.create("csv", startDate="2024-02-01", endDate="2024-02-03")
    body = alice.wait_final(export_id)
    assert body["status"] == "COMPLETED"
    expires_at = dt.datetime.fromisoformat(body["expiresAt"])
    # The same export, asked of an API whose clock is a minute past expiresAt (the real one
    # still serves it): the expiry path takes "now" as a parameter, so nobody waits 7 days.
    ahead = (expires_at - dt.datetime.now(dt.UTC)).total_seconds() + 60
    with stack.api_ahead(ahead) as later:
        status, gone = alice.at(later).get(export_id)
    assert status == 410, gone
    assert gone["message"] == (
        f"Export {export_id} expired at {body['expiresAt']}; request a new export instead"
    )
    assert alice.get(export_id)[0] == 200


def test_cancel_while_running_stops_the_exporter_and_leaves_no_upload(
    stack: Stack, alice: Client
) -> None:
    export_id = alice.create("xlsx", startDate="2024-01-01", endDate="2024-08-31")
    # XLSX of these rows takes well under a second now: a lock taken right after the API's
    # COUNT holds the exporter at its own COUNT, so the cancel finds it running.
    with psycopg.connect(stack.database_url) as lock:
        lock.execute("LOCK TABLE transactions IN ACCESS EXCLUSIVE MODE")
        alice.wait(
            export_id, lambda b: b["status"] == "PROCESSING" and _exporter_processes(export_id)
        )
        status, body = alice.call("DELETE", f"/api/v1/exports/{export_id}")
        assert status == 202, body
        body = alice.wait_final(export_id, timeout=60)
        assert body["status"] == "CANCELLED"
    eventually_sync(lambda: _exporter_processes(export_id) == [], timeout=30)
    assert [u for u in _open_uploads(stack) if export_id in u["Key"]] == []
    status, body = alice.call("DELETE", f"/api/v1/exports/{export_id}")
    assert status == 409


def test_users_see_only_their_own_exports_and_admins_see_all(
    alice: Client, bob: Client, admin: Client
) -> None:
    mine = alice.create("csv", startDate="2024-05-01", endDate="2024-05-01")
    theirs = bob.create("csv", startDate="2024-05-02", endDate="2024-05-02")
    assert alice.get(theirs)[0] == 404
    assert bob.get(mine)[0] == 404
    assert bob.call("DELETE", f"/api/v1/exports/{mine}")[0] == 404
    alice_ids = {e["id"] for e in alice.call("GET", "/api/v1/exports?limit=100")[1]["items"]}
    assert mine in alice_ids and theirs not in alice_ids
    admin_ids = {e["id"] for e in admin.call("GET", "/api/v1/exports?limit=100")[1]["items"]}
    assert {mine, theirs} <= admin_ids
    alice.wait_final(mine)
    bob.wait_final(theirs)


def _job_failures(stack: Stack, export_id: str) -> int:
    try:
        job = _kube(stack, f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs/{export_id}")
    except OSError:
        return 0
    return int((job.get("status") or {}).get("failed") or 0)


def test_a_retryable_failure_is_retried_by_the_job_and_completes(
    stack: Stack, alice: Client
) -> None:
    stack.stop_s3()
    try:
        export_id = alice.create("csv", startDate="2024-06-01", endDate="2024-06-02")
        eventually_sync(lambda: _job_failures(stack, export_id) >= 1, timeout=90)
    finally:
        stack.start_s3()
    body = alice.wait_final(export_id)
    assert body["status"] == "COMPLETED", body
    assert _job_failures(stack, export_id) >= 1


def test_a_memory_cap_below_need_is_oomkilled_and_mailed(
    stack: Stack, alice: Client
) -> None:
    stack.restart_operator(JOB_MEMORY_LIMIT="40Mi")
    try:
        export_id = alice.create("xlsx", startDate="2024-01-01", endDate="2024-01-31")
        body = alice.wait_final(export_id)
    finally:
        stack.restart_operator()
    assert body["status"] == "FAILED"
    # The kernel (OOMKilled) or the exporter's own guard (OutOfMemory) stops it first.
    assert body["failureReason"] in ("OOMKilled", "OutOfMemory"), (
        f"{body['failureReason']}: {body['failureMessage']}"  # in full: it has been flaky
    )
    # A killed exporter cannot abort its upload: the operator does, soon after FAILED.
    eventually_sync(
        lambda: not [u for u in _open_uploads(stack) if export_id in u["Key"]], timeout=30
    )
    [mail] = eventually_sync(lambda: _mails_about(stack, export_id), timeout=30)
    assert mail["to"] == "alice@example.com"


def _mails_about(stack: Stack, export_id: str) -> list[Any]:
    found = []
    for message in read_messages(stack.mail_dir):
        body = message.get_body(preferencelist=("plain",))
        if body is not None and export_id in body.get_content():
            found.append(message)
    return found
