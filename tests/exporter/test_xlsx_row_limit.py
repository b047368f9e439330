"""A sheet holds 1,048,575 data rows: that many export, one more fails before any upload.

The rows come from a view over generate_series, so no million-row table is loaded.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from psycopg import sql
from xlsx_readers import read_calamine

from exporter.writers.xlsx_stream import XLSX_MAX_ROWS

CATALOG = {
    "resources": {
        "SERIES": {
            "table": "public.series",
            "orderBy": ["n"],
            "columns": [{"name": "n", "label": "N", "type": "integer"}],
        }
    }
}


@pytest.fixture
def series_catalog(db: psycopg.Connection[Any], tmp_path: Path) -> str:
    """A view of 1,048,576 numbered rows (one more than a sheet holds) and its catalog."""
    # DDL takes no parameters: the numbers are composed in as literals.
    db.execute(
        sql.SQL("CREATE VIEW series AS SELECT n FROM generate_series(1, {}) AS n").format(
            sql.Literal(XLSX_MAX_ROWS + 1)
        )
    )
    db.execute(
        sql.SQL("CREATE VIEW series_max AS SELECT n FROM series WHERE n <= {}").format(
            sql.Literal(XLSX_MAX_ROWS)
        )
    )
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(CATALOG))
    return str(path)


def with_table(catalog: str, table: str) -> str:
    document = yaml.safe_load(Path(catalog).read_text())
    document["resources"]["SERIES"]["table"] = table
    Path(catalog).write_text(yaml.safe_dump(document))
    return catalog


@pytest.mark.timeout(240)
def test_one_row_more_than_a_sheet_holds_fails_before_any_upload(
    run_exporter: Callable[..., Any],
    series_catalog: str,
    bucket: str,
    objects: Callable[[str], list[str]],
    uploads: Callable[[str], list[dict[str, Any]]],
) -> None:
    run = run_exporter(
        "--resource-type",
        "SERIES",
        "--format",
        "xlsx",
        env={"STREAMEXPORT_CATALOG": series_catalog, "EXPORT_SCOPE": None},  # SERIES is open
    )

    assert run.returncode == 2, run.stderr
    last = run.stderr_lines[-1]
    assert "reason=TooManyRows" in last
    assert "1,048,576 rows do not fit in one XLSX sheet (at most 1,048,575)" in last
    assert objects(bucket) == [] and uploads(bucket) == []


@pytest.mark.timeout(240)
def test_a_full_sheet_exports_with_its_last_row_numbered_1048576(
    run_exporter: Callable[..., Any],
    series_catalog: str,
    s3_client: Any,
    bucket: str,
) -> None:
    catalog = with_table(series_catalog, "public.series_max")

    run = run_exporter(
        "--resource-type",
        "SERIES",
        "--format",
        "xlsx",
        "--object-key",
        "full.xlsx",
        env={"STREAMEXPORT_CATALOG": catalog, "EXPORT_SCOPE": None},  # SERIES is open
        timeout=200,
    )

    assert run.returncode == 0, run.stderr
    assert run.result["rows"] == XLSX_MAX_ROWS
    body = s3_client.get_object(Bucket=bucket, Key="full.xlsx")["Body"].read()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    assert b'<dimension ref="A1:A1048576"/>' in sheet
    assert sheet.endswith(
        b"<row><c><v>1048575</v></c></row>\n"
        b'</sheetData><autoFilter ref="A1:A1048576"/></worksheet>'
    )
    assert sheet.count(b"<row") == XLSX_MAX_ROWS + 1  # and the header
    # Rows carry no numbers: a reader must count them to put the last on row 1,048,576.
    rows = read_calamine(body)
    assert len(rows) == XLSX_MAX_ROWS + 1 and rows[-1] == [1048575.0]
