"""The operator's settings: read once from the environment at start-up (docs/configuration.md)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from streamexport_core.contract import DEFAULT_AWS_REGION
from streamexport_core.environment import EnvReader, SettingsError, pod_namespace
from streamexport_core.webhooks import parse_allowed_hosts

__all__ = ["MAX_PRESIGN_SECONDS", "Settings", "SettingsError"]

# SigV4 pre-signed URLs live at most 7 days.
MAX_PRESIGN_SECONDS = 604800
DAY = 86400.0
MIN_SECRET_BYTES = 32
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$")
_PART_SIZE = re.compile(r"^[0-9]+(B|KiB|MiB|GiB|KB|MB|GB)?$", re.IGNORECASE)
# A ConfigMap key that is also a plain file name (it becomes a file in the Job's mount).
_CONFIGMAP_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")


@dataclass(frozen=True)
class Settings:
    """Everything the operator needs, validated; see docs/configuration.md for each name."""

    exporter_image: str
    s3_bucket: str
    namespaces: tuple[str, ...] = ("default",)
    peering: str | None = None
    # kopf peering priority; None = a random one at start-up (see __main__.peering_priority).
    peering_priority: int | None = None
    liveness_port: int = 8081
    metrics_port: int = 9090
    kubernetes_api_url: str | None = None
    kubernetes_timeout_seconds: float = 10.0  # the deadline of each Kubernetes API call
    exporter_image_pull_policy: str = "IfNotPresent"
    exporter_command: tuple[str, ...] = ("python", "-m", "exporter")
    exporter_service_account: str = "streamexport-exporter"
    # Names of Secrets, not secrets.
    exporter_database_secret: str = "streamexport-database"  # noqa: S105
    exporter_s3_secret: str = "streamexport-s3"  # noqa: S105
    # True when EXPORTER_S3_SECRET is set (the chart sets it only when a Secret holds S3 keys):
    # then it is a prerequisite of a Job in another namespace (prerequisites.py).
    exporter_s3_secret_required: bool = False
    exporter_run_as_user: int = 10001
    # ConfigMap holding the resource catalog for the Job; None = the image's built-in one.
    exporter_catalog_configmap: str | None = None
    exporter_catalog_key: str = "catalog.yaml"
    job_memory_limit: str = "512Mi"
    job_cpu_request: str = "250m"
    job_cpu_limit: str = "1"
    job_tmp_size_limit: str = "64Mi"  # XLSX streams into the upload: no temporary files
    job_active_deadline_seconds: int = 3600
    job_backoff_limit: int = 2
    job_ttl_seconds_after_finished: int = 86400
    export_part_size: str = "5MiB"
    s3_endpoint_url: str | None = None
    aws_region: str = DEFAULT_AWS_REGION
    max_running_exports: int = 4
    max_running_exports_per_owner: int = 2
    export_expiry_seconds: int = MAX_PRESIGN_SECONDS
    retention_seconds: float = 30 * DAY
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "streamexport <noreply@localhost>"
    smtp_timeout_seconds: float = 30.0
    # A Kueue LocalQueue in the Export's namespace: Jobs are created suspended for it and
    # Kueue admits them; our own admission limits then step aside. None: no Kueue.
    kueue_queue_name: str | None = None
    # Connect and read deadline of each S3 call (abort uploads, delete at retention).
    s3_timeout_seconds: float = 20.0
    email_templates_dir: Path | None = None
    api_public_url: str | None = None
    log_level: str = "INFO"
    # Signed webhooks (streamexport_operator.webhooks): the hosts a spec.notify.webhookUrl may
    # name, checked again before every delivery (empty: none); the HMAC secret (None: every
    # webhook is given up, unsigned ones are never sent); each POST's deadline; and the
    # retries: attempts in all, the delay after the first failure, doubling up to the cap.
    webhook_allowed_hosts: tuple[str, ...] = ()
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_timeout_seconds: float = 10.0
    webhook_max_attempts: int = 12
    webhook_retry_initial_seconds: float = 5.0
    webhook_retry_max_seconds: float = 300.0

    @property
    def clusterwide(self) -> bool:
        return self.namespaces == ("*",)

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build the settings from `env` (default `os.environ`); raise `SettingsError` naming the
        first bad variable. Each default is the field's own (`cls.<field>`): written once."""
        reader = _Reader(os.environ if env is None else env)
        return cls(
            exporter_image=reader.required("EXPORTER_IMAGE"),
            s3_bucket=reader.required("S3_BUCKET"),
            namespaces=reader.namespaces("OPERATOR_NAMESPACES"),
            peering=reader.optional("OPERATOR_PEERING"),
            peering_priority=reader.optional_integer("OPERATOR_PEERING_PRIORITY"),
            liveness_port=reader.integer("OPERATOR_LIVENESS_PORT", cls.liveness_port, minimum=0),
            metrics_port=reader.integer("OPERATOR_METRICS_PORT", cls.metrics_port, minimum=0),
            kubernetes_api_url=reader.optional("KUBERNETES_API_URL"),
            kubernetes_timeout_seconds=reader.number(
                "KUBERNETES_TIMEOUT_SECONDS", cls.kubernetes_timeout_seconds, minimum=0.1
            ),
            exporter_image_pull_policy=reader.choice(
                "EXPORTER_IMAGE_PULL_POLICY",
                cls.exporter_image_pull_policy,
                ("Always", "IfNotPresent", "Never"),
            ),
            exporter_command=reader.command("EXPORTER_COMMAND", cls.exporter_command),
            exporter_service_account=reader.text(
                "EXPORTER_SERVICE_ACCOUNT", cls.exporter_service_account
            ),
            exporter_database_secret=reader.text(
                "EXPORTER_DATABASE_SECRET", cls.exporter_database_secret
            ),
            exporter_s3_secret=reader.text("EXPORTER_S3_SECRET", cls.exporter_s3_secret),
            exporter_run_as_user=reader.integer(
                "EXPORTER_RUN_AS_USER", cls.exporter_run_as_user, minimum=1
            ),
            exporter_s3_secret_required=reader.optional("EXPORTER_S3_SECRET") is not None,
            exporter_catalog_configmap=reader.optional("EXPORTER_CATALOG_CONFIGMAP"),
            exporter_catalog_key=reader.configmap_key(
                "EXPORTER_CATALOG_KEY", cls.exporter_catalog_key
            ),
            job_memory_limit=reader.quantity("JOB_MEMORY_LIMIT", cls.job_memory_limit),
            job_cpu_request=reader.quantity("JOB_CPU_REQUEST", cls.job_cpu_request),
            job_cpu_limit=reader.quantity("JOB_CPU_LIMIT", cls.job_cpu_limit),
            job_tmp_size_limit=reader.quantity("JOB_TMP_SIZE_LIMIT", cls.job_tmp_size_limit),
            job_active_deadline_seconds=reader.integer(
                "JOB_ACTIVE_DEADLINE_SECONDS", cls.job_active_deadline_seconds, minimum=1
            ),
            job_backoff_limit=reader.integer("JOB_BACKOFF_LIMIT", cls.job_backoff_limit, minimum=0),
            job_ttl_seconds_after_finished=reader.integer(
                "JOB_TTL_SECONDS_AFTER_FINISHED", cls.job_ttl_seconds_after_finished, minimum=0
            ),
            export_part_size=reader.part_size("EXPORT_PART_SIZE", cls.export_part_size),
            s3_endpoint_url=reader.optional("S3_ENDPOINT_URL"),
            aws_region=reader.text("AWS_REGION", cls.aws_region),
            max_running_exports=reader.integer(
                "MAX_RUNNING_EXPORTS", cls.max_running_exports, minimum=1
            ),
            max_running_exports_per_owner=reader.integer(
                "MAX_RUNNING_EXPORTS_PER_OWNER", cls.max_running_exports_per_owner, minimum=1
            ),
            export_expiry_seconds=reader.integer(
                "EXPORT_EXPIRY_SECONDS",
                cls.export_expiry_seconds,
                minimum=1,
                maximum=MAX_PRESIGN_SECONDS,
            ),
            retention_seconds=reader.number(
                "EXPORT_RETENTION_DAYS", cls.retention_seconds / DAY, minimum=0.0
            )
            * DAY,
            smtp_host=reader.optional("SMTP_HOST"),
            smtp_port=reader.integer("SMTP_PORT", cls.smtp_port, minimum=1, maximum=65535),
            smtp_security=reader.choice(
                "SMTP_SECURITY", cls.smtp_security, ("none", "starttls", "tls")
            ),
            smtp_username=reader.optional("SMTP_USERNAME"),
            smtp_password=reader.optional("SMTP_PASSWORD"),
            smtp_from=reader.text("SMTP_FROM", cls.smtp_from),
            smtp_timeout_seconds=reader.number(
                "SMTP_TIMEOUT_SECONDS", cls.smtp_timeout_seconds, minimum=0.1
            ),
            s3_timeout_seconds=reader.number(
                "S3_TIMEOUT_SECONDS", cls.s3_timeout_seconds, minimum=0.1
            ),
            kueue_queue_name=reader.optional("KUEUE_QUEUE_NAME"),
            email_templates_dir=reader.directory("EMAIL_TEMPLATES_DIR"),
            api_public_url=reader.url("API_PUBLIC_URL"),
            log_level=reader.choice(
                "LOG_LEVEL", cls.log_level, ("DEBUG", "INFO", "WARNING", "ERROR"), upper=True
            ),
            webhook_allowed_hosts=parse_allowed_hosts(reader.optional("WEBHOOK_ALLOWED_HOSTS")),
            webhook_secret=reader.secret("WEBHOOK_SECRET"),
            webhook_timeout_seconds=reader.number(
                "WEBHOOK_TIMEOUT_SECONDS", cls.webhook_timeout_seconds, minimum=0.1
            ),
            webhook_max_attempts=reader.integer(
                "WEBHOOK_MAX_ATTEMPTS", cls.webhook_max_attempts, minimum=1, maximum=100
            ),
            webhook_retry_initial_seconds=reader.number(
                "WEBHOOK_RETRY_INITIAL_SECONDS", cls.webhook_retry_initial_seconds, minimum=0.01
            ),
            webhook_retry_max_seconds=reader.number(
                "WEBHOOK_RETRY_MAX_SECONDS", cls.webhook_retry_max_seconds, minimum=0.01
            ),
        )


