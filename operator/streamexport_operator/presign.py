"""S3 access of the operator: the client, the email link's lifetime, deletion at retention.
The link itself is signed by `streamexport_core.presign`, as the API's is."""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]

from streamexport_operator.settings import MAX_PRESIGN_SECONDS, Settings


def make_s3_client(settings: Settings) -> Any:
    """One client for the operator's life (creating one costs ~0.5 s)."""
    addressing = {"addressing_style": "path"} if settings.s3_endpoint_url else {}
    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.aws_region,
        # botocore's 60 s connect and read defaults, 3 tries: a hung S3 held a handler 6 min.
        config=Config(
            signature_version="s3v4",
            s3=addressing,
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=settings.s3_timeout_seconds,
            read_timeout=settings.s3_timeout_seconds,
        ),
    )


def link_lifetime(now: dt.datetime, expires_at: dt.datetime | None, ttl_seconds: int) -> int:
    """Seconds the URL lives: `ttl_seconds`, never past the export's `expiresAt` nor SigV4's
    7-day maximum, and at least one second."""
    lifetime = min(ttl_seconds, MAX_PRESIGN_SECONDS)
    if expires_at is not None:
        lifetime = min(lifetime, int((expires_at - now).total_seconds()))
    return max(lifetime, 1)


def delete_object(s3: Any, bucket: str, key: str) -> None:
    """Delete the export's file (idempotent: S3 answers 204 for a missing key too)."""
    s3.delete_object(Bucket=bucket, Key=key)
