"""What every export pays before its first row: the exporter imports only what its format uses.

The XLSX zip writer (stream-zip, which imports pycryptodome), pyarrow, lightkube and boto3 cost
~0.1-0.3 s of CPU each at start-up (`python -X importtime -m exporter ...`); a CSV export,
the common case, must not pay for them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("stream_zip", "Crypto", "isal", "pyarrow", "lightkube", "httpx", "boto3", "s3transfer")

CODE = """
import sys
import exporter.cli, exporter.export, exporter.source, exporter.upload
print(sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[1:])))
"""


def test_the_csv_path_imports_none_of_the_other_formats_libraries() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CODE, *HEAVY],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == "[]"


def test_the_xlsx_writer_still_imports_its_zip_library() -> None:
    code = "import sys, exporter.writers.xlsx_stream; print('stream_zip' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True,
        timeout=60,
    )
    assert result.stdout.strip() == "True"
