"""Benchmark the exporter (CSV and XLSX) against `psql \\copy` + upload and the XLSX libraries.

    python bench/bench_exporter.py [--sizes 100000,500000,1000000] [--runs 3]
        [--library-rows 500000] [--library-runs 2] [--approaches acefg] [--quick]

One run, one dataset, one moto S3 server in its own process (restarted between sizes and
whenever its RSS grows past a threshold, since it keeps objects in memory). For each size
the approaches run interleaved, `--runs` times, and the tables show medians:

  (a) `psql \\copy (same SELECT) to a file`, then a plain boto3 `upload_file` (baseline)
  (b) the seed's way: keyset pagination in 1,000-row pages + csv.writer, streamed to S3
  (c) the exporter, CSV        (d) the exporter, CSV gzip        (e) the exporter, XLSX
  (f) openpyxl write-only + lxml → file, then upload
  (g) xlsxwriter constant_memory → file, then upload

(f) and (g) format every cell in Python (~10k rows/s): they run `--library-runs` times at
the sizes up to `--library-rows` only, and the tables say how many runs each line has.
Wall time includes process start-up and imports (what a Job pays: its image byte-compiles
every module, so this script byte-compiles the project's sources first, as `compileall`
in Dockerfile.exporter does, rather than let PYTHONDONTWRITEBYTECODE make each run
compile them again). CPU is the process's
own user+system time (its children's too; not moto's); PostgreSQL CPU is what the server's
processes used during the run (the exporter's XLSX moves cell formatting there). Peak RSS is the
kernel's high-water mark of each process (`VmHWM`); for (a) the larger of its two steps.
On a shared, noisy machine compare the ratios, which are within one run.
"""

from __future__ import annotations

import argparse
import compileall
import dataclasses
import datetime as dt
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devstack import demo_data, services  # noqa: E402
from streamexport_core import filters as request_filters  # noqa: E402
from streamexport_core import sql  # noqa: E402
from streamexport_core.catalog import load_catalog  # noqa: E402
from streamexport_core.scope import Scope  # noqa: E402

# TRANSACTIONS is scoped by merchant: the benchmark reads every row (an admin's unrestricted
# scope), so that its SQL, and so its numbers, stay those of the unscoped table.
EVERY_ROW = Scope("merchant_id", "merchantId", unrestricted=True)

BUCKET = "bench"
MOTO_RSS_LIMIT = 400 * 1024 * 1024
LABELS = {
    "a": "(a) two-step: psql \\copy > file, then boto3 upload_file",
    "b": "(b) keyset 1,000-row pages + csv.writer → S3 (seed)",
    "c": "(c) exporter CSV → S3",
    "d": "(d) exporter CSV gzip → S3",
    "e": "(e) exporter XLSX → S3",
    "f": "(f) openpyxl write-only + lxml → file, then upload",
    "g": "(g) xlsxwriter constant_memory → file, then upload",
}
LIBRARIES = {"f": "openpyxl", "g": "xlsxwriter"}


@dataclass(frozen=True)
class Sample:
    wall: float
    peak_rss: int  # bytes
    cpu: float  # user + system seconds of the process and its children
    server_cpu: float = 0.0  # PostgreSQL's CPU seconds during the run (all its processes)


