"""The contract between the API, the operator and the exporter, each name defined once.

api → operator: the Export resource (group/version/plural, labels, the cancel annotation,
phases). operator → exporter: the Job's environment (`JobEnv`). exporter → operator: exit
codes and the termination message (`exporter.result`). docs/configuration.md describes them.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

GROUP: Final = "streamexport.io"
VERSION: Final = "v1"
PLURAL: Final = "exports"
KIND: Final = "Export"
API_VERSION: Final = f"{GROUP}/{VERSION}"

# Labels and annotations on Exports, Jobs and pods.
MANAGED_BY_LABEL: Final = "app.kubernetes.io/managed-by"
MANAGED_BY: Final = "streamexport"
OWNER_LABEL: Final = "streamexport.io/owner"  # a hash of the requester's user id
EXPORT_LABEL: Final = "streamexport.io/export"  # on a Job and its pods: the Export's name
IDEMPOTENCY_LABEL: Final = "streamexport.io/idempotency-key"
CANCEL_ANNOTATION: Final = "streamexport.io/cancel-requested"  # value: when, RFC 3339

# Export.status.phase
QUEUED: Final = "QUEUED"
PROCESSING: Final = "PROCESSING"
COMPLETED: Final = "COMPLETED"
FAILED: Final = "FAILED"
CANCELLED: Final = "CANCELLED"
PHASES: Final = (QUEUED, PROCESSING, COMPLETED, FAILED, CANCELLED)
TERMINAL_PHASES: Final = frozenset({COMPLETED, FAILED, CANCELLED})

# Export.spec.format
Format = Literal["csv", "xlsx", "jsonl", "parquet"]
FORMATS: Final[tuple[Format, ...]] = get_args(Format)

# The exporter's exit codes: 0 done; 2 a request that can never succeed (no retry); 1 may
# succeed on retry; 128+N killed by signal N.
EXIT_OK: Final = 0
EXIT_RETRYABLE: Final = 1
EXIT_PERMANENT: Final = 2
# The exporter stopped itself near its memory limit (exporter/memguard.py): retrying under the
# same limit would only end the same way, and unlike 137 it cannot mean a kill from outside.
EXIT_OUT_OF_MEMORY: Final = 3


# The S3 region when none is configured (AWS's own default): one definition for the three.
DEFAULT_AWS_REGION: Final = "us-east-1"


class JobEnv:
    """Names of the environment variables the operator gives the exporter's container."""

    EXPORT_NAME: Final = "EXPORT_NAME"
    EXPORT_NAMESPACE: Final = "EXPORT_NAMESPACE"
    RESOURCE_TYPE: Final = "EXPORT_RESOURCE_TYPE"
    FORMAT: Final = "EXPORT_FORMAT"
    FILTERS: Final = "EXPORT_FILTERS"  # a JSON object
    SCOPE: Final = "EXPORT_SCOPE"  # spec.scope as JSON; required for a scoped resource
    # The request's options (spec.columns, compression, csvBom, timeZone); absent: default.
    COLUMNS: Final = "EXPORT_COLUMNS"  # column names, comma-separated, in the file's order
    GZIP: Final = "EXPORT_GZIP"  # "true" for spec.compression gzip (CSV and JSON Lines)
    CSV_BOM: Final = "EXPORT_CSV_BOM"  # "true": the CSV starts with a UTF-8 BOM
    TIME_ZONE: Final = "EXPORT_TIME_ZONE"  # IANA zone the timestamps are rendered in
    BUCKET: Final = "S3_BUCKET"
    # Where the export's object goes: the exporter appends the file name it chooses. The
    # operator passes only this prefix; the exporter reports the full key in its result.
    OBJECT_KEY_PREFIX: Final = "EXPORT_OBJECT_KEY_PREFIX"
    OBJECT_KEY: Final = "EXPORT_OBJECT_KEY"  # the whole key: standalone runs only
    S3_ENDPOINT_URL: Final = "S3_ENDPOINT_URL"
    AWS_REGION: Final = "AWS_REGION"
    PART_SIZE: Final = "EXPORT_PART_SIZE"
    TERMINATION_MESSAGE_PATH: Final = "TERMINATION_MESSAGE_PATH"
    KUBERNETES_API_URL: Final = "KUBERNETES_API_URL"
    KUBERNETES_TIMEOUT_SECONDS: Final = "KUBERNETES_TIMEOUT_SECONDS"  # each call's deadline
    LOG_LEVEL: Final = "EXPORT_LOG_LEVEL"
    CATALOG: Final = "STREAMEXPORT_CATALOG"
    DATABASE_URL: Final = "DATABASE_URL"
    AWS_ACCESS_KEY_ID: Final = "AWS_ACCESS_KEY_ID"
    AWS_SECRET_ACCESS_KEY: Final = "AWS_SECRET_ACCESS_KEY"  # noqa: S105 - a variable's name

