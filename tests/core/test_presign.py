"""The shared signer signs exactly as botocore does (AWS and a custom endpoint, with the
Content-Disposition the email and the API both send), and never promises a link longer
than its credentials live."""

from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.credentials import RefreshableCredentials

from streamexport_core.presign import (
    SIGNING_ACCESS_KEY_ENV,
    SIGNING_SECRET_KEY_ENV,
    BucketUrl,
    DownloadSigner,
    content_disposition,
    presign_get,
)

NOW = dt.datetime(2026, 2, 21, 10, 5, 0, tzinfo=dt.UTC)
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"  # noqa: S105 - AWS's documented example
KEY = "exports/ns/2f0c4a1e-0000-4000-8000-000000000001/transactions_2024-01-01 ü~+=.csv"


def normalised(url: str) -> tuple[str, str, str, dict[str, str]]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc, parts.path, dict(parse_qsl(parts.query))


@pytest.mark.parametrize(
    ("endpoint", "region", "token", "file_name"),
    [
        (None, "us-east-1", None, None),
        (None, "eu-west-1", "session-token/with+chars", "transactions_2024-01-01.csv"),
        ("http://127.0.0.1:9000", "us-east-1", None, 'odd "name" ü;=.xlsx'),
        ("https://minio.example:443", "eu-central-1", None, None),
    ],
)
def test_matches_botocore(
    monkeypatch: pytest.MonkeyPatch,
    endpoint: str | None,
    region: str,
    token: str | None,
    file_name: str | None,
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
    extra = {}
    if file_name:
        params["ResponseContentDisposition"] = content_disposition(file_name)
        extra["response-content-disposition"] = content_disposition(file_name)
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
        response_params=extra,
    )
    assert normalised(ours) == normalised(expected)
    client.close()


def _temporary(expires_at: dt.datetime) -> RefreshableCredentials:
    def refresh() -> dict[str, str]:
        return {
            "access_key": "ASIATEMP",
            "secret_key": SECRET_KEY,
            "token": "session",
            "expiry_time": expires_at.isoformat(),
        }

    return RefreshableCredentials.create_from_metadata(refresh(), refresh, "test")


BUCKET = BucketUrl("http://127.0.0.1:9000/b/", "127.0.0.1:9000", "/b/")
WEEK = 7 * 86400


# botocore refreshes credentials that have expired by the real clock: sign at the real now.
REAL_NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def test_a_link_never_outlives_temporary_credentials(caplog: pytest.LogCaptureFixture) -> None:
    expiry = REAL_NOW + dt.timedelta(hours=1)  # the session token dies in one hour
    signer = DownloadSigner(_temporary(expiry), BUCKET, "us-east-1")
    with caplog.at_level(logging.WARNING, "streamexport.presign"):
        link = signer.sign(KEY, lifetime_seconds=WEEK, now=REAL_NOW)
    assert link.capped_by_credentials
    assert link.expires_at == expiry
    assert dict(parse_qsl(urlsplit(link.url).query))["X-Amz-Expires"] == "3600"
    [record] = caplog.records
    assert "capped at the signing credentials' expiry" in record.getMessage()


def test_a_link_within_the_credentials_life_is_not_capped() -> None:
    signer = DownloadSigner(_temporary(REAL_NOW + dt.timedelta(days=8)), BUCKET, "us-east-1")
    link = signer.sign(KEY, lifetime_seconds=WEEK, now=REAL_NOW, file_name="t.csv")
    assert not link.capped_by_credentials
    assert link.expires_at == REAL_NOW + dt.timedelta(seconds=WEEK)
    query = dict(parse_qsl(urlsplit(link.url).query))
    assert query["response-content-disposition"] == 'attachment; filename="t.csv"'


def test_a_dedicated_signing_key_signs_without_a_session_token() -> None:
    environ = {SIGNING_ACCESS_KEY_ENV: "AKIASIGNER", SIGNING_SECRET_KEY_ENV: SECRET_KEY}
    signer = DownloadSigner.create(
        bucket="b", endpoint_url="http://127.0.0.1:9", region="us-east-1", environ=environ
    )
    link = signer.sign(KEY, lifetime_seconds=WEEK, now=NOW)
    query = dict(parse_qsl(urlsplit(link.url).query))
    assert query["X-Amz-Credential"].startswith("AKIASIGNER/")
    assert "X-Amz-Security-Token" not in query
    assert not link.capped_by_credentials


def test_half_a_dedicated_signing_key_is_a_settings_error() -> None:
    from streamexport_core.errors import SettingsError

    with pytest.raises(SettingsError, match=SIGNING_SECRET_KEY_ENV):
        DownloadSigner.create(
            bucket="b",
            endpoint_url=None,
            region="us-east-1",
            environ={SIGNING_ACCESS_KEY_ENV: "AKIASIGNER"},
        )
