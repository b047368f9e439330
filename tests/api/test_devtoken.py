"""`python -m api.devtoken` mints a token the API accepts."""

from __future__ import annotations

import os
import subprocess
import sys

from api.auth import Authenticator
from api.settings import Settings

SECRET = "a-development-secret-of-32-bytes!"  # noqa: S105 - tests only


def test_minted_token_authenticates() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.devtoken",
            "--sub",
            "u7",
            "--email",
            "u7@example.com",
            "--role",
            "SUPER_ADMIN",
            "--ttl",
            "60",
        ],
        env={**os.environ, "JWT_SECRET": SECRET},
        capture_output=True,
        text=True,
        check=True,
    )
    settings = Settings(database_url="postgresql://unused", s3_bucket="unused", jwt_secret=SECRET)
    user = Authenticator(settings).authenticate(f"Bearer {result.stdout.strip()}")
    assert (user.id, user.email, user.is_super_admin) == ("u7", "u7@example.com", True)


def test_help_documents_the_secret() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "api.devtoken", "--help"], capture_output=True, text=True, check=True
    )
    assert "JWT_SECRET" in result.stdout
