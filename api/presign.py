"""Pre-signed S3 download URLs: botocore resolves the bucket URL once, `api.sigv4` signs."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.credentials import RefreshableCredentials  # type: ignore[import-untyped]

from api.settings import Settings, SettingsError
from api.sigv4 import SIGNED_PARAMS, BucketUrl, presign_get

_PROBE_KEY = "probe"


class Presigner:
    """Signs with `api.sigv4` for the bucket URL and region that botocore resolved."""

    def __init__(self, credentials: Any, bucket_url: BucketUrl, region: str) -> None:
        self._credentials = credentials
        self._bucket_url = bucket_url
        self._region = region

    @classmethod
    async def create(cls, settings: Settings) -> Presigner:
        """Build the client in a thread: importing and configuring boto3 takes ~0.5 s."""
        return await asyncio.to_thread(_make_presigner, settings)

    async def download_url(self, key: str, expires_in: int) -> str:
        """A GET URL for `key`, valid `expires_in` seconds.

        Signing is CPU only (~30 us) and runs on the loop. The one blocking step, boto3
        refreshing role credentials over HTTP near their expiry, runs in a thread first.
        """
        credentials = self._credentials
        if isinstance(credentials, RefreshableCredentials) and credentials.refresh_needed():
            await asyncio.to_thread(credentials.get_frozen_credentials)
        frozen = credentials.get_frozen_credentials()
        return presign_get(
            self._bucket_url,
            key,
            region=self._region,
            access_key=frozen.access_key,
            secret_key=frozen.secret_key,
            token=frozen.token,
            expires_in=expires_in,
            now=dt.datetime.now(dt.UTC),
        )


@functools.cache
def _session() -> boto3.session.Session:
    # One session per process: it caches the service models, which makes every client after
    # the first ~15x cheaper to build (an app per test, in the test suite).
    return boto3.session.Session()


_session_lock = threading.Lock()


def _make_presigner(settings: Settings) -> Presigner:
    """Let botocore resolve the bucket's URL and signing region once, from a probe URL."""
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path" if settings.s3_endpoint_url else "auto"},
    )
    with _session_lock:  # boto3 sessions are not thread-safe
        session = _session()
        credentials = session.get_credentials()
        if credentials is None:
            # Without credentials every GET of a COMPLETED export would fail: say so now.
            raise SettingsError(
                "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or give"
                " the pod an IAM role"
            )
        client = session.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.aws_region,
            config=config,
        )
    probe = client.generate_presigned_url(
        "get_object", Params={"Bucket": settings.s3_bucket, "Key": _PROBE_KEY}, ExpiresIn=60
    )
    query = parse_qs(urlsplit(probe).query)
    if set(query) - SIGNED_PARAMS or query.get("X-Amz-SignedHeaders") != ["host"]:
        # Another signing scheme than api.sigv4 reproduces: refuse rather than sign wrongly.
        raise SettingsError(f"unsupported S3 pre-signing scheme: {sorted(query)}")
    region = query["X-Amz-Credential"][0].split("/")[2]
    return Presigner(credentials, BucketUrl.from_presigned(probe, _PROBE_KEY), region)
