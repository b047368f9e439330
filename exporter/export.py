"""One export, start to finish: validate, snapshot, COUNT, stream to S3, describe the result.

Everything that can be checked without the database (catalog entry, filters, settings) is
checked first; the XLSX row limit is checked by COUNT before any upload starts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from exporter.errors import ExportError, SheetTooLarge
from exporter.logs import get_logger
from exporter.progress import ProgressReporter, Throttled
from exporter.result import ExportResult
from exporter.settings import Settings
from exporter.source import Snapshot
from exporter.upload import (
    EarlyClient,
    ObjectTarget,
    ObjectWriter,
    S3Client,
    UploadOutcome,
    make_s3_client,
)
from exporter.writers import CsvBlockWriter
from exporter.writers.csv_blocks import DEFAULT_BLOCK_SIZE
from streamexport_core import filters as request_filters
from streamexport_core import options
from streamexport_core.catalog import Resource, load_catalog
from streamexport_core.errors import InvalidRequest

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "csv.gz": "application/gzip",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jsonl": "application/jsonl; charset=utf-8",
    "jsonl.gz": "application/gzip",
    "parquet": "application/vnd.apache.parquet",
}

log = get_logger("exporter")


class Plan:
    """What will be exported and where: everything derived from the settings, no I/O."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.catalog = load_catalog(settings.catalog)
        # Only the recorded scope from the settings (the Export's spec) decides whose rows
        # these are; a scoped entry without one is refused (exit 2), never read whole.
        self.resource: Resource = self.catalog.get(settings.resource_type).with_recorded_scope(
            settings.scope
        )
        self.filters: dict[str, Any] = request_filters.parse_filters(
            self.resource, settings.filters
        )
        if violations := request_filters.scope_violations(self.resource, self.filters):
            raise InvalidRequest(violations)
        # The requested columns (checked against the catalog) and the zone for timestamps.
        if settings.columns is not None:
            names = options.parse_columns(self.resource, list(settings.columns))
            self.resource = options.with_columns(self.resource, names)
        self.time_zone = options.parse_time_zone(settings.time_zone)
        self.gzip = settings.gzip and settings.format in options.COMPRESSIBLE_FORMATS
        self.bom = settings.bom and settings.format == "csv"
        self.file_name = request_filters.file_name(
            self.resource, self.filters, settings.format, gzip=self.gzip
        )
        # The exporter names the object (the operator passes only a prefix) and reports the
        # key in its result.
        self.object_key = settings.key_for(self.file_name)
        self.content_type = CONTENT_TYPES[settings.format + (".gz" if self.gzip else "")]

    def target(self, rows: int) -> ObjectTarget:
        return ObjectTarget(
            bucket=self.settings.bucket,
            key=self.object_key,
            content_type=self.content_type,
            content_disposition=f'attachment; filename="{self.file_name}"',
            metadata={
                "export-id": self.settings.export_id,
                "row-count": str(rows),
                "resource-type": self.resource.resource_type,
            },
        )


def run(
    settings: Settings,
    reporter: ProgressReporter,
    client_factory: Callable[[], S3Client] | None = None,
) -> ExportResult:
    started = time.monotonic()
    plan = Plan(settings)
    if settings.format != "csv" and (settings.bom or (settings.gzip and not plan.gzip)):
        log.warning("option_ignored", reason="bom applies to CSV only, gzip to CSV and JSONL")
    # The S3 client is built on its own thread from here on, while the database connects,
    # counts and starts the COPY (psycopg is imported by now: both imports at once would
    # only take turns holding the GIL and start the COPY later).
    factory = EarlyClient(
        client_factory or (lambda: make_s3_client(settings.s3_endpoint_url, settings.s3_region))
    )
    if plan.catalog.open_resources:
        log.warning("catalog_open_resources", resources=",".join(plan.catalog.open_resources))
    scope = plan.resource.granted
    log.info(
        "export_started",
        resource=plan.resource.resource_type,
        scope="open" if scope is None else scope.describe(),
        format=settings.format,
        filters=",".join(f"{k}={v}" for k, v in plan.filters.items()) or "none",
        bucket=settings.bucket,
        key=plan.object_key,
        gzip=plan.gzip,
        bom=plan.bom,
        columns=",".join(c.name for c in plan.resource.columns),
        time_zone=plan.time_zone,
        part_size=settings.part_size,
    )
    snapshot = Snapshot(
        settings.database_url,
        application_name=f"streamexport:{settings.export_id}",
        statement_timeout=settings.statement_timeout,
        connect_timeout=settings.connect_timeout,
        time_zone=plan.time_zone,
    )
    export = {"csv": _export_csv, "jsonl": _export_jsonl, "parquet": _export_parquet}.get(
        settings.format, _export_xlsx
    )
    rows, outcome = export(plan, snapshot, reporter, factory)
    result = ExportResult(
        export_id=settings.export_id,
        rows=rows,
        bytes=outcome.bytes,
        bucket=settings.bucket,
        object_key=plan.object_key,
        file_name=plan.file_name,
        format=settings.format,
        content_type=plan.content_type,
        checksum=outcome.sha256,
        duration_seconds=time.monotonic() - started,
    )
    log.info(
        "export_completed",
        rows=rows,
        bytes=outcome.bytes,
        parts=outcome.parts,
        seconds=f"{result.duration_seconds:.2f}",
    )
    return result


