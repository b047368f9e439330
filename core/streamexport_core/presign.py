"""Pre-signed S3 download URLs, one signer for the API and the operator.

botocore resolves the bucket's URL and signing region once (from a probe URL); every URL
after that is signed here in-process: botocore's `generate_presigned_url` costs ~0.65 ms of
CPU per URL against ~28 µs here (bench/bench_api.py), and the API signs on its event loop.
`tests/core/test_presign.py` checks the two byte for byte, Content-Disposition included.

A URL signed with temporary credentials (IRSA, pod identity) stops working when their session
token expires, whatever its X-Amz-Expires says: the link's lifetime is capped at the
credentials' expiry and the cap is logged. A dedicated long-lived signing key
(S3_SIGNING_ACCESS_KEY_ID / S3_SIGNING_SECRET_ACCESS_KEY, from its own Secret) avoids the cap.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from streamexport_core.errors import SettingsError

MAX_PRESIGN_SECONDS = 604_800  # SigV4's limit: 7 days
SIGNING_ACCESS_KEY_ENV = "S3_SIGNING_ACCESS_KEY_ID"
SIGNING_SECRET_KEY_ENV = "S3_SIGNING_SECRET_ACCESS_KEY"  # noqa: S105 - a variable's name
ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
SIGNED_PARAMS = frozenset(
    {
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Security-Token",
        "X-Amz-Signature",
    }
)
_PROBE_KEY = "probe"

log = logging.getLogger("streamexport.presign")


@dataclass(frozen=True)
class BucketUrl:
    """Where a bucket's objects live: `base` + quoted key, e.g. `https://b.s3.amazonaws.com/`."""

    base: str  # scheme://netloc/prefix/ (prefix "/bucket" for path-style addressing)
    host: str  # the signed Host header: lower-case, without a default port
    path_prefix: str  # "/bucket/" or "/"

    @classmethod
    def from_presigned(cls, url: str, key: str) -> BucketUrl:
        """Derive the bucket URL from a URL botocore pre-signed for `key`."""
        parts = urlsplit(url)
        encoded_key = quote(key, safe="/~")
        if not parts.path.endswith(encoded_key):
            raise ValueError(f"unexpected pre-signed URL path {parts.path!r}")
        prefix = parts.path[: len(parts.path) - len(encoded_key)]
        host = (parts.hostname or "").lower()
        default = {"http": 80, "https": 443}.get(parts.scheme)
        if parts.port is not None and parts.port != default:
            host = f"{host}:{parts.port}"
        return cls(base=f"{parts.scheme}://{parts.netloc}{prefix}", host=host, path_prefix=prefix)


@dataclass(frozen=True)
class DownloadLink:
    url: str
    expires_at: dt.datetime
    capped_by_credentials: bool = False


def content_disposition(file_name: str) -> str:
    """What the browser saves the download as (quotes dropped: they would end the value)."""
    return f'attachment; filename="{file_name.replace(chr(34), "")}"'


@functools.lru_cache(maxsize=8)
def _signing_key(secret_key: str, day: str, region: str) -> bytes:
    key = _hmac(f"AWS4{secret_key}".encode(), day)
    for part in (region, "s3", "aws4_request"):
        key = _hmac(key, part)
    return key


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def _quote(value: str) -> str:
    return quote(value, safe="-_.~")


def presign_get(
    bucket: BucketUrl,
    key: str,
    *,
    region: str,
    access_key: str,
    secret_key: str,
    token: str | None,
    expires_in: int,
    now: dt.datetime,
    response_params: Mapping[str, str] | None = None,
) -> str:
    """A URL that GETs `key` until `now` + `expires_in` seconds (`response_params`, e.g.
    `response-content-disposition`, are signed with it)."""
    stamp = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    day = stamp[:8]
    scope = f"{day}/{region}/s3/aws4_request"
    params = dict(response_params or {})
    params.update(
        {
            "X-Amz-Algorithm": ALGORITHM,
            "X-Amz-Credential": f"{access_key}/{scope}",
            "X-Amz-Date": stamp,
            "X-Amz-Expires": str(expires_in),
            "X-Amz-SignedHeaders": "host",
        }
    )
    if token:
        params["X-Amz-Security-Token"] = token
    query = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(params.items()))
    path = bucket.path_prefix + quote(key, safe="/~")
    canonical = f"GET\n{path}\n{query}\nhost:{bucket.host}\n\nhost\n{UNSIGNED_PAYLOAD}"
    to_sign = "\n".join((ALGORITHM, stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()))
    signature = hmac.new(
        _signing_key(secret_key, day, region), to_sign.encode(), hashlib.sha256
    ).hexdigest()
    return f"{bucket.base}{quote(key, safe='/~')}?{query}&X-Amz-Signature={signature}"


