"""A user sees only their own exports: another user's is a 404, never a 403."""

from __future__ import annotations

import datetime as dt
from typing import Any

from api_support import ADMIN, EXPORTS, USER_A, USER_B, Client, create, set_status

from devstack.kubeclient import Export, KubeClient


async def test_user_cannot_get_anothers_export(client: Client) -> None:
    export_id = await create(client, USER_B)
    response = await client.get(f"{EXPORTS}/{export_id}", headers=USER_A)
    assert response.status == 404
    assert (await response.json())["message"] == f"Export {export_id} not found"


async def test_user_cannot_download_anothers_completed_export(
    client: Client, kube: KubeClient, s3_client: Any, bucket: str, namespace: str
) -> None:
    export_id = await create(client, USER_B)
    key = f"exports/{namespace}/{export_id}/file.csv"
    s3_client.put_object(Bucket=bucket, Key=key, Body=b"secret")
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    await set_status(
        kube, namespace, export_id, {"phase": "COMPLETED", "objectKey": key, "expiresAt": expires}
    )
    response = await client.get(f"{EXPORTS}/{export_id}", headers=USER_A)
    assert response.status == 404
    assert "downloadUrl" not in await response.text()


async def test_user_cannot_cancel_anothers_export(
    client: Client, kube: KubeClient, namespace: str
) -> None:
    export_id = await create(client, USER_B)
    response = await client.delete(f"{EXPORTS}/{export_id}", headers=USER_A)
    assert response.status == 404
    exported = await kube.get(Export, export_id, namespace=namespace)
    assert "annotations" not in exported["metadata"] or not exported["metadata"]["annotations"]


async def test_user_lists_only_their_own_exports(client: Client) -> None:
    mine = await create(client, USER_A)
    await create(client, USER_B)
    response = await client.get(EXPORTS, headers=USER_A)
    assert [item["id"] for item in (await response.json())["items"]] == [mine]


async def test_super_admin_lists_every_export(client: Client) -> None:
    ids = {await create(client, USER_A), await create(client, USER_B)}
    response = await client.get(EXPORTS, headers=ADMIN)
    assert {item["id"] for item in (await response.json())["items"]} == ids


async def test_super_admin_gets_any_export(client: Client) -> None:
    export_id = await create(client, USER_A)
    response = await client.get(f"{EXPORTS}/{export_id}", headers=ADMIN)
    assert response.status == 200
