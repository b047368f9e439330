"""`api.sigv4` signs exactly as botocore does, for AWS and for a custom endpoint."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
from botocore.config import Config

from api.sigv4 import BucketUrl, presign_get

NOW = dt.datetime(2026, 2, 21, 10, 5, 0, tzinfo=dt.UTC)
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"  # noqa: S105 - AWS's documented example
KEY = "exports/ns/2f0c4a1e-0000-4000-8000-000000000001/transactions_2024-01-01 ü~+=.csv"


def normalised(url: str) -> tuple[str, str, str, dict[str, str]]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc, parts.path, dict(parse_qsl(parts.query))


@pytest.mark.parametrize(
    ("endpoint", "region", "token"),
    [
        (None, "us-east-1", None),
        (None, "eu-west-1", "session-token/with+chars"),
        ("http://127.0.0.1:9000", "us-east-1", None),
        ("https://minio.example:443", "eu-central-1", None),
    ],
)
def test_matches_botocore(
    monkeypatch: pytest.MonkeyPatch, endpoint: str | None, region: str, token: str | None
) -> None:
    session = boto3.session.Session(
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key=SECRET_KEY,
        aws_session_token=token,
    )
    style = "path" if endpoint else "auto"
    client = session.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        config=Config(signature_version="s3v4", s3={"addressing_style": style}),
    )
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: NOW.replace(tzinfo=None))
    params = {"Bucket": "my-bucket", "Key": KEY}
    expected = client.generate_presigned_url("get_object", Params=params, ExpiresIn=3600)
    probe = client.generate_presigned_url(
        "get_object", Params={"Bucket": "my-bucket", "Key": "probe"}, ExpiresIn=60
    )
    ours = presign_get(
        BucketUrl.from_presigned(probe, "probe"),
        KEY,
        region=region,
        access_key="AKIDEXAMPLE",
        secret_key=SECRET_KEY,
        token=token,
        expires_in=3600,
        now=NOW,
    )
    assert normalised(ours) == normalised(expected)
    client.close()
