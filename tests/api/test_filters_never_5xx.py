"""Property: whatever filters a caller sends, for every filter type of the catalog, the API
answers 202, 400 or 422 — never a 5xx (hypothesis draws the values)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import hypothesis
from aiohttp.test_utils import TestClient, TestServer
from api_support import EXPORTS, USER_A, Client
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from api.app import create_app
from api.settings import Settings
from streamexport_core.catalog import Filter, load_catalog

CATALOG = load_catalog()
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)


def typed_value(spec: Filter) -> st.SearchStrategy[Any]:
    """Values of the filter's own type, edges included, plus anything else JSON can carry."""
    if spec.type == "date":
        days = st.dates(dt.date.min, dt.date.max).map(dt.date.isoformat)
        shaped = st.from_regex(r"\A\d{4}-\d{2}-\d{2}\Z")
        edges = st.sampled_from(["0001-01-01", "9999-12-31", "0000-01-01", "2024-02-29"])
        typed = edges | days | shaped
    elif spec.type == "enum":
        typed = st.sampled_from(list(spec.values or [])) | st.text(max_size=20)
    elif spec.type == "integer":
        typed = st.integers(min_value=-(2**70), max_value=2**70)
    else:
        typed = st.text(max_size=1100)
    return typed | JSON_VALUES


def request_bodies() -> st.SearchStrategy[dict[str, Any]]:
    def for_resource(resource_type: str) -> st.SearchStrategy[dict[str, Any]]:
        resource = CATALOG.get(resource_type)
        filters = st.fixed_dictionaries(
            {}, optional={name: typed_value(spec) for name, spec in resource.filters.items()}
        )
        return st.fixed_dictionaries(
            {
                "resourceType": st.just(resource_type),
                "format": st.sampled_from(["csv", "xlsx", "CSV"]),
                "filters": filters,
            }
        )

    return st.sampled_from(sorted(CATALOG.resource_types)).flatmap(for_resource)


def test_filters_never_answer_5xx(settings: Settings) -> None:
    # hypothesis drives sync tests: the app gets a loop of its own for the whole run.
    loop = asyncio.new_event_loop()
    client: Client = TestClient(TestServer(create_app(settings)), loop=loop)
    loop.run_until_complete(client.start_server())
    answers: set[int] = set()

    async def post(body: dict[str, Any]) -> tuple[int, str]:
        response = await client.post(EXPORTS, json=body, headers=USER_A)
        return response.status, await response.text()

    @hypothesis.settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(body=request_bodies())
    def one(body: dict[str, Any]) -> None:
        status, text = loop.run_until_complete(post(body))
        assert status < 500, (body, text)
        answers.add(status)

    try:
        one()
    finally:
        loop.run_until_complete(client.close())
        loop.close()
    assert answers <= {202, 400, 403, 422}  # 403: a filter outside the token's row scope
    assert 202 in answers and 400 in answers  # both sides of the domain were reached
