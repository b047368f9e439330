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


def _mint(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.devtoken", "--sub", "u7", "--email", "u7@e.com", *args],
        env={**os.environ, "JWT_SECRET": SECRET},
        capture_output=True,
        text=True,
        check=False,
    )


def test_scope_claims_are_carried() -> None:
    settings = Settings(database_url="postgresql://unused", s3_bucket="unused", jwt_secret=SECRET)
    authenticator = Authenticator(settings)
    one = _mint("--merchant-id", "3")
    assert authenticator.authenticate(f"Bearer {one.stdout.strip()}").claims["merchantId"] == 3
    two = _mint("--merchant-id", "1", "--merchant-id", "2", "--claim", "tenant=acme")
    claims = authenticator.authenticate(f"Bearer {two.stdout.strip()}").claims
    assert (claims["merchantId"], claims["tenant"]) == ([1, 2], "acme")
    listed = _mint("--claim", "merchantId=[4,5]")
    assert authenticator.authenticate(f"Bearer {listed.stdout.strip()}").claims["merchantId"] == [
        4,
        5,
    ]


def test_claims_cannot_override_identity() -> None:
    result = _mint("--claim", "sub=root")
    assert result.returncode == 2 and "cannot set 'sub'" in result.stderr
