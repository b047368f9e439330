"""Helpers for the end-to-end tests: an API user (`Client`) and the stack's constants."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from polling import eventually_sync

from devstack.stack import Stack
from streamexport_core.catalog import DEFAULT_CATALOG_PATH

ROWS = 60_000  # 2024 spread evenly: ~164 rows a day
MAX_ROWS = 40_000  # the API's limit for this session, so that "too many rows" is cheap
OPEN_RESOURCE = "OPEN_TRANSACTIONS"  # the stack's catalog: an unscoped copy of TRANSACTIONS


def write_catalog(path: Path) -> Path:
    """The packaged catalog (TRANSACTIONS scoped by merchantId) plus OPEN_RESOURCE."""
    document = yaml.safe_load(DEFAULT_CATALOG_PATH.read_text(encoding="utf-8"))
    open_copy = {k: v for k, v in document["resources"]["TRANSACTIONS"].items() if k != "scope"}
    document["resources"][OPEN_RESOURCE] = open_copy
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


class Client:
    """A user of the API: one bearer token, JSON in and out."""

    def __init__(self, stack: Stack, token: str, api_url: str | None = None) -> None:
        self.stack = stack
        self.token = token
        self.api_url = api_url or stack.api_url

    def at(self, api_url: str) -> Client:
        """The same user, talking to another API process (e.g. `stack.api_ahead`)."""
        return Client(self.stack, self.token, api_url)

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - the local API
            self.api_url + path, data=data, method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return int(response.status), json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, json.loads(exc.read() or b"null")

    def create(
        self, fmt: str = "csv", *, resource_type: str = "TRANSACTIONS", **filters: Any
    ) -> str:
        status, body = self.call(
            "POST", "/api/v1/exports",
            {"resourceType": resource_type, "format": fmt, "filters": filters},
        )
        assert status == 202, body
        return str(body["exportId"])

    def get(self, export_id: str) -> tuple[int, Any]:
        return self.call("GET", f"/api/v1/exports/{export_id}")

    def wait(
        self, export_id: str, until: Callable[[Any], bool], timeout: float = 120.0
    ) -> Any:
        def probe() -> Any:
            self.stack.check()
            status, body = self.get(export_id)
            assert status == 200 and until(body), f"export {export_id} is not there yet: {body}"
            return body

        return eventually_sync(probe, timeout=timeout, interval=0.25)

    def wait_final(self, export_id: str, timeout: float = 120.0) -> Any:
        return self.wait(
            export_id, lambda b: b["status"] in ("COMPLETED", "FAILED", "CANCELLED"), timeout
        )