@dataclass
class Series:
    approach: str
    rows: int
    samples: list[Sample] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def peak_rss(self) -> int:
        return int(statistics.median(s.peak_rss for s in self.samples))

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def server_cpu(self) -> float:
        return statistics.median(s.server_cpu for s in self.samples)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_measured(argv: Sequence[str], env: dict[str, str]) -> Sample:
    """Run to completion; wall seconds, peak RSS in bytes, and CPU seconds.

    The peak is the kernel's high-water mark of the child's own memory (`VmHWM`, which only
    grows), read every few milliseconds until it exits. Not `wait4`'s ru_maxrss: Linux
    carries the parent's peak into a forked child, so it would report this script's RSS.
    CPU time does come from `wait4` (user + system of the child and what it waited for).
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    stderr = process.stderr
    assert stderr is not None
    errors: list[bytes] = []
    reader = threading.Thread(target=lambda: errors.append(stderr.read()))
    reader.start()
    status = Path(f"/proc/{process.pid}/status")
    peak = 0
    while True:
        peak = max(peak, _vm_hwm(status))
        pid, code, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.005)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(code)
    reader.join()
    stderr.close()
    if process.returncode != 0:
        message = b"".join(errors).decode(errors="replace")
        raise RuntimeError(f"{argv[:4]}... exited {process.returncode}: {message[-2000:]}")
    return Sample(wall, peak, usage.ru_utime + usage.ru_stime)


def _vm_hwm(status: Path) -> int:
    try:
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.workdir = Path(tempfile.mkdtemp(prefix="streamexport-bench-"))
        self.postgres = services.start_postgres()
        self.url = self.postgres.url
        self.moto = services.start_moto_process()
        self.client = services.s3_client(self.moto.endpoint_url)
        self.client.create_bucket(Bucket=BUCKET)
        self.postmaster = self._postmaster()
        self.resource = load_catalog().get("TRANSACTIONS").with_scope(EVERY_ROW)
        self.total_rows = 0
        self.psql = shutil.which("psql") or str(
            Path(sys.executable).parent.parent
            / "lib/python3.11/site-packages/pgserver/pginstall/bin/psql"
        )

    def close(self) -> None:
        self.client.close()
        self.moto.stop()
        self.postgres.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            **services.DUMMY_CREDENTIALS,
            "PYTHONPATH": str(ROOT),
            "AWS_REGION": services.REGION,
            "DATABASE_URL": self.url,
            "S3_ENDPOINT_URL": self.moto.endpoint_url,
            "S3_BUCKET": BUCKET,
            "TERMINATION_MESSAGE_PATH": "",
            "EXPORT_LOG_LEVEL": "warning",
            "EXPORT_SCOPE": json.dumps(EVERY_ROW.to_json()),
        }

    # --- data ---------------------------------------------------------------------------

    def load(self, rows: int) -> None:
        log(f"loading {rows:,} demo rows ...")
        started = time.perf_counter()
        self.total_rows = demo_data.load(self.url, rows, drop=True)
        log(f"loaded in {time.perf_counter() - started:.1f}s")

    def filters_for(self, size: int) -> dict[str, str]:
        """Whole days from 2024-01-01 holding about `size` of the table's rows."""
        days = max(1, round(min(size, self.total_rows) / self.total_rows * 366))
        end = dt.date(2024, 1, 1) + dt.timedelta(days=days - 1)
        return {"startDate": "2024-01-01", "endDate": end.isoformat()}

    def count(self, filters: dict[str, str]) -> int:
        parsed = request_filters.parse_filters(self.resource, filters)
        statement, params = sql.count_query(self.resource, parsed)
        with psycopg.connect(self.url) as conn:
            row = conn.execute(statement, params).fetchone()
        return int(row[0]) if row else 0

    def copy_sql(self, filters: dict[str, str]) -> str:
        """The exporter's SELECT with its parameters bound, for psql's \\copy (one line)."""
        parsed = request_filters.parse_filters(self.resource, filters)
        statement, params = sql.select_query(self.resource, parsed)
        with psycopg.connect(self.url) as conn:
            text = psycopg.ClientCursor(conn).mogrify(statement, params)
        return " ".join(text.split())

    # --- approaches ---------------------------------------------------------------------

    def _postmaster(self) -> psutil.Process | None:
        """PostgreSQL's main process (its `postmaster.pid`), when the server is local."""
        try:
            with psycopg.connect(self.url) as conn:
                row = conn.execute("SHOW data_directory").fetchone()
            pid = int((Path(str(row[0] if row else "")) / "postmaster.pid").read_text().split()[0])
            return psutil.Process(pid)
        except (OSError, ValueError, IndexError, psycopg.Error, psutil.Error):
            return None

    def server_cpu(self) -> float:
        """CPU seconds PostgreSQL has used: the postmaster and every backend it has reaped."""
        if self.postmaster is None:
            return 0.0
        times = self.postmaster.cpu_times()
        return times.user + times.system + times.children_user + times.children_system

    def run(self, approach: str, filters: dict[str, str]) -> Sample:
        key = f"{approach}/{uuid.uuid4().hex}"
        runner: Callable[[dict[str, str], str], Sample] = getattr(self, f"_run_{approach}")
        try:
            before = self.server_cpu()
            sample = runner(filters, key)
            time.sleep(0.2)  # the run's backends have exited; let the postmaster reap them
            return dataclasses.replace(sample, server_cpu=self.server_cpu() - before)
        finally:
            self.client.delete_object(Bucket=BUCKET, Key=key)
            self._check_moto()

    def _run_a(self, filters: dict[str, str], key: str) -> Sample:
        path = self.workdir / "baseline.csv"
        copy = f"\\copy ({self.copy_sql(filters)}) to '{path}' with (format csv, header)"
        env = {**self.env, "PGTZ": "UTC"}
        first = run_measured([self.psql, self.url, "-X", "-q", "-c", copy], env)
        upload = [sys.executable, str(ROOT / "bench/baseline_upload.py"), str(path), BUCKET, key]
        second = run_measured([*upload, self.moto.endpoint_url], env)
        path.unlink()
        return Sample(
            first.wall + second.wall, max(first.peak_rss, second.peak_rss), first.cpu + second.cpu
        )

    def _run_b(self, filters: dict[str, str], key: str) -> Sample:
        script = str(ROOT / "bench/seed_keyset_export.py")
        argv = [sys.executable, script, self.url, BUCKET, key, self.moto.endpoint_url]
        return run_measured([*argv, json.dumps(filters)], self.env)

    def _exporter(self, filters: dict[str, str], key: str, *extra: str) -> Sample:
        argv = [sys.executable, "-m", "exporter", "--resource-type", "TRANSACTIONS"]
        argv += ["--filters", json.dumps(filters), "--object-key", key, *extra]
        return run_measured(argv, self.env)

    def _run_c(self, filters: dict[str, str], key: str) -> Sample:
        return self._exporter(filters, key)

    def _run_d(self, filters: dict[str, str], key: str) -> Sample:
        return self._exporter(filters, key, "--gzip")

    def _run_e(self, filters: dict[str, str], key: str) -> Sample:
        return self._exporter(filters, key, "--format", "xlsx")

    def _library(self, library: str, filters: dict[str, str], key: str) -> Sample:
        script = str(ROOT / "bench/xlsx_library_export.py")
        argv = [sys.executable, script, library, self.url, BUCKET, key, self.moto.endpoint_url]
        return run_measured([*argv, json.dumps(filters)], {**self.env, "TMPDIR": str(self.workdir)})

    def _run_f(self, filters: dict[str, str], key: str) -> Sample:
        return self._library("openpyxl", filters, key)

    def _run_g(self, filters: dict[str, str], key: str) -> Sample:
        return self._library("xlsxwriter", filters, key)

    def _check_moto(self) -> None:
        rss = psutil.Process(self.moto.pid).memory_info().rss
        if rss > MOTO_RSS_LIMIT:
            log(f"moto RSS {rss >> 20} MiB: restarting it")
            self.restart_moto()

    def restart_moto(self) -> None:
        self.client.close()
        self.moto.restart()
        self.client = services.s3_client(self.moto.endpoint_url)
        self.client.create_bucket(Bucket=BUCKET)


