"""Signed webhooks through the whole stack: API (allow-list) → Export → operator → the stack's
receiver (devstack.webhooksink, separate process), which verifies each signature and records
only what passes."""

from __future__ import annotations

from typing import Any

from e2e_support import Client
from polling import eventually_sync

from devstack.stack import NAMESPACE, Stack
from streamexport_core.kube import Export, sync_client
from streamexport_core.webhooks import URL_FIELDS

FILTERS = {"startDate": "2024-05-01", "endDate": "2024-05-03"}
BODY = {"resourceType": "TRANSACTIONS", "format": "csv", "filters": FILTERS}


def delivery_for(stack: Stack, export_id: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        stack.check()
        found = [d for d in stack.webhook_deliveries() if d["exportId"] == export_id]
        return found[0] if found else None

    return eventually_sync(probe, timeout=60, interval=0.25)


def webhook_status(stack: Stack, export_id: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        with sync_client(stack.kube_url) as kube:
            export = kube.get(Export, export_id, namespace=NAMESPACE).to_dict()
        record = (export.get("status") or {}).get("webhook") or {}
        return record if record.get("deliveredAt") else None

    return eventually_sync(probe, timeout=30, interval=0.25)


def test_a_completed_export_posts_one_signed_webhook(stack: Stack, alice: Client) -> None:
    url = f"{stack.webhook_url}?export=completed"
    status, answer = alice.call("POST", "/api/v1/exports", {**BODY, "notify": {"webhookUrl": url}})
    assert status == 202, answer
    export_id = answer["exportId"]
    final = alice.wait_final(export_id)
    assert final["status"] == "COMPLETED" and final["notify"] == {"webhookUrl": url}

    delivery = delivery_for(stack, export_id)
    assert delivery["type"] == "export.completed"
    assert delivery["path"].endswith("?export=completed")
    body = delivery["body"]
    # The GET body, less what carries a URL, plus the event's id and type.
    expected = {k: v for k, v in final.items() if k not in URL_FIELDS}
    assert {k: v for k, v in body.items() if k not in ("eventId", "type")} == expected
    record = webhook_status(stack, export_id)
    assert record["eventId"] == delivery["eventId"] == body["eventId"]
    assert record["attempts"] == 1 and record["lastStatus"] == 200
    assert [d["exportId"] for d in stack.webhook_deliveries()].count(export_id) == 1


def test_a_cancelled_export_announces_its_end_too(stack: Stack, alice: Client) -> None:
    body = {**BODY, "notify": {"webhookUrl": stack.webhook_url}}
    status, answer = alice.call("POST", "/api/v1/exports", body)
    assert status == 202, answer
    export_id = answer["exportId"]
    alice.call("DELETE", f"/api/v1/exports/{export_id}")  # 202, or 409 if it was quicker
    final = alice.wait_final(export_id)
    delivery = delivery_for(stack, export_id)
    assert delivery["type"] == f"export.{final['status'].lower()}"
    assert delivery["status"] == final["status"]


def test_hosts_off_the_stacks_allow_list_are_refused(alice: Client) -> None:
    for url in ("http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:1/hooks"):
        status, answer = alice.call(
            "POST", "/api/v1/exports", {**BODY, "notify": {"webhookUrl": url}}
        )
        assert status == 400, answer
        [message] = answer["message"]
        assert message.startswith("notify.webhookUrl host ") and "is not allowed" in message
