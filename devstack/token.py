"""`python -m devstack.token --sub U --email E [--role R]` (`make token`): a token for the
local stack (`make up` / `make demo`), signed with its development secret (development only).

The same as `JWT_SECRET=<the stack's secret> python -m api.devtoken ...`; `make up` prints
that secret too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from api import devtoken
from devstack.stack import JWT_SECRET


def main(argv: Sequence[str] | None = None) -> int:
    os.environ["JWT_SECRET"] = JWT_SECRET
    # The stack's API uses the default issuer and audience: never those of the caller's shell.
    os.environ.pop("JWT_ISSUER", None)
    os.environ.pop("JWT_AUDIENCE", None)
    return devtoken.main(argv)


if __name__ == "__main__":
    sys.exit(main())
