"""GET /api/v1/exports/{id}: the seed's fields from the Export's status."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
from api_support import EXPORTS, USER_A, Client, MakeClient, create, set_status

from devstack.kubeclient import KubeClient
from streamexport_core.clock import shifted


def iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def get(client: Client, export_id: str) -> Any:
    response = await client.get(f"{EXPORTS}/{export_id}", headers=USER_A)
    assert response.status == 200, await response.text()
    return await response.json()


async def complete(
    kube: KubeClient,
    s3_client: Any,
    bucket: str,
    namespace: str,
    export_id: str,
    expires_at: dt.datetime,
) -> bytes:
    """Upload a file and mark the export COMPLETED, as the exporter and operator would."""
    key = f"exports/{namespace}/{export_id}/transactions_2024-01-01.csv"
    content = b"ID,Amount\n1,9.99\n"
    s3_client.put_object(Bucket=bucket, Key=key, Body=content)
    now = dt.datetime.now(dt.UTC)
    await set_status(
        kube,
        namespace,
        export_id,
        {
            "phase": "COMPLETED",
            "progressPercentage": 100,
            "rowsWritten": 1,
            "actualRowCount": 1,
            "fileSizeBytes": len(content),
            "objectKey": key,
            "startedAt": iso(now - dt.timedelta(seconds=5)),
            "completedAt": iso(now),
            "expiresAt": iso(expires_at),
        },
    )
    return content


async def test_new_export_without_a_phase_is_queued(client: Client) -> None:
    export_id = await create(client, USER_A)
    body = await get(client, export_id)
    assert body["id"] == export_id
    assert body["status"] == "QUEUED"
    assert body["progressPercentage"] == 0
    assert body["resourceType"] == "TRANSACTIONS"
    assert body["format"] == "csv"
    assert body["createdAt"] is not None
    for unknown in ("actualRowCount", "fileSizeBytes", "downloadUrl", "completedAt", "expiresAt"):
        assert body[unknown] is None


async def test_processing_export_shows_its_progress(
    client: Client, kube: KubeClient, namespace: str
) -> None:
    export_id = await create(client, USER_A)
    await set_status(
        kube,
        namespace,
        export_id,
        {"phase": "PROCESSING", "progressPercentage": 40, "startedAt": "2026-01-01T10:00:00Z"},
    )
    body = await get(client, export_id)
    assert (body["status"], body["progressPercentage"], body["startedAt"]) == (
        "PROCESSING",
        40,
        "2026-01-01T10:00:00Z",
    )
    assert body["downloadUrl"] is None


async def test_failed_export_says_why(client: Client, kube: KubeClient, namespace: str) -> None:
    export_id = await create(client, USER_A)
    status = {"phase": "FAILED", "reason": "OOMKilled", "message": "the exporter ran out of memory"}
    await set_status(kube, namespace, export_id, status)
    body = await get(client, export_id)
    assert (body["status"], body["failureReason"], body["failureMessage"]) == (
        "FAILED",
        "OOMKilled",
        "the exporter ran out of memory",
    )


async def test_completed_export_url_downloads_the_file(
    client: Client, kube: KubeClient, s3_client: Any, bucket: str, namespace: str
) -> None:
    export_id = await create(client, USER_A)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=7)
    content = await complete(kube, s3_client, bucket, namespace, export_id, expires)
    body = await get(client, export_id)
    assert body["status"] == "COMPLETED"
    assert (body["actualRowCount"], body["fileSizeBytes"]) == (1, len(content))
    async with aiohttp.ClientSession() as session, session.get(body["downloadUrl"]) as download:
        assert download.status == 200
        assert await download.read() == content


async def test_url_lives_for_the_configured_ttl(
    client: Client, kube: KubeClient, s3_client: Any, bucket: str, namespace: str
) -> None:
    export_id = await create(client, USER_A)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=7)
    await complete(kube, s3_client, bucket, namespace, export_id, expires)
    body = await get(client, export_id)
    assert parse_qs(urlsplit(body["downloadUrl"]).query)["X-Amz-Expires"] == ["3600"]
    url_expires = dt.datetime.fromisoformat(body["downloadUrlExpiresAt"])
    assert abs(url_expires - dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)) < dt.timedelta(
        seconds=30
    )


async def test_url_never_outlives_the_export(
    client: Client, kube: KubeClient, s3_client: Any, bucket: str, namespace: str
) -> None:
    export_id = await create(client, USER_A)
    expires = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(minutes=2)
    await complete(kube, s3_client, bucket, namespace, export_id, expires)
    body = await get(client, export_id)
    assert int(parse_qs(urlsplit(body["downloadUrl"]).query)["X-Amz-Expires"][0]) <= 120
    assert dt.datetime.fromisoformat(body["downloadUrlExpiresAt"]) <= expires


async def test_expired_export_is_410(
    client: Client, kube: KubeClient, s3_client: Any, bucket: str, namespace: str
) -> None:
    export_id = await create(client, USER_A)
    expired = dt.datetime(2026, 1, 8, 10, 5, tzinfo=dt.UTC)
    await complete(kube, s3_client, bucket, namespace, export_id, expired)
    response = await client.get(f"{EXPORTS}/{export_id}", headers=USER_A)
    assert response.status == 410
    assert await response.json() == {
        "statusCode": 410,
        "message": f"Export {export_id} expired at 2026-01-08T10:05:00Z;"
        " request a new export instead",
        "error": "Gone",
    }


async def test_an_export_is_410_to_a_clock_past_its_expiry(
    client: Client,
    make_client: MakeClient,
    kube: KubeClient,
    s3_client: Any,
    bucket: str,
    namespace: str,
) -> None:
    """The expiry path takes "now" as a parameter: the same export, seen 7 days and a minute on."""
    export_id = await create(client, USER_A)
    expires = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=7)
    await complete(kube, s3_client, bucket, namespace, export_id, expires)
    assert (await get(client, export_id))["status"] == "COMPLETED"
    later = await make_client(clock=shifted(7 * 86400 + 60))
    response = await later.get(f"{EXPORTS}/{export_id}", headers=USER_A)
    assert response.status == 410
    message = (await response.json())["message"]
    assert message.startswith(f"Export {export_id} expired at {iso(expires)}")


async def test_unknown_export_is_404(client: Client) -> None:
    missing = str(uuid.uuid4())
    response = await client.get(f"{EXPORTS}/{missing}", headers=USER_A)
    assert response.status == 404
    assert await response.json() == {
        "statusCode": 404,
        "message": f"Export {missing} not found",
        "error": "Not Found",
    }


async def test_id_that_is_not_a_uuid_is_404(client: Client) -> None:
    response = await client.get(f"{EXPORTS}/not-a-uuid", headers=USER_A)
    assert response.status == 404
