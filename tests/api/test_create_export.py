"""POST /api/v1/exports counts the rows and creates one Export resource: 202."""

from __future__ import annotations

from api_support import EXPORTS, USER_A, VALID_BODY, Client

from devstack.kubeclient import Export, KubeClient


async def test_valid_request_is_queued_with_the_seeds_body(client: Client) -> None:
    response = await client.post(EXPORTS, json=VALID_BODY, headers=USER_A)
    assert response.status == 202
    body = await response.json()
    assert body == {
        "exportId": body["exportId"],
        "status": "QUEUED",
        "estimatedRowCount": body["estimatedRowCount"],
        "format": "csv",
        "message": "Export queued. You will receive an email with the download link when ready.",
    }
    assert response.headers["Location"] == f"{EXPORTS}/{body['exportId']}"


async def test_export_resource_carries_the_request(
    client: Client, kube: KubeClient, namespace: str
) -> None:
    response = await client.post(EXPORTS, json=VALID_BODY, headers=USER_A)
    export_id = (await response.json())["exportId"]
    export = await kube.get(Export, export_id, namespace=namespace)
    assert export["spec"]["requestedBy"] == {"userId": "user-a", "email": "user-a@example.com"}
    assert export["spec"]["filters"] == VALID_BODY["filters"]