class _Reader(EnvReader):
    """The operator's own kinds of value, on top of the shared typed reader."""

    def quantity(self, name: str, default: str) -> str:
        value = self.text(name, default)
        if not _QUANTITY.match(value):
            raise SettingsError(f"{name} must be a Kubernetes quantity like 512Mi, got {value!r}")
        return value

    def part_size(self, name: str, default: str) -> str:
        value = self.text(name, default)
        if not _PART_SIZE.match(value):
            raise SettingsError(f"{name} must be a size like 8MiB, got {value!r}")
        return value

    def configmap_key(self, name: str, default: str) -> str:
        value = self.text(name, default)
        if not _CONFIGMAP_KEY.match(value) or value in (".", ".."):
            raise SettingsError(f"{name} must be a ConfigMap key like catalog.yaml, got {value!r}")
        return value

    def command(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = None
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise SettingsError(f"{name} must be a JSON list of strings, got {raw!r}")
        return tuple(value)

    def namespaces(self, name: str) -> tuple[str, ...]:
        raw = self.optional(name)
        if raw is None:
            return (pod_namespace(),)
        names = tuple(part.strip() for part in raw.split(",") if part.strip())
        if "*" in names and names != ("*",):
            raise SettingsError(f"{name}: '*' (all namespaces) cannot be combined with names")
        return names or (pod_namespace(),)

    def directory(self, name: str) -> Path | None:
        raw = self.optional(name)
        if raw is None:
            return None
        path = Path(raw)
        if not path.is_dir():
            raise SettingsError(f"{name} must be an existing directory, got {raw!r}")
        return path

    def secret(self, name: str) -> str | None:
        """`name` itself, else the file `<name>_FILE` names (a mounted Secret), stripped;
        at least 32 bytes (an HMAC-SHA256 key as long as the hash)."""
        value = self.optional(name)
        path = self.optional(f"{name}_FILE")
        if value is None and path is not None:
            try:
                value = Path(path).read_text(encoding="utf-8").strip() or None
            except OSError as exc:
                raise SettingsError(f"{name}_FILE {path}: {exc.strerror or exc}") from None
        if value is not None and len(value.encode()) < MIN_SECRET_BYTES:
            raise SettingsError(f"{name} must be at least {MIN_SECRET_BYTES} bytes long")
        return value

    def url(self, name: str) -> str | None:
        raw = self.optional(name)
        if raw is not None and not raw.startswith(("http://", "https://")):
            raise SettingsError(f"{name} must be an http(s) URL, got {raw!r}")
        return raw.rstrip("/") if raw else None
