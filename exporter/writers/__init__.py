"""Pure writers: COPY's chunks in, bytes out (CSV blocks, a streamed XLSX, Parquet). No
database, no S3. Only the CSV block writer is imported here: the XLSX (`xlsx_stream`) and
Parquet (`parquet`) writers are imported by the formats that use them, since their libraries
(stream-zip with pycryptodome, pyarrow) cost start-up time every other format would pay.
"""

from exporter.writers.csv_blocks import BOM, CsvBlockWriter

__all__ = ["BOM", "CsvBlockWriter"]
