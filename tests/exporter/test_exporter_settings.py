"""Flags and environment variables become one Settings value (no I/O)."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.cli import OPTIONS, build_parser, parse_settings
from exporter.settings import SettingsError, parse_size

REQUIRED = {
    "DATABASE_URL": "postgresql://u@db/app",
    "EXPORT_RESOURCE_TYPE": "TRANSACTIONS",
    "S3_BUCKET": "exports",
}


def test_every_setting_can_come_from_the_environment() -> None:
    env = {
        **REQUIRED,
        "EXPORT_FORMAT": "XLSX",
        "EXPORT_FILTERS": '{"status": "SETTLED"}',
        "EXPORT_OBJECT_KEY": "exports/x/y.xlsx",
        "EXPORT_NAME": "0b7c",
        "EXPORT_NAMESPACE": "team-a",
        "S3_ENDPOINT_URL": "http://127.0.0.1:9000",
        "AWS_REGION": "eu-west-1",
        "EXPORT_PART_SIZE": "16MiB",
        "EXPORT_GZIP": "yes",
        "EXPORT_CSV_BOM": "1",
        "TERMINATION_MESSAGE_PATH": "/run/term",
        "EXPORT_STATEMENT_TIMEOUT": "60",
        "EXPORT_CONNECT_TIMEOUT": "3",
        "EXPORT_ABORT_TIMEOUT": "5",
        "STREAMEXPORT_CATALOG": "/etc/catalog.yaml",
        "EXPORT_PROGRESS_INTERVAL": "2.5",
        "EXPORT_LOG_LEVEL": "DEBUG",
    }

    settings = parse_settings([], env)

    assert settings.format == "xlsx"
    assert settings.filters == {"status": "SETTLED"}
    assert settings.object_key == "exports/x/y.xlsx"
    assert (settings.export_id, settings.export_namespace) == ("0b7c", "team-a")
    assert (settings.s3_endpoint_url, settings.s3_region) == ("http://127.0.0.1:9000", "eu-west-1")
    assert settings.part_size == 16 * 1024 * 1024
    assert settings.gzip and settings.bom
    assert settings.termination_message_path == Path("/run/term")
    assert (settings.statement_timeout, settings.connect_timeout) == (60, 3)
    assert (settings.abort_timeout, settings.progress_interval) == (5, 2.5)
    assert settings.catalog == Path("/etc/catalog.yaml")
    assert settings.log_level == "debug"


def test_a_flag_wins_over_its_environment_variable() -> None:
    env = {**REQUIRED, "EXPORT_FORMAT": "xlsx", "EXPORT_GZIP": "true"}

    settings = parse_settings(["--format", "csv", "--no-gzip", "--bucket", "other"], env)

    assert (settings.format, settings.gzip, settings.bucket) == ("csv", False, "other")


def test_defaults() -> None:
    settings = parse_settings([], REQUIRED)

    assert settings.format == "csv" and settings.filters == {}
    assert settings.part_size == 5 * 1024 * 1024
    assert not settings.gzip and not settings.bom
    assert settings.s3_region == "us-east-1" and settings.s3_endpoint_url is None
    assert len(settings.export_id) == 36  # a fresh UUID
    assert settings.object_key is None


def test_the_database_url_is_never_in_the_repr() -> None:
    settings = parse_settings([], {**REQUIRED, "DATABASE_URL": "postgresql://u:s3cret@db/app"})

    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"EXPORT_GZIP": "maybe"}, "is not a boolean"),
        ({"EXPORT_PART_SIZE": "lots"}, "is not a size"),
        ({"EXPORT_PART_SIZE": "6GiB"}, "between 5MiB and 5GiB"),
        ({"EXPORT_FILTERS": "[1, 2]"}, "must be a JSON object"),
        ({"EXPORT_STATEMENT_TIMEOUT": "soon"}, "must be a number"),
        ({"EXPORT_LOG_LEVEL": "loud"}, "--log-level must be"),
        ({"DATABASE_URL": ""}, "--database-url (or DATABASE_URL) is required"),
    ],
)
def test_bad_values_are_settings_errors(env: dict[str, str], message: str) -> None:
    environ = {**REQUIRED, **env}
    if env.get("DATABASE_URL") == "":
        del environ["DATABASE_URL"]

    with pytest.raises(SettingsError) as raised:
        parse_settings([], environ)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("5242880", 5242880),
        ("8MiB", 8 << 20),
        ("8Mi", 8 << 20),
        ("10MB", 10**7),
        ("1.5GiB", 3 << 29),
    ],
)
def test_part_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_help_names_every_flag_and_environment_variable() -> None:
    text = " ".join(build_parser().format_help().split())

    for option in OPTIONS:
        assert option.flag in text
        assert f"[env: {option.env}]" in text


def test_the_exporter_appends_its_file_name_to_the_key_prefix() -> None:
    settings = parse_settings([], {**REQUIRED, "EXPORT_OBJECT_KEY_PREFIX": "exports/ns/e-1/"})
    assert settings.key_for("transactions.csv") == "exports/ns/e-1/transactions.csv"
    # A prefix is a folder, with or without its closing slash.
    bare = parse_settings(["--object-key-prefix", "exports/ns/e-1"], REQUIRED)
    assert bare.key_for("t.csv") == "exports/ns/e-1/t.csv"


def test_without_a_key_or_prefix_the_object_goes_under_the_export_id() -> None:
    settings = parse_settings(["--export-id", "e-2"], REQUIRED)
    assert settings.key_for("t.csv") == "exports/e-2/t.csv"
    whole = parse_settings(["--object-key", "a/b.csv"], REQUIRED)
    assert whole.key_for("t.csv") == "a/b.csv"


def test_a_whole_key_and_a_prefix_together_are_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="not both"):
        parse_settings(["--object-key", "a/b.csv", "--object-key-prefix", "a/"], REQUIRED)
