"""DELETE /api/v1/exports/{id} records a cancellation request for the operator: 202 or 409."""

from __future__ import annotations

import uuid

import pytest
from api_support import EXPORTS, USER_A, Client, create, set_status

from devstack.kubeclient import Export, KubeClient

CANCEL = "streamexport.io/cancel-requested"


async def test_cancel_sets_the_annotation_and_answers_202(
    client: Client, kube: KubeClient, namespace: str
) -> None:
    export_id = await create(client, USER_A)
    response = await client.delete(f"{EXPORTS}/{export_id}", headers=USER_A)
    assert response.status == 202
    body = await response.json()
    assert (body["id"], body["status"]) == (export_id, "QUEUED")
    export = await kube.get(Export, export_id, namespace=namespace)
    assert export["metadata"]["annotations"][CANCEL] == body["cancelRequestedAt"]


async def test_second_cancel_keeps_the_first_request_time(client: Client) -> None:
    export_id = await create(client, USER_A)
    first = await (await client.delete(f"{EXPORTS}/{export_id}", headers=USER_A)).json()
    second = await client.delete(f"{EXPORTS}/{export_id}", headers=USER_A)
    assert second.status == 202
    assert (await second.json())["cancelRequestedAt"] == first["cancelRequestedAt"]


@pytest.mark.parametrize("phase", ["COMPLETED", "FAILED", "CANCELLED"])
async def test_finished_export_is_409(
    client: Client, kube: KubeClient, namespace: str, phase: str
) -> None:
    export_id = await create(client, USER_A)
    await set_status(kube, namespace, export_id, {"phase": phase})
    response = await client.delete(f"{EXPORTS}/{export_id}", headers=USER_A)
    assert response.status == 409
    assert await response.json() == {
        "statusCode": 409,
        "message": f"Export {export_id} is already {phase} and cannot be cancelled",
        "error": "Conflict",
    }


async def test_unknown_export_is_404(client: Client) -> None:
    response = await client.delete(f"{EXPORTS}/{uuid.uuid4()}", headers=USER_A)
    assert response.status == 404
