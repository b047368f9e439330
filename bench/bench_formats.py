"""Benchmark the exporter's formats side by side: CSV, CSV gzip, JSONL, JSONL gzip, Parquet.

    python bench/bench_formats.py [--rows 100000,500000,1000000] [--table-rows 1000000]
                                  [--runs 3]
                                  [--formats csv,csv.gz,jsonl,jsonl.gz,parquet]

One PostgreSQL (pgserver), one moto S3 server in its own process (restarted between rounds:
it keeps every object in memory), one dataset; the formats run interleaved `--runs` times
and the table shows medians. Each run is `python -m exporter` as the Job runs it: wall time
includes start-up and imports; CPU is the exporter process's own (user + system, from
`wait4`), not PostgreSQL's; peak RSS is the kernel's high-water mark of the process
(`VmHWM`, polled), "of it anon" the anonymous part (heap, buffers; the rest is mapped library
files such as pyarrow's ~50 MiB, which the kernel can drop under pressure); bytes are the
uploaded object's. Ratios are to CSV in the same run. Goals (issue 12): JSONL within 1.5x
of CSV, Parquet within 3x, every peak RSS <= 128 MiB.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devstack import demo_data, services  # noqa: E402
from streamexport_core.scope import Scope  # noqa: E402

EVERY_ROW = Scope("merchant_id", "merchantId", unrestricted=True)
BUCKET = "bench-formats"
CASES = {
    "csv": ("CSV", ["--format", "csv"]),
    "csv.gz": ("CSV gzip", ["--format", "csv", "--gzip"]),
    "jsonl": ("JSONL", ["--format", "jsonl"]),
    "jsonl.gz": ("JSONL gzip", ["--format", "jsonl", "--gzip"]),
    "parquet": ("Parquet", ["--format", "parquet"]),
    "xlsx": ("XLSX", ["--format", "xlsx"]),
}
MIB = 1024 * 1024


@dataclass(frozen=True)
class Sample:
    wall: float
    cpu: float
    peak_rss: int
    peak_anon: int  # of that, anonymous memory (heap); the rest is mapped files (libraries)
    bytes: int
    rows: int


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _memory(pid: int) -> tuple[int, int]:
    """(VmHWM, RssAnon) in bytes: the kernel's peak RSS, and the anonymous part now."""
    found = {"VmHWM:": 0, "RssAnon:": 0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key = line.split(maxsplit=1)[0] if line else ""
            if key in found:
                found[key] = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return found["VmHWM:"], found["RssAnon:"]


def run_exporter(argv: Sequence[str], env: dict[str, str]) -> Sample:
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out: list[bytes] = []
    err: list[bytes] = []
    assert process.stdout is not None and process.stderr is not None
    readers = [
        threading.Thread(target=lambda: out.append(process.stdout.read())),  # type: ignore[union-attr]
        threading.Thread(target=lambda: err.append(process.stderr.read())),  # type: ignore[union-attr]
    ]
    for reader in readers:
        reader.start()
    peak = peak_anon = 0
    while True:
        # wait4 reaps and reports the child's own CPU; poll VmHWM until then.
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        hwm, anon = _memory(process.pid)
        peak, peak_anon = max(peak, hwm), max(peak_anon, anon)
        time.sleep(0.005)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join()
    if process.returncode != 0:
        raise RuntimeError(f"exporter exited {process.returncode}: {b''.join(err)[-2000:]!r}")
    result = json.loads(b"".join(out).decode().strip().splitlines()[-1])
    cpu = usage.ru_utime + usage.ru_stime
    return Sample(wall, cpu, peak, peak_anon, result["bytes"], result["rows"])


def filters_for(rows: int, table_rows: int) -> dict[str, str]:
    """Whole UTC days from 2024-01-01 holding about `rows` of the table's rows."""
    days = max(1, round(min(rows, table_rows) / table_rows * 366))
    end = dt.date(2024, 1, 1) + dt.timedelta(days=days - 1)
    return {"startDate": "2024-01-01", "endDate": end.isoformat()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows", default="500000", help="rows per export; comma-separated for several sizes"
    )
    parser.add_argument("--table-rows", type=int, default=1_000_000, help="rows in the table")
    parser.add_argument("--runs", type=int, default=3, help="runs per format (median)")
    parser.add_argument("--formats", default="csv,csv.gz,jsonl,jsonl.gz,parquet")
    args = parser.parse_args(argv)
    formats = [f.strip() for f in args.formats.split(",")]
    unknown = [f for f in formats if f not in CASES]
    if unknown:
        parser.error(f"unknown formats {unknown}; choose from {', '.join(CASES)}")
    try:
        sizes = sorted(int(size) for size in args.rows.split(","))
    except ValueError:
        parser.error(f"--rows takes row counts separated by commas, not {args.rows!r}")
    table_rows = max(args.table_rows, *sizes)
    compile_sources()

    postgres = services.start_postgres()
    moto = services.start_moto_process()
    by_size: dict[int, dict[str, list[Sample]]] = {}
    started = dt.datetime.now(dt.UTC)
    try:
        client = services.s3_client(moto.endpoint_url)
        client.create_bucket(Bucket=BUCKET)
        log(f"loading {table_rows:,} demo rows ...")
        demo_data.load(postgres.url, table_rows, drop=True)
        load_before = os.getloadavg()[0]
        for size in sizes:
            env = {
                **os.environ,
                **services.DUMMY_CREDENTIALS,
                "PYTHONPATH": str(ROOT),
                "AWS_REGION": services.REGION,
                "DATABASE_URL": postgres.url,
                "S3_ENDPOINT_URL": moto.endpoint_url,
                "S3_BUCKET": BUCKET,
                "TERMINATION_MESSAGE_PATH": "",
                "EXPORT_LOG_LEVEL": "warning",
                "EXPORT_SCOPE": json.dumps(EVERY_ROW.to_json()),
                "EXPORT_RESOURCE_TYPE": "TRANSACTIONS",
                "EXPORT_FILTERS": json.dumps(filters_for(size, table_rows)),
                "MALLOC_ARENA_MAX": "2",
            }
            samples: dict[str, list[Sample]] = {f: [] for f in formats}
            for run in range(args.runs):
                for fmt in formats:
                    argv_ = [sys.executable, "-m", "exporter", *CASES[fmt][1]]
                    sample = run_exporter(argv_, env)
                    samples[fmt].append(sample)
                    log(
                        f"{size:,} run {run + 1} {fmt}: {sample.wall:.2f}s "
                        f"{sample.peak_rss / MIB:.0f} MiB"
                    )
                    services.empty_bucket(client, BUCKET)
                moto.restart()
                env["S3_ENDPOINT_URL"] = moto.endpoint_url
                client = services.s3_client(moto.endpoint_url)
                client.create_bucket(Bucket=BUCKET)
            by_size[size] = samples
        load_after = os.getloadavg()[0]
    finally:
        moto.stop()
        postgres.stop()
    print(f"### Formats benchmark — {started:%Y-%m-%d %H:%M} UTC\n")
    print(
        f"{table_rows:,}-row table; load average before/after: {load_before:.2f} / "
        f"{load_after:.2f} (compare ratios)."
    )
    for samples in by_size.values():
        print_table(samples, args)
    print()
    print("\n".join(format_verdicts(by_size)))
    return 0


def compile_sources() -> None:
    """Byte-compile the project's packages, as the exporter's image does (`compileall`)."""
    for package in ("exporter", "core"):
        compileall.compile_dir(str(ROOT / package), quiet=1)


def _median(samples: list[Sample], attribute: str) -> float:
    return statistics.median(getattr(s, attribute) for s in samples)


def format_verdicts(by_size: dict[int, dict[str, list[Sample]]]) -> list[str]:
    """Issue 12's goals, each with the measured value: JSONL ≤ 1.5x CSV and Parquet ≤ 3x at
    the size nearest 500k; every peak RSS ≤ 128 MiB and within 10% across the sizes."""
    check = {True: "met", False: "NOT met"}
    out: list[str] = []
    if not by_size:
        return out
    mid = min(by_size, key=lambda size: abs(size - 500_000))
    samples = by_size[mid]
    if "csv" in samples:
        base = _median(samples["csv"], "wall")
        for fmt, goal in (("jsonl", 1.5), ("parquet", 3.0)):
            if fmt in samples:
                ratio = _median(samples[fmt], "wall") / base
                out.append(
                    f"- {CASES[fmt][0]} ≤ {goal}x CSV at {samples[fmt][0].rows:,} rows: "
                    f"{ratio:.2f}x — {check[ratio <= goal]}"
                )
    low, high = min(by_size), max(by_size)
    for fmt in by_size[low]:
        peaks = [_median(by_size[size][fmt], "peak_rss") / MIB for size in sorted(by_size)]
        line = f"- {CASES[fmt][0]} peak RSS ≤ 128 MiB: max {max(peaks):.0f} MiB — "
        line += check[max(peaks) <= 128]
        if high != low:
            spread = (peaks[-1] - peaks[0]) / peaks[0]
            line += (
                f"; {by_size[low][fmt][0].rows:,} → {by_size[high][fmt][0].rows:,} rows: "
                f"{peaks[0]:.0f} → {peaks[-1]:.0f} MiB ({spread:+.0%}) — "
                f"{check[abs(spread) <= 0.10]} (within 10%)"
            )
        out.append(line)
    return out


def print_table(samples: dict[str, list[Sample]], args: argparse.Namespace) -> None:
    def median(fmt: str, attribute: str) -> float:
        return statistics.median(getattr(s, attribute) for s in samples[fmt])

    base = median("csv", "wall") if "csv" in samples else None
    base_bytes = median("csv", "bytes") if "csv" in samples else None
    rows = samples[next(iter(samples))][0].rows
    print(f"\n{rows:,} rows, median of {args.runs} runs\n")
    print(
        "| format | wall s | CPU s | peak RSS MiB | of it anon MiB | bytes | x CSV wall"
        " | x CSV bytes |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for fmt in samples:
        wall, cpu = median(fmt, "wall"), median(fmt, "cpu")
        rss, size = median(fmt, "peak_rss") / MIB, median(fmt, "bytes")
        anon = median(fmt, "peak_anon") / MIB
        ratio = f"{wall / base:.2f}" if base else "-"
        size_ratio = f"{size / base_bytes:.2f}" if base_bytes else "-"
        print(
            f"| {CASES[fmt][0]} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {anon:.0f} | {size:,.0f} |"
            f" {ratio} | {size_ratio} |"
        )


if __name__ == "__main__":
    sys.exit(main())
