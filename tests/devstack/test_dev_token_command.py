"""The README's token line works as written: `make token` signs with the local stack's secret."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from api.auth import Authenticator
from api.settings import Settings
from devstack.stack import JWT_SECRET

REPO = Path(__file__).resolve().parents[2]


def _stack_authenticator() -> Authenticator:
    """What `make up`'s API checks tokens with (devstack.stack gives it JWT_SECRET)."""
    settings = Settings(database_url="postgresql://x", s3_bucket="x", jwt_secret=JWT_SECRET)
    return Authenticator(settings)


def test_the_readme_token_line_mints_a_token_the_local_api_accepts() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    [line] = re.findall(r"^TOKEN=\$\(.*\)$", readme, flags=re.MULTILINE)
    result = subprocess.run(
        ["bash", "-c", f'{line}\nprintf %s "$TOKEN"'],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    user = _stack_authenticator().authenticate(f"Bearer {result.stdout}")
    assert (user.id, user.email, user.is_super_admin) == ("alice", "alice@example.com", False)
    assert user.claims["merchantId"] == 1  # TRANSACTIONS is scoped by it: without it, a 403


def test_make_token_takes_a_role() -> None:
    result = subprocess.run(
        ["make", "-s", "token", "SUB=root", "ROLE=SUPER_ADMIN"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    user = _stack_authenticator().authenticate(f"Bearer {result.stdout.strip()}")
    assert (user.id, user.email, user.is_super_admin) == ("root", "root@example.com", True)
