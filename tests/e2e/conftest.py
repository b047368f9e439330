"""One real stack for the end-to-end tests: every part a real process, talking real HTTP/SMTP.

PostgreSQL (embedded), moto's S3 server, the SMTP sink, the Kubernetes API stand-in, the
local Job runner (exporters as subprocesses under a memory cgroup), the operator and the API.
Started once per session (~20 s); tests share it and create their own exports.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import MAX_ROWS, ROWS, Client, write_catalog

from devstack.demo_data import MERCHANTS
from devstack.stack import Ports, Stack, StackConfig

# TRANSACTIONS is scoped by the merchantId claim; these users may read every merchant's rows.
EVERY_MERCHANT = {"merchantId": list(MERCHANTS)}


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("stack")
    config = StackConfig(
        root=root,
        ports=Ports.random(),
        rows=ROWS,
        operator_env={
            "MAX_RUNNING_EXPORTS": "4",
            "MAX_RUNNING_EXPORTS_PER_OWNER": "2",
            "JOB_BACKOFF_LIMIT": "2",
            "EXPORT_PART_SIZE": "5MiB",
        },
        api_env={"MAX_EXPORT_ROWS": str(MAX_ROWS)},
        runner_backoff_seconds=3.0,
        catalog=write_catalog(root / "catalog.yaml"),
    )
    with Stack(config) as running:
        yield running


@pytest.fixture(scope="session")
def alice(stack: Stack) -> Client:
    return Client(stack, stack.token("alice", "alice@example.com", claims=EVERY_MERCHANT))


@pytest.fixture(scope="session")
def bob(stack: Stack) -> Client:
    return Client(stack, stack.token("bob", "bob@example.com", claims=EVERY_MERCHANT))


@pytest.fixture(scope="session")
def admin(stack: Stack) -> Client:
    return Client(
        stack,
        stack.token("root", "root@example.com", roles=("SUPER_ADMIN",), claims=EVERY_MERCHANT),
    )


@pytest.fixture
def mail_dir(stack: Stack) -> Path:
    return stack.mail_dir
