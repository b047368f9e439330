"""Logs are JSON lines with the request id, and never hold a token or a pre-signed URL."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from api_support import EXPORTS, USER_A, Client, create, set_status

from api.logs import JsonFormatter, RequestIdFilter, request_id_var
from devstack.kubeclient import KubeClient


def lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    formatter = JsonFormatter()
    return [json.loads(formatter.format(record)) for record in caplog.records]


async def test_access_line_is_json_with_the_request_id(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="api"):
        await client.get("/healthz", headers={"X-Request-Id": "req-42"})
    (access,) = [line for line in lines(caplog) if line["logger"] == "api.access"]
    assert access["request_id"] == "req-42"
    assert (access["method"], access["route"], access["status"]) == ("GET", "/healthz", 200)


async def test_tokens_and_urls_are_never_logged(
    client: Client, kube: KubeClient, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        export_id = await create(client, USER_A)
        status = {"phase": "COMPLETED", "objectKey": "k.csv", "expiresAt": "2099-01-01T00:00:00Z"}
        await set_status(kube, namespace, export_id, status)
        response = await client.get(f"{EXPORTS}/{export_id}", headers=USER_A)
        url = (await response.json())["downloadUrl"]
    text = "\n".join(json.dumps(line) for line in lines(caplog))
    token = USER_A["Authorization"].removeprefix("Bearer ")
    assert token not in text
    assert "X-Amz-Signature" not in text
    assert url not in text


def test_lines_logged_during_a_request_carry_its_id() -> None:
    record = logging.LogRecord(
        "api.service", logging.INFO, __file__, 1, "export created", None, None
    )
    token = request_id_var.set("req-7")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    assert json.loads(JsonFormatter().format(record))["request_id"] == "req-7"