def credentials_expiry(credentials: Any) -> dt.datetime | None:
    """When temporary credentials stop working; None for long-lived keys. botocore keeps it
    only on `RefreshableCredentials._expiry_time` (no public accessor)."""
    expiry = getattr(credentials, "_expiry_time", None)
    if not isinstance(expiry, dt.datetime):
        return None
    return expiry if expiry.tzinfo else expiry.replace(tzinfo=dt.UTC)


class DownloadSigner:
    """Signs GET URLs for one bucket; `create()` blocks (boto3), call it off the loop."""

    def __init__(self, credentials: Any, bucket_url: BucketUrl, region: str) -> None:
        self.credentials = credentials
        self.bucket_url = bucket_url
        self.region = region

    @classmethod
    def create(
        cls,
        *,
        bucket: str,
        endpoint_url: str | None,
        region: str,
        environ: Mapping[str, str] | None = None,
    ) -> DownloadSigner:
        from botocore.config import Config  # type: ignore[import-untyped]
        from botocore.credentials import Credentials  # type: ignore[import-untyped]

        environ = os.environ if environ is None else environ
        key_id, secret = environ.get(SIGNING_ACCESS_KEY_ENV), environ.get(SIGNING_SECRET_KEY_ENV)
        if bool(key_id) != bool(secret):
            raise SettingsError(
                f"set both {SIGNING_ACCESS_KEY_ENV} and {SIGNING_SECRET_KEY_ENV}, or neither"
            )
        config = Config(
            signature_version="s3v4", s3={"addressing_style": "path" if endpoint_url else "auto"}
        )
        with _session_lock:  # boto3 sessions are not thread-safe
            session = _session()
            credentials = Credentials(key_id, secret) if key_id else session.get_credentials()
            if credentials is None:
                raise SettingsError(
                    "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or give"
                    " the pod an IAM role"
                )
            # The probe is signed with the same credentials as the links.
            client = session.client(
                "s3",
                endpoint_url=endpoint_url,
                region_name=region,
                config=config,
                aws_access_key_id=key_id or None,
                aws_secret_access_key=secret or None,
            )
        probe = client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": _PROBE_KEY}, ExpiresIn=60
        )
        client.close()
        query = parse_qs(urlsplit(probe).query)
        if set(query) - SIGNED_PARAMS or query.get("X-Amz-SignedHeaders") != ["host"]:
            # Another signing scheme than presign_get reproduces: refuse rather than sign wrongly.
            raise SettingsError(f"unsupported S3 pre-signing scheme: {sorted(query)}")
        signing_region = query["X-Amz-Credential"][0].split("/")[2]
        return cls(credentials, BucketUrl.from_presigned(probe, _PROBE_KEY), signing_region)

    def refresh_needed(self) -> bool:
        """True when signing would first fetch new role credentials over the network."""
        check = getattr(self.credentials, "refresh_needed", None)
        return bool(check()) if callable(check) else False

    def refresh(self) -> None:
        """Blocking: fetch new credentials if they are near their expiry."""
        self.credentials.get_frozen_credentials()

    def sign(
        self, key: str, *, lifetime_seconds: int, now: dt.datetime, file_name: str | None = None
    ) -> DownloadLink:
        """A GET URL for `key` living `lifetime_seconds` (at most 7 days), or less: never past
        the signing credentials' own expiry."""
        frozen = self.credentials.get_frozen_credentials()
        lifetime = max(1, min(lifetime_seconds, MAX_PRESIGN_SECONDS))
        capped = False
        expiry = credentials_expiry(self.credentials)
        if expiry is not None and expiry < now + dt.timedelta(seconds=lifetime):
            lifetime, capped = max(1, int((expiry - now).total_seconds())), True
            log.warning(
                "download link capped at the signing credentials' expiry key=%s asked_seconds=%d"
                " capped_seconds=%d credentials_expire_at=%s (a dedicated signing key in %s"
                " avoids this)",
                key,
                lifetime_seconds,
                lifetime,
                expiry.isoformat(),
                SIGNING_ACCESS_KEY_ENV,
            )
        extra = (
            {"response-content-disposition": content_disposition(file_name)} if file_name else {}
        )
        url = presign_get(
            self.bucket_url,
            key,
            region=self.region,
            access_key=frozen.access_key,
            secret_key=frozen.secret_key,
            token=frozen.token,
            expires_in=lifetime,
            now=now,
            response_params=extra,
        )
        return DownloadLink(url, now + dt.timedelta(seconds=lifetime), capped)


@functools.cache
def _session() -> Any:
    # One session per process: it caches the service models, which makes every client after
    # the first ~15x cheaper to build (an app per test, in the test suite).
    import boto3

    return boto3.session.Session()


_session_lock = threading.Lock()
