"""More rows than MAX_EXPORT_ROWS is a 422 with the seed's exact message, and no Export."""

from __future__ import annotations

from api_support import EXPORTS, USER_A, Client, MakeClient

from api.errors import TooManyRows
from devstack.kubeclient import Export, KubeClient

ALL_OF_2024 = {"resourceType": "TRANSACTIONS", "format": "csv", "filters": {}}


def test_message_has_thousands_separators() -> None:
    assert str(TooManyRows(1_234_567, 500_000)) == (
        "Export would contain 1,234,567 rows, which exceeds the maximum of 500,000."
        " Please narrow your filters."
    )


async def test_counted_rows_over_the_limit_are_422(make_client: MakeClient) -> None:
    client = await make_client(max_export_rows=999)  # the table holds 1,000 rows
    response = await client.post(EXPORTS, json=ALL_OF_2024, headers=USER_A)
    assert response.status == 422
    assert await response.json() == {
        "statusCode": 422,
        "message": "Export would contain 1,000 rows, which exceeds the maximum of 999."
        " Please narrow your filters.",
        "error": "Unprocessable Entity",
    }


async def test_rows_at_the_limit_are_accepted(make_client: MakeClient) -> None:
    client: Client = await make_client(max_export_rows=1000)
    response = await client.post(EXPORTS, json=ALL_OF_2024, headers=USER_A)
    assert response.status == 202
    assert (await response.json())["estimatedRowCount"] == 1000


async def test_refused_export_is_not_created(
    make_client: MakeClient, kube: KubeClient, namespace: str
) -> None:
    client = await make_client(max_export_rows=10)
    response = await client.post(EXPORTS, json=ALL_OF_2024, headers=USER_A)
    assert response.status == 422
    assert await kube.list(Export, namespace=namespace) == []
