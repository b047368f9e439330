"""`python -m exporter`: see `exporter.cli`."""

import os
import sys

from exporter.cli import main, tune_malloc

tune_malloc()
code = main()
# The export is over: the object is complete (or its upload aborted), the result line and
# the termination message are written and closed, the database session is closed. Exit
# without the interpreter's teardown of ~1,000 modules and their objects, which took
# 0.15-0.25 s per run (`bench/bench_exporter.py`): time that a Job's completion waits for.
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
