"""Pure writers: rows (or COPY's CSV chunks) in, bytes or a file out. No database, no S3."""

from exporter.writers.csv_blocks import BOM, CsvBlockWriter
from exporter.writers.xlsx import XLSX_MAX_ROWS, write_xlsx

__all__ = ["BOM", "XLSX_MAX_ROWS", "CsvBlockWriter", "write_xlsx"]
