"""Schemathesis against the served OpenAPI document: no 5xx, no response the document forbids.

The whole engine runs (examples, coverage, fuzzing, stateful, with schemathesis' default
checks) against the real app on a real port, once, bounded by `MAX_EXAMPLES` (~10 s).
"""

from __future__ import annotations

import asyncio
from typing import Any

import schemathesis
from api_support import USER_A, Client
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, StopReason, events

MAX_EXAMPLES = 50


def config(base_url: str) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "base-url": base_url,
            "headers": dict(USER_A),
            "seed": 1,
            "cache": {"enabled": False},
            "generation": {"max-examples": MAX_EXAMPLES},
            # DELETE asks for a cancellation: the export stays readable (as CANCELLED).
            "checks": {"use_after_free": {"enabled": False}},
            "operations": [
                {
                    # Schema-valid yet refused: a reversed date range (400), a merchantId
                    # filter outside the token's row scope (403), too many rows or a reused
                    # Idempotency-Key (422).
                    "include-operation-id": "createExport",
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": ["2xx", "400", "403", "422"]
                        }
                    },
                },
                {
                    # A `continue` that no list returned is refused (400).
                    "include-operation-id": "listExports",
                    "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400"]}},
                },
            ],
        }
    )


def run_schemathesis(document: dict[str, Any], base_url: str) -> tuple[list[str], int]:
    """Every failure the engine reports, as text, and the number of scenarios it ran."""
    schema = schemathesis.openapi.from_dict(document, config=config(base_url))
    problems: list[str] = []
    scenarios = 0
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            scenarios += 1
            if event.status != Status.FAILURE:
                continue
            for node in (n for nodes in event.recorder.checks.values() for n in nodes):
                if node.failure_info is not None:
                    failure = node.failure_info.failure
                    problems.append(
                        f"{event.recorder.label}: {failure.title}: {failure.message}\n"
                        f"{node.failure_info.code_sample}"
                    )
        elif isinstance(event, events.NonFatalError):
            problems.append(f"{event.label}: {event.value!r}")
        elif isinstance(event, events.FatalError):
            problems.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished) and event.stop_reason != StopReason.COMPLETED:
            problems.append(f"stopped early: {event.stop_reason}")
    return problems, scenarios


async def test_served_document_is_what_the_api_does(client: Client) -> None:
    document = await (await client.get("/api/v1/openapi.json")).json()
    base_url = str(client.make_url("/")).rstrip("/")
    # Schemathesis is synchronous: run it on a thread while this loop serves the app.
    problems, scenarios = await asyncio.to_thread(run_schemathesis, document, base_url)
    assert problems == []
    assert scenarios > 50  # the engine really ran (93 scenarios with seed 1)
