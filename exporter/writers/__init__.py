"""Pure writers: COPY's chunks in, bytes out (CSV blocks, a streamed XLSX). No database, no S3."""

from exporter.writers.csv_blocks import BOM, CsvBlockWriter
from exporter.writers.xlsx_stream import XLSX_MAX_ROWS, write_xlsx

__all__ = ["BOM", "XLSX_MAX_ROWS", "CsvBlockWriter", "write_xlsx"]
