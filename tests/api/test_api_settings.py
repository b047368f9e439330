"""Settings come only from the environment; a missing or bad variable is named."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from api.settings import Settings, SettingsError

BASE = {
    "DATABASE_URL": "postgresql://db/app",
    "S3_BUCKET": "exports",
    "JWT_SECRET": "a-development-secret-of-32-bytes!",
}


def test_defaults() -> None:
    settings = Settings.from_env(BASE)
    assert (settings.port, settings.max_export_rows, settings.jwt_audience) == (
        8080,
        500_000,
        "streamexport-api",
    )
    assert settings.download_url_ttl_seconds == 3600
    assert settings.idempotency_window_seconds == 86_400


@pytest.mark.parametrize("name", ["DATABASE_URL", "S3_BUCKET", "JWT_SECRET"])
def test_missing_required_variable_is_named(name: str) -> None:
    env = {k: v for k, v in BASE.items() if k != name}
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(env)


def test_non_integer_is_named() -> None:
    with pytest.raises(SettingsError, match="API_PORT must be an integer, got 'http'"):
        Settings.from_env({**BASE, "API_PORT": "http"})


def test_row_limit_cannot_exceed_the_crd_maximum() -> None:
    with pytest.raises(SettingsError, match="MAX_EXPORT_ROWS must be between 1 and 500000"):
        Settings.from_env({**BASE, "MAX_EXPORT_ROWS": "600000"})


def test_short_hs256_secret_is_refused() -> None:
    with pytest.raises(SettingsError, match="JWT_SECRET must be at least 32 bytes"):
        Settings.from_env({**BASE, "JWT_SECRET": "short"})


def test_rs256_needs_a_public_key() -> None:
    env = {**BASE, "JWT_ALGORITHM": "RS256"}
    with pytest.raises(SettingsError, match="JWT_PUBLIC_KEY or JWT_PUBLIC_KEY_FILE"):
        Settings.from_env(env)


def test_entry_point_names_the_missing_variable() -> None:
    env = {"PATH": os.environ.get("PATH", ""), "S3_BUCKET": "exports"}
    result = subprocess.run(
        [sys.executable, "-m", "api"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "error: DATABASE_URL is required but not set"
