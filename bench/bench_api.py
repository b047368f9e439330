"""Benchmark the API: POST (with its COUNT over ~500k rows) and GET by id, under load.

    python bench/bench_api.py [--rows 1000000] [--duration 10] [--concurrency 1,16,64]

Starts PostgreSQL with `--rows` demo transactions (devstack.demo_data), the Kubernetes API
stand-in and the API (`python -m api`) each in its own process, then for every scenario and
concurrency runs a load generator in another process (`bench_api.py load ...`, an aiohttp
client: `--concurrency` connections, each sending its next request when the last answered)
for `--warmup` + `--duration` seconds, and prints a markdown table of requests/s and
latency percentiles of the measured part. The POST filter is Jan 1 .. Jun 30 2024: 497,268
of 1M rows, just under the 500,000 limit, so each POST counts and creates an Export.

Every process shares this machine's cores: read the numbers as what one small box does.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
from lightkube.types import PatchType  # noqa: E402

from api.devtoken import mint_token  # noqa: E402
from devstack import demo_data, services  # noqa: E402
from devstack.processes import Supervisor, free_port, http_ok  # noqa: E402
from streamexport_core.kube import Export, sync_client  # noqa: E402

SECRET = "benchmark-secret-of-at-least-32-bytes"  # noqa: S105 - a throwaway local secret
NAMESPACE = "default"
FILTER_500K = {"startDate": "2024-01-01", "endDate": "2024-06-30"}
POST_BODY = {"resourceType": "TRANSACTIONS", "format": "csv", "filters": FILTER_500K}


# --- the load generator (its own process) ------------------------------------------------


async def _worker(
    session: Any, method: str, url: str, body: bytes | None, start: float, stop: float,
    latencies: list[float], statuses: dict[int, int],
) -> None:  # fmt: skip
    while (sent := time.perf_counter()) < stop:
        async with session.request(method, url, data=body) as response:
            await response.read()
        took = time.perf_counter() - sent
        if sent >= start:
            latencies.append(took)
            statuses[response.status] = statuses.get(response.status, 0) + 1


async def _load(args: argparse.Namespace) -> dict[str, Any]:
    import aiohttp

    headers = {"Authorization": f"Bearer {args.token}", "Content-Type": "application/json"}
    body = args.body.encode() if args.body else None
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(
        connector=connector, headers=headers, timeout=timeout
    ) as session:
        start = time.perf_counter() + args.warmup
        stop = start + args.duration
        await asyncio.gather(
            *(
                _worker(session, args.method, args.url, body, start, stop, latencies, statuses)
                for _ in range(args.concurrency)
            )
        )
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "requests": len(latencies),
        "rps": len(latencies) / args.duration,
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
        "statuses": statuses,
    }


def load_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_api.py load")
    parser.add_argument("--url", required=True)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body", default="")
    parser.add_argument("--token", required=True)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(_load(args))))
    return 0


# --- the stack and the runs --------------------------------------------------------------


def _request(url: str, token: str, method: str = "GET", body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - local
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local
        return json.loads(response.read())


def _cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def _run_load(url: str, method: str, body: Any, token: str, concurrency: int, args: Any) -> Any:
    command = [
        sys.executable, __file__, "load", "--url", url, "--method", method, "--token", token,
        "--concurrency", str(concurrency), "--duration", str(args.duration),
        "--warmup", str(args.warmup), "--body", json.dumps(body) if body is not None else "",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def _measured(
    supervisor: Supervisor, url: str, method: str, body: Any, token: str, level: int, args: Any
) -> dict[str, Any]:
    """One load run, plus the CPU time the API and the stand-in spent per request in it."""
    pids = {child.name: child.process.pid for child in supervisor.children}
    before = {name: _cpu_seconds(pid) for name, pid in pids.items()}
    result: dict[str, Any] = _run_load(url, method, body, token, level, args)
    supervisor.check()
    # Warm-up requests are served but not counted: spread the CPU over all of them.
    served = result["requests"] * (args.duration + args.warmup) / args.duration
    for name, pid in pids.items():
        result[f"{name}_cpu_ms"] = (_cpu_seconds(pid) - before[name]) * 1000 / max(served, 1)
    return result


def _start_stack(
    args: argparse.Namespace, supervisor: Supervisor, database_url: str
) -> tuple[str, str]:
    """Start the stand-in and the API; their base URLs."""
    kube_port, api_port = free_port(), free_port()
    kube = supervisor.start(
        "kubeapi",
        ["python", "-m", "devstack.kubeapi", "--port", str(kube_port), "--log-level", "WARNING",
         "--crd", str(ROOT / "crds" / "exports.streamexport.io.yaml")],
        cwd=ROOT,
    )  # fmt: skip
    kube_url = f"http://127.0.0.1:{kube_port}"
    supervisor.wait_until(kube, lambda: http_ok(f"{kube_url}/version"))
    env = {
        **services.DUMMY_CREDENTIALS,
        "DATABASE_URL": database_url,
        "S3_BUCKET": "bench",
        "S3_ENDPOINT_URL": "http://127.0.0.1:9",  # signing needs no S3 server
        "JWT_SECRET": SECRET,
        "KUBERNETES_API_URL": kube_url,
        "EXPORT_NAMESPACE": NAMESPACE,
        "API_HOST": "127.0.0.1",
        "API_PORT": str(api_port),
        "LOG_LEVEL": args.log_level,
    }
    api = supervisor.start("api", ["python", "-m", "api"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{api_port}"
    supervisor.wait_until(api, lambda: http_ok(f"{base}/readyz"), what="/readyz")
    return base, kube_url


def _completed_export(base: str, kube_url: str, token: str) -> str:
    """An export the operator has finished, so that GET signs a download URL."""
    export_id = str(_request(f"{base}/api/v1/exports", token, "POST", POST_BODY)["exportId"])
    now = dt.datetime.now(dt.UTC)
    status = {
        "phase": "COMPLETED",
        "objectKey": f"exports/{NAMESPACE}/{export_id}/transactions.csv",
        "completedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "expiresAt": (now + dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    kube = sync_client(kube_url)
    try:
        kube.patch(
            Export.Status,
            export_id,
            {"status": status},
            namespace=NAMESPACE,
            patch_type=PatchType.MERGE,
        )
    finally:
        kube.close()
    return export_id


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["load"]:
        return load_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before measuring")
    parser.add_argument("--concurrency", default="1,16,64", help="comma-separated")
    parser.add_argument("--log-level", default="INFO", help="the API's LOG_LEVEL")
    args = parser.parse_args(argv)
    levels = [int(c) for c in args.concurrency.split(",")]

    # TRANSACTIONS is scoped by merchantId: this user may count every demo merchant's rows.
    token = mint_token(
        SECRET,
        sub="bench",
        email="bench@example.com",
        ttl=86_400,
        extra_claims={"merchantId": list(demo_data.MERCHANTS)},
    )
    with services.start_postgres() as postgres, tempfile.TemporaryDirectory() as logs:
        database_url = _database(postgres.url, args.rows)
        supervisor = Supervisor(Path(logs))
        try:
            base, kube_url = _start_stack(args, supervisor, database_url)
            export_id = _completed_export(base, kube_url, token)
            queued_id = str(
                _request(f"{base}/api/v1/exports", token, "POST", POST_BODY)["exportId"]
            )
            scenarios = [
                ("POST /api/v1/exports (COUNT ~497k rows)", "POST", f"{base}/api/v1/exports",
                 POST_BODY),
                ("GET /api/v1/exports/{id} (COMPLETED: signs a URL)", "GET",
                 f"{base}/api/v1/exports/{export_id}", None),
                ("GET /api/v1/exports/{id} (QUEUED)", "GET",
                 f"{base}/api/v1/exports/{queued_id}", None),
            ]  # fmt: skip
            rows = []
            for label, method, url, body in scenarios:
                for level in levels:
                    result = _measured(supervisor, url, method, body, token, level, args)
                    rows.append((label, level, result))
                    print(f"  {label} c={level}: {result}", file=sys.stderr)
        finally:
            supervisor.stop_all()
    _print_table(args, rows)
    return 0


def _database(server_url: str, rows: int) -> str:
    import psycopg
    from psycopg import sql

    name = f"bench_api_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = services.with_database(server_url, name)
    started = time.monotonic()
    demo_data.load(url, rows)
    print(f"loaded {rows:,} rows in {time.monotonic() - started:.1f}s", file=sys.stderr)
    return url


def _print_table(args: argparse.Namespace, rows: list[tuple[str, int, Any]]) -> None:
    print(
        f"\nAPI benchmark, {dt.date.today()}, {platform.node()} ({os.cpu_count()} cores),"
        f" {args.rows:,} rows, {args.duration:g} s per run after {args.warmup:g} s warm-up\n"
    )
    print(
        "| request | concurrency | requests/s | p50 ms | p99 ms | API CPU ms/req"
        " | stand-in CPU ms/req | statuses |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for label, level, result in rows:
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(result["statuses"].items()))
        print(
            f"| {label} | {level} | {result['rps']:.0f} | {result['p50_ms']:.1f} |"
            f" {result['p99_ms']:.1f} | {result['api_cpu_ms']:.2f} |"
            f" {result['kubeapi_cpu_ms']:.2f} | {statuses} |"
        )


if __name__ == "__main__":
    sys.exit(main())