def _export_csv(
    plan: Plan,
    snapshot: Snapshot,
    reporter: ProgressReporter,
    factory: Callable[[], S3Client],
) -> tuple[int, UploadOutcome]:
    writer = CsvBlockWriter(bom=plan.bom, gzip=plan.gzip)
    return _export_copy(plan, snapshot, reporter, factory, writer, snapshot.csv_blocks)


def _export_jsonl(
    plan: Plan,
    snapshot: Snapshot,
    reporter: ProgressReporter,
    factory: Callable[[], S3Client],
) -> tuple[int, UploadOutcome]:
    """Like CSV: PostgreSQL renders every line, blocks are (optionally) gzipped and uploaded."""
    writer = CsvBlockWriter(gzip=plan.gzip, header=False)
    return _export_copy(plan, snapshot, reporter, factory, writer, snapshot.jsonl_blocks)


def _export_parquet(
    plan: Plan,
    snapshot: Snapshot,
    reporter: ProgressReporter,
    factory: Callable[[], S3Client],
) -> tuple[int, UploadOutcome]:
    """Typed rows in bounded batches, one row group each, written straight into the upload."""
    from exporter.writers import parquet

    with snapshot:
        total, progress = _count(plan, snapshot, reporter)
        scales, batches = snapshot.row_batches(plan.resource, plan.filters, parquet.ROW_GROUP_ROWS)
        schema = parquet.arrow_schema(plan.resource.columns, scales, plan.time_zone)
        with _upload(plan, factory, total) as upload:
            rows = parquet.write_parquet(upload.write, schema, batches, on_rows=progress.update)
            if rows != total:  # impossible in one snapshot
                raise ExportError(f"the cursor gave {rows} rows but COUNT said {total}")
            outcome = upload.finish()
    progress.finish(rows)
    return rows, outcome


def _export_copy(
    plan: Plan,
    snapshot: Snapshot,
    reporter: ProgressReporter,
    factory: Callable[[], S3Client],
    writer: CsvBlockWriter,
    copy: Callable[[Resource, dict[str, Any], int], Iterator[bytes]],
) -> tuple[int, UploadOutcome]:
    """A file that PostgreSQL's COPY writes line by line: COUNT, stream, check the count.

    The snapshot joins COPY's lines into blocks as they arrive (the writer only adds the BOM
    and gzip), so progress counts the snapshot's lines, less the CSV header's.
    """
    header = 1 if writer.header else 0
    with snapshot:
        total, progress = _count(plan, snapshot, reporter)
        with _upload(plan, factory, total) as upload:
            for block in writer.blocks(copy(plan.resource, plan.filters, DEFAULT_BLOCK_SIZE)):
                upload.write(block)
                progress.update(max(0, snapshot.lines_read - header))
            rows = snapshot.copied_rows
            if rows != total:  # impossible in one snapshot, unless the catalog's SQL changed
                raise ExportError(f"COPY wrote {rows} rows but COUNT said {total}")
            outcome = upload.finish()
    progress.finish(rows)
    return rows, outcome


def _export_xlsx(
    plan: Plan,
    snapshot: Snapshot,
    reporter: ProgressReporter,
    factory: Callable[[], S3Client],
) -> tuple[int, UploadOutcome]:
    """PostgreSQL renders the sheet's rows; they are zipped as they arrive into the upload."""
    # Imported here: the zip writer (stream-zip, which imports pycryptodome for AES) costs
    # ~0.1 s of start-up that the other formats do not need.
    from exporter.writers import xlsx_package
    from exporter.writers.xlsx_stream import XLSX_MAX_ROWS, write_xlsx

    columns = plan.resource.columns
    styles = xlsx_package.styles(columns)
    with snapshot:
        total, progress = _count(plan, snapshot, reporter)
        if total > XLSX_MAX_ROWS:
            raise SheetTooLarge(
                f"{total:,} rows do not fit in one XLSX sheet (at most {XLSX_MAX_ROWS:,});"
                " narrow the filters or export CSV"
            )
        with _upload(plan, factory, total) as upload:
            rows = write_xlsx(
                upload.write,
                columns,
                total,
                snapshot.copy_sheet_rows(plan.resource, plan.filters, styles.cells),
                style_xml=styles.xml,
                on_rows=progress.update,
            )
            if snapshot.copied_rows != total:  # impossible in one snapshot
                raise ExportError(f"COPY wrote {snapshot.copied_rows} rows but COUNT said {total}")
            outcome = upload.finish()
    progress.finish(rows)
    return rows, outcome


def _count(
    plan: Plan, snapshot: Snapshot, reporter: ProgressReporter
) -> tuple[int, Throttled]:
    """COUNT in the export's own snapshot (exactly what the file will hold), and the progress
    reporter that counts against it: the first step of every format."""
    total = snapshot.count(plan.resource, plan.filters)
    log.info("rows_counted", total=total)
    return total, Throttled(reporter, total, plan.settings.progress_interval)


def _upload(plan: Plan, factory: Callable[[], S3Client], total: int) -> ObjectWriter:
    """The multipart upload of the export's object (aborted if its `with` block fails)."""
    settings = plan.settings
    return ObjectWriter(
        factory,
        plan.target(total),
        part_size=settings.part_size,
        abort_timeout=settings.abort_timeout,
    )