def measure(bench: Bench, args: argparse.Namespace) -> list[Series]:
    results: list[Series] = []
    for size in args.sizes:
        bench.restart_moto()
        filters = bench.filters_for(size)
        rows = bench.count(filters)
        series = {a: Series(a, rows) for a in args.approaches}
        for run in range(max(args.runs, args.library_runs)):
            for approach in args.approaches:
                if approach in LIBRARIES:
                    if size > args.library_rows or run >= args.library_runs:
                        continue
                elif run >= args.runs:
                    continue
                sample = bench.run(approach, filters)
                series[approach].samples.append(sample)
                log(
                    f"{rows:>9,} rows  run {run + 1}  {LABELS[approach]}: "
                    f"{sample.wall:.2f}s cpu {sample.cpu:.2f}s {sample.peak_rss >> 20} MiB"
                )
        results.extend(s for s in series.values() if s.samples)
    return results


def find(results: list[Series], approach: str, rows: int) -> Series | None:
    return next((s for s in results if s.approach == approach and s.rows == rows), None)


def _ratio(series: Series, base: Series | None) -> str:
    return f"{series.wall / base.wall:.2f}" if base else "—"


def table(results: list[Series]) -> str:
    """Every approach at every size: medians, and wall ratios within the same size."""
    lines = [
        "| approach | rows | runs | wall s | CPU s | PostgreSQL CPU s | peak RSS MiB "
        "| x (a) two-step | x (c) exporter CSV |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for series in sorted(results, key=lambda s: (s.rows, s.approach)):
        lines.append(
            f"| {LABELS[series.approach]} | {series.rows:,} | {len(series.samples)} "
            f"| {series.wall:.2f} | {series.cpu:.2f} | {series.server_cpu:.2f} "
            f"| {series.peak_rss / 2**20:.0f} "
            f"| {_ratio(series, find(results, 'a', series.rows))} "
            f"| {_ratio(series, find(results, 'c', series.rows))} |"
        )
    return "\n".join(lines)


def xlsx_table(results: list[Series]) -> str:
    """The XLSX goals at a glance: the exporter's XLSX against its CSV and the libraries."""
    lines = [
        "| rows | XLSX wall s | XLSX ÷ exporter CSV | openpyxl ÷ XLSX | xlsxwriter ÷ XLSX "
        "| openpyxl ÷ XLSX, CPU incl. PostgreSQL | XLSX peak RSS MiB | CSV ÷ two-step |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for rows in sorted({s.rows for s in results}):
        e, c, a = find(results, "e", rows), find(results, "c", rows), find(results, "a", rows)
        f, g = find(results, "f", rows), find(results, "g", rows)

        def over(top: Series | None, bottom: Series | None) -> str:
            return f"{top.wall / bottom.wall:.2f}" if top and bottom else "—"

        cpu = f"{(f.cpu + f.server_cpu) / (e.cpu + e.server_cpu):.1f}" if f and e else "—"
        lines.append(
            f"| {rows:,} | {e.wall:.2f} | {over(e, c)} | {over(f, e)} | {over(g, e)} "
            f"| {cpu} | {e.peak_rss / 2**20:.0f} | {over(c, a)} |"
            if e
            else f"| {rows:,} | — | — | — | — | — | — | {over(c, a)} |"
        )
    return "\n".join(lines)


def verdicts(results: list[Series], target_rows: int) -> list[str]:
    """The issue's goals, each with the measured value."""
    sizes = sorted({s.rows for s in results})
    out: list[str] = []
    if not sizes:
        return out
    mid = min(sizes, key=lambda r: abs(r - target_rows))
    check: Callable[[bool], str] = lambda ok: "met" if ok else "NOT met"  # noqa: E731
    a, c, e, f = (find(results, x, mid) for x in "acef")
    if c and a:
        ratio = c.wall / a.wall
        out.append(
            f"- (c) CSV ≤ 1.0x (a) two-step at {mid:,} rows: {ratio:.2f}x — {check(ratio <= 1.0)}"
        )
    if e and c:
        ratio = e.wall / c.wall
        out.append(f"- (e) XLSX ≤ 2x (c) CSV at {mid:,} rows: {ratio:.2f}x — {check(ratio <= 2.0)}")
    if e and f:
        ratio = f.wall / e.wall
        out.append(
            f"- (e) XLSX ≥ 10x as fast as (f) openpyxl at {mid:,} rows: {ratio:.1f}x — "
            f"{check(ratio >= 10)}"
        )
    for approach in ("c", "e"):
        runs = sorted((s for s in results if s.approach == approach), key=lambda s: s.rows)
        if not runs:
            continue
        worst = max(s.peak_rss for s in runs) / 2**20
        line = (
            f"- {LABELS[approach]} peak RSS ≤ 128 MiB: max {worst:.0f} MiB — {check(worst <= 128)}"
        )
        if len(runs) >= 2:
            low, high = runs[0].peak_rss, runs[-1].peak_rss
            spread = (high - low) / low
            line += (
                f"; {runs[0].rows:,} → {runs[-1].rows:,} rows: {low / 2**20:.0f} → "
                f"{high / 2**20:.0f} MiB ({spread:+.0%}) — {check(abs(spread) <= 0.10)} "
                "(within 10%)"
            )
        out.append(line)
    return out


def machine() -> str:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = psutil.virtual_memory().total / 2**30
    return (
        f"{platform.node() or 'host'}: {os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, "
        f"Linux {platform.release()}, Python {platform.python_version()}"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="100000,500000,1000000",
        help="comma-separated row counts (default: 100000,500000,1000000)",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per approach (default 3)")
    parser.add_argument(
        "--library-rows",
        type=int,
        default=500_000,
        help="openpyxl/xlsxwriter only at sizes up to this (default 500000)",
    )
    parser.add_argument(
        "--library-runs", type=int, default=2, help="runs of openpyxl/xlsxwriter (default 2)"
    )
    parser.add_argument(
        "--approaches",
        default="acefg",
        help="which of a-g to run (default: acefg; b = seed keyset, d = CSV gzip)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: sizes 20000,100000, one run, libraries at 20000 rows",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.runs, args.library_rows = "20000,100000", 1, 20_000
    args.sizes = sorted({int(size) for size in args.sizes.split(",") if size.strip()})
    args.approaches = [a for a in "abcdefg" if a in args.approaches]
    return args


def compile_sources() -> None:
    """Byte-compile the project's packages, as the exporter's image does (`compileall`)."""
    for package in ("exporter", "core", "devstack", "bench"):
        compileall.compile_dir(str(ROOT / package), quiet=1)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so that the servers started below are stopped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    started = dt.datetime.now(dt.UTC)
    compile_sources()
    bench = Bench(args)
    try:
        bench.load(max(args.sizes))
        with psycopg.connect(bench.url) as conn:
            version = conn.execute("SHOW server_version").fetchone()
        load_before = os.getloadavg()
        results = measure(bench, args)
        load_after = os.getloadavg()
    finally:
        bench.close()
    print(f"### Exporter benchmark — {started:%Y-%m-%d %H:%M} UTC\n")
    print(
        f"Machine: {machine()}; PostgreSQL {version[0] if version else '?'} "
        f"(unix socket); moto S3 in its own process."
    )
    print(
        f"Load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f} "
        f"(other work on the machine makes seconds noisy; compare ratios).\n"
    )
    print(xlsx_table(results))
    print()
    print("\n".join(verdicts(results, 500_000)))
    print()
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
