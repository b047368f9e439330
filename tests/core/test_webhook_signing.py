"""The webhook's pure parts: signing and verifying (with replays refused), the host
allow-list, the request option, the stable event id and the body without URLs."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

import pytest

from streamexport_core.errors import InvalidRequest, SettingsError
from streamexport_core.webhooks import (
    SignatureError,
    check_webhook_url,
    encode_body,
    event_id,
    event_type,
    host_allowed,
    parse_allowed_hosts,
    parse_notify,
    sign,
    verify,
    webhook_body,
)

SECRET = "whsec-" + "k" * 40
NOW = 1_790_000_000


def export(phase: str = "COMPLETED", uid: str = "7f1c2d3e-0000-4000-8000-000000000001") -> Any:
    return {
        "metadata": {"name": "0b7c8a52-4f0e-4a55-9d7e-1a2b3c4d5e6f", "uid": uid},
        "spec": {
            "resourceType": "TRANSACTIONS",
            "format": "csv",
            "filters": {"status": "SETTLED"},
            "estimatedRowCount": 10,
            "notify": {"webhookUrl": "https://hooks.example.com/x?token=secret"},
        },
        "status": {"phase": phase, "actualRowCount": 10, "objectKey": "exports/k.csv"},
    }


# --- signature --------------------------------------------------------------------------


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = b'{"eventId":"e"}'
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + body, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, body) == f"t={NOW},v1={expected}"


def test_a_fresh_signature_verifies_and_returns_its_timestamp() -> None:
    body = b'{"a":1}'
    assert verify(sign(SECRET, NOW, body), body, SECRET, now=NOW + 299) == NOW


def test_a_replay_older_than_five_minutes_is_refused() -> None:
    body = b'{"a":1}'
    header = sign(SECRET, NOW - 301, body)
    with pytest.raises(SignatureError, match=r"301 s old, beyond the 300 s tolerance"):
        verify(header, body, SECRET, now=NOW)


def test_a_timestamp_far_in_the_future_is_refused() -> None:
    body = b"{}"
    with pytest.raises(SignatureError, match="in the future"):
        verify(sign(SECRET, NOW + 400, body), body, SECRET, now=NOW)


def test_a_changed_body_or_another_secret_is_refused() -> None:
    header = sign(SECRET, NOW, b'{"a":1}')
    with pytest.raises(SignatureError, match="does not match"):
        verify(header, b'{"a":2}', SECRET, now=NOW)
    with pytest.raises(SignatureError, match="does not match"):
        verify(header, b'{"a":1}', "another-" + SECRET, now=NOW)


def test_the_timestamp_is_signed_too() -> None:
    body = b"{}"
    digest = sign(SECRET, NOW - 1000, body).split("v1=")[1]
    with pytest.raises(SignatureError, match="does not match"):
        verify(f"t={NOW},v1={digest}", body, SECRET, now=NOW)


@pytest.mark.parametrize("header", [None, "", "v1=abc", f"t={NOW}", "t=soon,v1=ab", "garbage"])
def test_a_missing_or_malformed_header_is_refused(header: str | None) -> None:
    with pytest.raises(SignatureError, match="Streamexport-Signature"):
        verify(header, b"{}", SECRET, now=NOW)


def test_one_matching_v1_of_several_passes_while_a_secret_is_rotated() -> None:
    body = b"{}"
    good = sign(SECRET, NOW, body)
    old = sign("old-" + SECRET, NOW, body).split(",")[1]
    assert verify(f"{good},{old}", body, SECRET, now=NOW) == NOW


# --- allow-list and the request option --------------------------------------------------


def test_allow_list_entries_are_parsed_lower_case() -> None:
    raw = " Hooks.Example.com, *.partner.example ,127.0.0.1:18095,,"
    assert parse_allowed_hosts(raw) == ("hooks.example.com", "*.partner.example", "127.0.0.1:18095")
    assert parse_allowed_hosts(None) == parse_allowed_hosts("") == ()


@pytest.mark.parametrize("bad", ["https://x.example", "a/b", "*", "user@host", "host:99999"])
def test_a_bad_allow_list_entry_names_the_variable(bad: str) -> None:
    with pytest.raises(SettingsError, match="WEBHOOK_ALLOWED_HOSTS"):
        parse_allowed_hosts(bad)


def test_host_matching() -> None:
    allowed = parse_allowed_hosts("hooks.example.com,*.partner.example,127.0.0.1:18095")
    assert host_allowed("hooks.example.com", 443, allowed)
    assert host_allowed("HOOKS.example.com.", 8443, allowed)  # any port without one given
    assert host_allowed("a.partner.example", 443, allowed)
    assert host_allowed("a.b.partner.example", 80, allowed)
    assert not host_allowed("partner.example", 443, allowed)  # *. is below the domain only
    assert not host_allowed("evilpartner.example", 443, allowed)
    assert not host_allowed("hooks.example.com.evil.net", 443, allowed)
    assert host_allowed("127.0.0.1", 18095, allowed)
    assert not host_allowed("127.0.0.1", 18096, allowed)
    assert not host_allowed("localhost", 18095, allowed)


def test_nothing_is_allowed_by_default() -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_webhook_url("https://hooks.example.com/x", ())
    assert caught.value.errors == [
        "notify.webhookUrl host hooks.example.com is not allowed:"
        " this installation allows no webhook hosts"
    ]


def test_a_host_off_the_list_is_refused_by_name() -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_webhook_url("http://169.254.169.254/latest/meta-data", ("hooks.example.com",))
    assert caught.value.errors == [
        "notify.webhookUrl host 169.254.169.254 is not allowed:"
        " it is not on this installation's webhook allow-list"
    ]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://hooks.example.com/x", "absolute http or https URL"),
        ("HTTPS://hooks.example.com/x", "absolute http or https URL"),
        ("hooks.example.com/x", "absolute http or https URL"),
        ("https:///x", "absolute http or https URL"),
        ("https://hooks.example.com/a b", "absolute http or https URL"),
        ("https://hooks.example.com\\@evil.net/", "absolute http or https URL"),
        ("https://hooks.example.com:99999/", "absolute http or https URL"),
        ("https://u:p@hooks.example.com/", "user name or password"),
        ("https://evil.net@hooks.example.com/", "user name or password"),
        ("https://hooks.example.com/#x", "#fragment"),
        ("https://hooks.example.com/" + "a" * 2100, "at most 2048 characters"),
        (42, "must be a string"),
    ],
)
def test_malformed_urls_are_refused(url: Any, reason: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_webhook_url(url, ("hooks.example.com",))
    [message] = caught.value.errors
    assert message.startswith("notify.webhookUrl ") and reason in message


def test_an_allowed_url_is_kept_as_given() -> None:
    url = "https://hooks.example.com:8443/in?team=7"
    assert check_webhook_url(url, ("hooks.example.com",)) == url
    assert parse_notify({"webhookUrl": url}, ("hooks.example.com",)) == url
    assert parse_notify(None, ()) is None
    assert parse_notify({"webhookUrl": None}, ()) is None


def test_notify_must_be_an_object_of_known_fields() -> None:
    with pytest.raises(InvalidRequest, match="notify must be an object"):
        parse_notify("https://x", ())
    with pytest.raises(InvalidRequest) as caught:
        parse_notify({"slack": "#x", "webhookUrl": "https://x.example/"}, ())
    assert caught.value.errors[0] == "property notify.slack should not exist"
    assert "not allowed" in caught.value.errors[1]


# --- the event --------------------------------------------------------------------------


def test_the_event_id_is_stable_per_export_and_phase() -> None:
    first = event_id(export("COMPLETED"))
    assert uuid.UUID(first).version == 5
    assert event_id(export("COMPLETED")) == first
    assert event_id(export("FAILED")) != first
    assert event_id(export("COMPLETED", uid="another-uid")) != first


def test_event_types() -> None:
    assert event_type(export("COMPLETED")) == "export.completed"
    assert event_type(export("FAILED")) == "export.failed"
    assert event_type(export("CANCELLED")) == "export.cancelled"


def test_the_body_is_the_get_body_without_urls() -> None:
    body = webhook_body(export(), "e-1")
    assert body["eventId"] == "e-1" and body["type"] == "export.completed"
    assert body["id"] == "0b7c8a52-4f0e-4a55-9d7e-1a2b3c4d5e6f"
    assert body["status"] == "COMPLETED" and body["actualRowCount"] == 10
    assert not {"downloadUrl", "downloadUrlExpiresAt", "notify"} & set(body)
    encoded = encode_body(body)
    assert b"http" not in encoded and b"exports/k.csv" not in encoded
    assert json.loads(encoded) == body


def test_the_install_docs_python_snippet_verifies_what_sign_signs() -> None:
    """docs/install.md#verifying-the-signature: the snippet receivers copy works."""
    import re
    import time
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "install.md").read_text("utf-8")
    snippet = re.search(r"### Verifying the signature.*?```python\n(.*?)```", doc, re.S)
    assert snippet is not None
    namespace: dict[str, Any] = {}
    exec(snippet.group(1).split("# e.g.")[0], namespace)  # noqa: S102 - our own doc
    documented = namespace["verify"]
    body, now = b'{"eventId":"e"}', int(time.time())
    documented(sign(SECRET, now, body), body, SECRET)
    with pytest.raises(ValueError, match="replay"):
        documented(sign(SECRET, now - 301, body), body, SECRET)
    with pytest.raises(ValueError, match="bad signature"):
        documented(sign(SECRET, now, body), b'{"eventId":"f"}', SECRET)
