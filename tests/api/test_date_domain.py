"""Every valid YYYY-MM-DD (0001-01-01 to 9999-12-31) is counted or refused with a 400."""

from __future__ import annotations

import pytest
from api_support import EXPORTS, USER_A, Client


@pytest.mark.parametrize(
    "filters",
    [
        {"endDate": "9999-12-31"},
        {"startDate": "9999-12-31", "endDate": "9999-12-31"},
        {"startDate": "0001-01-01"},
        {"startDate": "0001-01-01", "endDate": "0001-01-01"},
    ],
)
async def test_edge_of_the_date_domain_is_accepted(client: Client, filters: dict[str, str]) -> None:
    body = {"resourceType": "TRANSACTIONS", "format": "csv", "filters": filters}
    response = await client.post(EXPORTS, json=body, headers=USER_A)
    assert response.status == 202, await response.text()


async def test_year_zero_is_a_400_naming_the_field(client: Client) -> None:
    body = {"resourceType": "TRANSACTIONS", "format": "csv", "filters": {"endDate": "0000-12-31"}}
    response = await client.post(EXPORTS, json=body, headers=USER_A)
    assert response.status == 400
    assert (await response.json())["message"] == [
        "filters.endDate must be a valid ISO 8601 date string (YYYY-MM-DD)"
    ]
