"""`operator/` holds our operator package but must never shadow the standard library's module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_import_operator_from_the_repo_root_is_the_standard_library() -> None:
    code = (
        "import operator, streamexport_operator;"
        " print(operator.__file__); print(operator.add(2, 3))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    location, total = result.stdout.split()
    assert not Path(location).resolve().is_relative_to(REPO)
    assert total == "5"


def test_no_package_marker_in_the_operator_folder() -> None:
    assert not (REPO / "operator" / "__init__.py").exists()
