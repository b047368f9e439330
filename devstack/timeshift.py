"""`python -m devstack.timeshift SECONDS api|operator`: run the API or the operator with its clock
SECONDS ahead (development and tests only).

Both programs take "now" as a parameter (`streamexport_core.clock`) for expiry and retention;
this runs one of them as it would behave SECONDS from now, so that a test sees an export
expire or be deleted by retention without waiting days (or the seconds a short setting needs).
Everything else is the real program, configured by the same environment variables.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from streamexport_core.clock import shifted

PROGRAMS = ("api", "operator")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.timeshift", description=__doc__)
    parser.add_argument("seconds", type=float, help="how far ahead the program's clock runs")
    parser.add_argument("program", choices=PROGRAMS)
    args = parser.parse_args(argv)
    clock = shifted(args.seconds)
    if args.program == "api":
        from api.__main__ import main as api_main

        return api_main([], clock=clock)
    from streamexport_operator.__main__ import main as operator_main

    return operator_main([], clock=clock)


if __name__ == "__main__":
    sys.exit(main())
