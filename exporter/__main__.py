"""`python -m exporter`: see `exporter.cli`."""

import sys

from exporter.cli import main, tune_malloc

tune_malloc()
sys.exit(main())
