"""`make demo`: one export per format (CSV, XLSX, JSON Lines, Parquet) through the whole system,
then a clean shutdown.

REST API → Export resource → operator → Job → exporter → S3 → email and signed webhook →
download, with the same code that runs in a cluster; the cluster's parts are local stand-ins
(devstack.stack).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from typing import Any

from devstack.mailsink import read_messages
from devstack.processes import StackError
from devstack.stack import REPO, Ports, Stack, StackConfig

# (format, resource type, filters, request options): one export per format, each showing an
# option, and the second resource (INVOICES) as Parquet.
EXPORTS: tuple[tuple[str, str, dict[str, Any], dict[str, Any]], ...] = (
    ("csv", "TRANSACTIONS", {"startDate": "2024-01-01", "endDate": "2024-12-31"}, {"csvBom": True}),
    (
        "xlsx",
        "TRANSACTIONS",
        {"startDate": "2024-06-01", "endDate": "2024-06-30", "status": "SETTLED"},
        {"timeZone": "Europe/Berlin"},
    ),
    (
        "jsonl",
        "TRANSACTIONS",
        {"startDate": "2024-03-01", "endDate": "2024-03-31"},
        {"compression": "gzip", "columns": ["id", "created_at", "amount", "status"]},
    ),
    ("parquet", "INVOICES", {"issuedFrom": "2024-01-01", "issuedTo": "2024-06-30"}, {}),
)
FINAL = {"COMPLETED", "FAILED", "CANCELLED"}


def call(method: str, url: str, token: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - the local API
        url,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return int(response.status), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def bar(fraction: float, width: int = 24) -> str:
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def poll(stack: Stack, token: str, ids: dict[str, str], timeout: float) -> dict[str, Any]:
    """Poll GET /exports/{id} with a live progress line until every export has ended."""
    deadline = time.monotonic() + timeout
    latest: dict[str, Any] = {}
    printed, next_print = "", 0.0
    while time.monotonic() < deadline:
        stack.check()
        parts = []
        for fmt, export_id in ids.items():
            status, body = call("GET", f"{stack.api_url}/api/v1/exports/{export_id}", token)
            latest[fmt] = body
            phase = body.get("status", "?") if isinstance(body, dict) else f"HTTP {status}"
            percent = (body or {}).get("progressPercentage") or 0
            parts.append(f"{fmt} {bar(percent / 100, 10)} {percent:3d}% {phase:<10}")
        line = "  ".join(parts)
        if sys.stdout.isatty():
            print("\r" + line, end="", flush=True)
        elif line != printed and time.monotonic() >= next_print:
            print(line, flush=True)  # not a terminal: a line per change, at most one a second
            printed, next_print = line, time.monotonic() + 1.0
        if all((latest[f] or {}).get("status") in FINAL for f in ids):
            if sys.stdout.isatty() or line != printed:
                print("\r" + line if sys.stdout.isatty() else line)
            return latest
        time.sleep(0.5)
    raise StackError(f"exports did not finish within {timeout:.0f}s: {latest}")


def cell(value: Any, width: int = 28) -> str:
    """A cell for the sample rows: its text, or its first `width - 1` characters and "…" when
    it is longer, so that a cut value never reads as the whole one."""
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def count_rows(data: bytes, fmt: str) -> tuple[int, list[list[Any]]]:
    """Data rows (header excluded) and the first three rows of a downloaded file."""
    if data[:2] == b"\x1f\x8b":  # compression: gzip
        data = gzip.decompress(data)
    if fmt == "jsonl":
        objects = [json.loads(line) for line in data.splitlines()]
        return len(objects), [list(objects[0])] + [list(o.values()) for o in objects[:2]]
    if fmt == "parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(io.BytesIO(data))
        first = table.slice(0, 2).to_pylist()
        return table.num_rows, [table.column_names] + [list(r.values()) for r in first]
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
        return len(rows) - 1, rows[:3]
    from openpyxl import load_workbook

    with tempfile.NamedTemporaryFile(suffix=".xlsx") as handle:
        handle.write(data)
        handle.flush()
        workbook = load_workbook(handle.name, read_only=True)
        try:
            sheet = workbook.worksheets[0]
            head = [list(r) for r in sheet.iter_rows(max_row=3, values_only=True)]
            total = sum(1 for _ in sheet.iter_rows(values_only=True))
        finally:
            workbook.close()
    return total - 1, head


def run(rows: int, timeout: float) -> int:
    root = REPO / ".demo"
    config = StackConfig(root=root, ports=Ports.from_env(), rows=rows)
    print(f"streamexport demo — logs in {root / 'logs'}")
    with Stack(config) as stack:
        # TRANSACTIONS is scoped by the merchantId claim: the demo user is merchant 1's.
        token = stack.token("demo-user", "demo.user@example.com", claims={"merchantId": 1})
        print(f"\nAPI {stack.api_url}, Kubernetes API stand-in {stack.kube_url}\n")
        ids: dict[str, str] = {}
        for fmt, resource_type, filters, options in EXPORTS:
            body = {"resourceType": resource_type, "format": fmt.upper(), "filters": filters}
            body.update(options)
            # The stack's receiver verifies the signature of the webhook each export ends with.
            body["notify"] = {"webhookUrl": stack.webhook_url}
            print(f"POST /api/v1/exports {json.dumps(body)}")
            status, answer = call("POST", f"{stack.api_url}/api/v1/exports", token, body)
            print(f"  → {status} {json.dumps(answer)}")
            if status != 202:
                raise StackError(f"POST answered {status}")
            ids[fmt] = answer["exportId"]
        print()
        final = poll(stack, token, ids, timeout)
        ok = True
        for fmt, export_id in ids.items():
            body = final[fmt]
            print(f"\nGET /api/v1/exports/{export_id}\n{json.dumps(body, indent=2)}")
            if body.get("status") != "COMPLETED":
                ok = False
                continue
            with urllib.request.urlopen(body["downloadUrl"], timeout=60) as response:  # noqa: S310
                data = response.read()
            counted, head = count_rows(data, fmt)
            match = "matches" if counted == body.get("actualRowCount") else "DOES NOT MATCH"
            print(
                f"downloaded {len(data):,} bytes through the pre-signed URL; {counted:,} rows "
                f"({match} actualRowCount {body.get('actualRowCount'):,})"
            )
            for row in head:
                print("   ", [cell(v) for v in row])
            ok = ok and counted == body.get("actualRowCount")
        _show_mail(stack)
        ok = _show_webhooks(stack, ids) and ok
        _show_kubectl(stack)
        print("\nshutting down…")
    print("done." if ok else "FAILED: see above.")
    return 0 if ok else 1


def _show_mail(stack: Stack) -> None:
    deadline = time.monotonic() + 30
    messages: list[Any] = []
    while time.monotonic() < deadline and len(messages) < len(EXPORTS):
        messages = read_messages(stack.mail_dir)
        time.sleep(0.3)
    print(f"\n{len(messages)} email(s) in {stack.mail_dir}:")
    for message in messages:
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        link = re.search(r"https?://\S+X-Amz-Signature=\S+", text)
        print(f"  To: {message['to']}  Subject: {message['subject']}")
        if link:
            print(f"  link: {link.group(0)[:110]}…")


def _show_webhooks(stack: Stack, ids: dict[str, str]) -> bool:
    """Each export's webhook, as the receiver accepted it (signature verified); True when
    every export's arrived."""
    deadline = time.monotonic() + 30
    deliveries: list[dict[str, Any]] = []
    wanted = set(ids.values())
    while time.monotonic() < deadline and not wanted <= {d["exportId"] for d in deliveries}:
        deliveries = stack.webhook_deliveries()
        time.sleep(0.3)
    print(f"\n{len(deliveries)} webhook(s) to {stack.webhook_url} (signatures verified):")
    by_export = {d["exportId"]: d for d in deliveries}
    for fmt, export_id in ids.items():
        delivery = by_export.get(export_id)
        if delivery is None:
            print(f"  {fmt}: no webhook arrived")
            continue
        print(
            f"  {fmt}: webhook {delivery['type']} event {delivery['eventId']}"
            f" status {delivery['status']} rows {delivery['actualRowCount']}"
        )
    return wanted <= set(by_export)


def _show_kubectl(stack: Stack) -> None:
    kubectl = shutil.which("kubectl")
    command = ["kubectl", "--server", stack.kube_url, "get", "exports", "-o", "wide"]
    print(f"\n$ {' '.join(command)}")
    if kubectl is None:
        print("  (kubectl is not installed; skipped)")
        return
    result = subprocess.run(
        [kubectl, "--server", stack.kube_url, "--insecure-skip-tls-verify", *command[3:]],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    print(result.stdout or result.stderr)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.demo", description=__doc__)
    parser.add_argument("--rows", type=int, default=500_000, help="demo transactions to load")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for exports")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        sys.exit(run(args.rows, args.timeout))
    except KeyboardInterrupt:
        print("\ninterrupted; everything was stopped.")
        sys.exit(130)
    except StackError as exc:
        print(f"\ndemo failed: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
