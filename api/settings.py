"""The API's settings, read once from the environment (see docs/configuration.md, "API")."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from streamexport_core.contract import DEFAULT_AWS_REGION
from streamexport_core.environment import (
    SERVICE_ACCOUNT_DIR,
    EnvReader,
    SettingsError,
    pod_namespace,
)
from streamexport_core.webhooks import parse_allowed_hosts

__all__ = ["SERVICE_ACCOUNT_DIR", "Settings", "SettingsError"]

# The CRD caps spec.estimatedRowCount at this value, so a larger MAX_EXPORT_ROWS could never
# be stored on an Export.
CRD_MAX_ROWS = 500_000
MIN_SECRET_BYTES = 32
MAX_PRESIGN_SECONDS = 604_800  # SigV4: a pre-signed URL lives at most 7 days


@dataclass(frozen=True)
class Settings:
    database_url: str
    s3_bucket: str
    jwt_algorithm: str = "HS256"
    jwt_secret: str | None = None
    jwt_public_key: str | None = None
    jwt_issuer: str = "streamexport"
    jwt_audience: str = "streamexport-api"
    host: str = "0.0.0.0"  # noqa: S104 - a server in a pod listens on every interface
    port: int = 8080
    kubernetes_api_url: str | None = None
    kubernetes_timeout_seconds: float = 10.0  # the deadline of each Kubernetes API call
    export_namespace: str = "default"
    s3_endpoint_url: str | None = None
    aws_region: str = DEFAULT_AWS_REGION
    catalog_path: str | None = None
    max_export_rows: int = CRD_MAX_ROWS
    download_url_ttl_seconds: int = 3600
    idempotency_window_seconds: int = 86_400
    count_timeout_ms: int = 10_000
    db_pool_min_size: int = 1
    db_pool_max_size: int = 10
    log_level: str = "INFO"
    # Resource types whose scope a SUPER_ADMIN may lift (export every row); empty: none.
    admin_unscoped_resources: frozenset[str] = frozenset()
    # Hosts a request's notify.webhookUrl may name (streamexport_core.webhooks); empty: none.
    webhook_allowed_hosts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.jwt_algorithm not in ("HS256", "RS256"):
            raise SettingsError("JWT_ALGORITHM must be HS256 or RS256")
        secret = self.jwt_secret or ""
        if self.jwt_algorithm == "HS256" and not secret:
            raise SettingsError("JWT_SECRET is required when JWT_ALGORITHM is HS256")
        if self.jwt_algorithm == "HS256" and len(secret.encode()) < MIN_SECRET_BYTES:
            # RFC 7518 section 3.2: an HS256 key must be at least as long as the hash.
            raise SettingsError(f"JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes long")
        if self.jwt_algorithm == "RS256" and not self.jwt_public_key:
            raise SettingsError(
                "JWT_PUBLIC_KEY or JWT_PUBLIC_KEY_FILE is required when JWT_ALGORITHM is RS256"
            )
        if not 1 <= self.max_export_rows <= CRD_MAX_ROWS:
            raise SettingsError(
                f"MAX_EXPORT_ROWS must be between 1 and {CRD_MAX_ROWS}, got {self.max_export_rows}"
            )
        if not 1 <= self.download_url_ttl_seconds <= MAX_PRESIGN_SECONDS:
            raise SettingsError(
                f"DOWNLOAD_URL_TTL_SECONDS must be between 1 and {MAX_PRESIGN_SECONDS} (7 days),"
                f" got {self.download_url_ttl_seconds}"
            )
        if self.db_pool_min_size > self.db_pool_max_size:
            raise SettingsError("DB_POOL_MIN_SIZE must not exceed DB_POOL_MAX_SIZE")
        if self.log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise SettingsError("LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings from `env` (default: os.environ); `SettingsError` names the culprit.

        Each default is the field's own (`cls.<field>`), and each bound that `__post_init__`
        checks is checked only there: one definition of each."""
        env = os.environ if env is None else env
        reader = _Reader(env)
        settings = cls(
            database_url=reader.required("DATABASE_URL"),
            s3_bucket=reader.required("S3_BUCKET"),
            jwt_algorithm=reader.text("JWT_ALGORITHM", cls.jwt_algorithm).upper(),
            jwt_secret=reader.optional("JWT_SECRET"),
            jwt_public_key=reader.public_key(),
            jwt_issuer=reader.text("JWT_ISSUER", cls.jwt_issuer),
            jwt_audience=reader.text("JWT_AUDIENCE", cls.jwt_audience),
            host=reader.text("API_HOST", cls.host),
            port=reader.integer("API_PORT", cls.port, minimum=1, maximum=65535),
            kubernetes_api_url=reader.optional("KUBERNETES_API_URL"),
            kubernetes_timeout_seconds=reader.number(
                "KUBERNETES_TIMEOUT_SECONDS", cls.kubernetes_timeout_seconds, minimum=0.1
            ),
            export_namespace=reader.optional("EXPORT_NAMESPACE") or pod_namespace(),
            s3_endpoint_url=reader.optional("S3_ENDPOINT_URL"),
            aws_region=reader.text("AWS_REGION", cls.aws_region),
            catalog_path=reader.optional("STREAMEXPORT_CATALOG"),
            max_export_rows=reader.integer("MAX_EXPORT_ROWS", cls.max_export_rows),
            download_url_ttl_seconds=reader.integer(
                "DOWNLOAD_URL_TTL_SECONDS", cls.download_url_ttl_seconds
            ),
            idempotency_window_seconds=reader.integer(
                "IDEMPOTENCY_WINDOW_SECONDS",
                cls.idempotency_window_seconds,
                minimum=1,
                maximum=30 * 86_400,
            ),
            count_timeout_ms=reader.integer(
                "COUNT_TIMEOUT_MS", cls.count_timeout_ms, minimum=1, maximum=600_000
            ),
            db_pool_min_size=reader.integer(
                "DB_POOL_MIN_SIZE", cls.db_pool_min_size, minimum=0, maximum=100
            ),
            db_pool_max_size=reader.integer(
                "DB_POOL_MAX_SIZE", cls.db_pool_max_size, minimum=1, maximum=100
            ),
            log_level=reader.text("LOG_LEVEL", cls.log_level).upper(),
            admin_unscoped_resources=reader.names("ADMIN_UNSCOPED_RESOURCES"),
            webhook_allowed_hosts=parse_allowed_hosts(reader.optional("WEBHOOK_ALLOWED_HOSTS")),
        )
        return settings


class _Reader(EnvReader):
    def names(self, name: str) -> frozenset[str]:
        """A comma-separated list, e.g. `TRANSACTIONS,REFUNDS`; checked against the catalog
        when the app is built (api.app)."""
        return frozenset(n.strip() for n in (self.optional(name) or "").split(",") if n.strip())

    def public_key(self) -> str | None:
        inline = self.optional("JWT_PUBLIC_KEY")
        if inline:
            return inline
        path = self.optional("JWT_PUBLIC_KEY_FILE")
        if path is None:
            return None
        try:
            return Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise SettingsError(f"JWT_PUBLIC_KEY_FILE {path}: {exc.strerror or exc}") from None
