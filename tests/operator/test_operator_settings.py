"""Settings come from the environment; a bad or missing variable is named in the error."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamexport_operator.settings import Settings, SettingsError

REQUIRED = {"EXPORTER_IMAGE": "registry.example.com/exporter:1.0", "S3_BUCKET": "exports"}


def test_defaults_follow_the_documented_contract() -> None:
    settings = Settings.from_env({**REQUIRED, "OPERATOR_NAMESPACES": "streamexport"})
    assert settings.namespaces == ("streamexport",)
    assert settings.peering is None
    assert (settings.liveness_port, settings.metrics_port) == (8081, 9090)
    assert settings.exporter_command == ("python", "-m", "exporter")
    assert settings.job_memory_limit == "512Mi"
    assert (settings.job_cpu_request, settings.job_cpu_limit) == ("250m", "1")
    assert settings.job_active_deadline_seconds == 3600
    assert settings.job_backoff_limit == 2
    assert settings.job_ttl_seconds_after_finished == 86400
    assert (settings.max_running_exports, settings.max_running_exports_per_owner) == (4, 2)
    assert settings.export_expiry_seconds == 604800
    assert settings.retention_seconds == 30 * 86400
    assert settings.smtp_host is None and not settings.email_enabled
    assert (settings.smtp_port, settings.smtp_security) == (587, "starttls")
    assert settings.peering_priority is None
    assert settings.exporter_catalog_configmap is None
    assert settings.exporter_catalog_key == "catalog.yaml"


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_a_missing_required_variable_is_named(missing: str) -> None:
    env = {k: v for k, v in REQUIRED.items() if k != missing}
    with pytest.raises(SettingsError, match=missing):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_RUNNING_EXPORTS", "four"),
        ("MAX_RUNNING_EXPORTS_PER_OWNER", "0"),
        ("SMTP_SECURITY", "ssl"),
        ("EXPORTER_COMMAND", "python -m exporter"),
        ("JOB_MEMORY_LIMIT", "lots"),
        ("EXPORT_EXPIRY_SECONDS", "604801"),
        ("EXPORT_RETENTION_DAYS", "-1"),
        ("OPERATOR_NAMESPACES", "*,default"),
        ("API_PUBLIC_URL", "exports.example.com"),
        ("EMAIL_TEMPLATES_DIR", "/nonexistent/templates"),
        ("OPERATOR_PEERING_PRIORITY", "high"),
        ("EXPORTER_CATALOG_KEY", "catalog/catalog.yaml"),
    ],
)
def test_a_malformed_variable_is_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({**REQUIRED, name: value})


def test_all_namespaces_and_peering() -> None:
    settings = Settings.from_env(
        {**REQUIRED, "OPERATOR_NAMESPACES": "*", "OPERATOR_PEERING": "streamexport"}
    )
    assert settings.clusterwide
    assert settings.peering == "streamexport"


def test_several_namespaces_and_a_json_command(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            **REQUIRED,
            "OPERATOR_NAMESPACES": "team-a, team-b",
            "EXPORTER_COMMAND": '["/app/bin/exporter", "--verbose"]',
            "EMAIL_TEMPLATES_DIR": str(tmp_path),
            "API_PUBLIC_URL": "https://exports.example.com/",
            "SMTP_HOST": "smtp.example.com",
        }
    )
    assert settings.namespaces == ("team-a", "team-b")
    assert not settings.clusterwide
    assert settings.exporter_command == ("/app/bin/exporter", "--verbose")
    assert settings.email_templates_dir == tmp_path
    assert settings.api_public_url == "https://exports.example.com"
    assert settings.email_enabled


def test_retention_accepts_fractions_of_a_day_and_zero_keeps_forever() -> None:
    assert Settings.from_env({**REQUIRED, "EXPORT_RETENTION_DAYS": "0.5"}).retention_seconds == (
        43200
    )
    assert Settings.from_env({**REQUIRED, "EXPORT_RETENTION_DAYS": "0"}).retention_seconds == 0


def test_peering_priority_and_the_jobs_catalog() -> None:
    settings = Settings.from_env(
        {
            **REQUIRED,
            "OPERATOR_PEERING": "streamexport",
            "OPERATOR_PEERING_PRIORITY": "100",
            "EXPORTER_CATALOG_CONFIGMAP": "streamexport-catalog",
            "EXPORTER_CATALOG_KEY": "exports.yaml",
        }
    )
    assert settings.peering_priority == 100
    assert settings.exporter_catalog_configmap == "streamexport-catalog"
    assert settings.exporter_catalog_key == "exports.yaml"
