"""What the API's export cache costs in memory and per page, in-process (no servers).

    python bench/bench_export_index.py [--exports 10000]

Builds `--exports` Exports shaped like the API's (10 owners, the filters of a real request,
a COMPLETED status), measures with tracemalloc what an `ExportIndex` of them holds, and
times pages of 20 (first page and a deep cursor) for one owner and for everyone.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.export_index import ExportIndex  # noqa: E402
from api.listing import ListQuery, sort_key  # noqa: E402

OWNERS = 10


def manifest(index: int) -> dict[str, Any]:
    owner = f"user-{index % OWNERS}"
    return {
        "apiVersion": "streamexport.io/v1",
        "kind": "Export",
        "metadata": {
            "name": str(uuid.uuid4()),
            "namespace": "default",
            "uid": str(uuid.uuid4()),
            "resourceVersion": str(index),
            "generation": 1,
            "creationTimestamp": f"2026-12-01T{index // 3600 % 24:02d}:{index // 60 % 60:02d}"
            f":{index % 60:02d}Z",
            "labels": {"app.kubernetes.io/managed-by": "streamexport-api", "owner": "x" * 40},
        },
        "spec": {
            "resourceType": "TRANSACTIONS",
            "format": "csv",
            "filters": {"startDate": "2024-01-01", "endDate": "2024-06-30"},
            "scope": {"merchantId": ["m-001", "m-002"]},
            "requestedBy": {"userId": owner, "email": f"{owner}@example.com"},
            "estimatedRowCount": 497_268,
            "requestHash": "h" * 64,
        },
        "status": {
            "phase": "COMPLETED",
            "progressPercentage": 100,
            "rowsWritten": 497_268,
            "actualRowCount": 497_268,
            "fileSizeBytes": 68_000_000,
            "objectKey": f"exports/default/{index}/transactions.csv",
            "startedAt": "2026-12-01T00:00:01Z",
            "completedAt": "2026-12-01T00:00:04Z",
            "expiresAt": "2026-12-08T00:00:04Z",
        },
    }


def timed_pages(index: ExportIndex, owner: str | None, query: ListQuery, n: int) -> list[float]:
    took = []
    for _ in range(n):
        started = time.perf_counter()
        index.page(owner, query)
        took.append(time.perf_counter() - started)
    return took


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exports", type=int, default=10_000)
    args = parser.parse_args(argv)
    # What stays once the listed manifests are dropped (the index shares some of their
    # strings and dicts, so measure those too): everything allocated, minus what is freed.
    tracemalloc.start()
    manifests = [manifest(i) for i in range(args.exports)]
    index = ExportIndex.of(manifests)
    middle = ListQuery(limit=20, after=sort_key(manifests[args.exports // 2]))
    whole, _ = tracemalloc.get_traced_memory()
    del manifests
    gc.collect()
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{args.exports:,} manifests as listed: {whole / 2**20:.1f} MiB with the index")
    print(f"{args.exports:,} exports: the index holds {held / 2**20:.1f} MiB")
    for label, owner, query in [
        ("one owner, first page", "user-0", ListQuery(limit=20)),
        ("one owner, page at the middle", "user-0", middle),
        ("everyone, first page", None, ListQuery(limit=20)),
        ("everyone, FAILED only (none)", None, ListQuery(limit=20, status="FAILED")),
    ]:
        took = timed_pages(index, owner, query, 2000)
        cuts = statistics.quantiles(took, n=100, method="inclusive")
        print(f"  page of 20, {label}: p50 {cuts[49] * 1e6:.0f} µs, p99 {cuts[98] * 1e6:.0f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
