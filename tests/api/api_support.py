"""Helpers shared by the API tests: tokens, bodies, and the operator's side of an Export."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient

from api.devtoken import mint_token
from devstack.demo_data import MERCHANTS
from devstack.kubeclient import Export, KubeClient

SECRET = "test-secret-of-at-least-thirty-two-bytes"  # noqa: S105 - tests only
EXPORTS = "/api/v1/exports"

Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[Client]]


# TRANSACTIONS is scoped by the `merchantId` claim: by default a test user may read every
# demo merchant's rows (the whole table), so that counts are the table's.
ALL_MERCHANTS = list(MERCHANTS)
_DEFAULT_CLAIMS: dict[str, Any] = {"merchantId": ALL_MERCHANTS}


def auth(
    sub: str = "user-a",
    *,
    roles: tuple[str, ...] = (),
    claims: dict[str, Any] | None = None,
    **options: Any,
) -> dict[str, str]:
    """An Authorization header for `sub` (email `<sub>@example.com`); `claims` replace the
    default `{"merchantId": ALL_MERCHANTS}` (pass `{}` for a token without any)."""
    token = mint_token(
        SECRET,
        sub=sub,
        email=f"{sub}@example.com",
        roles=roles,
        extra_claims=_DEFAULT_CLAIMS if claims is None else claims,
        **options,
    )
    return {"Authorization": f"Bearer {token}"}


USER_A = auth("user-a")
USER_B = auth("user-b")
ADMIN = auth("admin", roles=("SUPER_ADMIN",))
VALID_BODY = {
    "resourceType": "TRANSACTIONS",
    "format": "CSV",
    "filters": {"startDate": "2024-01-01", "endDate": "2024-03-31", "status": "SETTLED"},
}


async def create(client: Client, headers: dict[str, str], body: Any = None) -> str:
    """POST a valid export as `headers`' user; the new export's id."""
    response = await client.post(
        EXPORTS, json=VALID_BODY if body is None else body, headers=headers
    )
    assert response.status == 202, await response.text()
    return str((await response.json())["exportId"])


async def set_status(kube: KubeClient, namespace: str, name: str, status: dict[str, Any]) -> None:
    """Write the Export's status through the status subresource, as the operator does."""
    await kube.merge_patch(Export.Status, name, {"status": status}, namespace=namespace)
