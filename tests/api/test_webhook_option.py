"""`notify.webhookUrl`: refused (400 naming it) unless its host is on WEBHOOK_ALLOWED_HOSTS,
which is empty by default; an allowed one is recorded in the immutable spec, answered in the
GET body, part of the Idempotency-Key's request, and valid against the CRD."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from api_support import EXPORTS, USER_A, VALID_BODY, Client, MakeClient
from test_export_schema import crd_schema

from api.settings import Settings
from devstack.kubeclient import Export, KubeClient
from streamexport_core.errors import SettingsError

HOOK = "https://hooks.example.com/streamexport?team=7"


async def post(client: Client, body: Any, **headers: str) -> tuple[int, Any]:
    response = await client.post(EXPORTS, json=body, headers={**USER_A, **headers})
    return response.status, await response.json()


async def test_every_webhook_is_refused_by_default(client: Client) -> None:
    status, answer = await post(client, {**VALID_BODY, "notify": {"webhookUrl": HOOK}})
    assert status == 400
    assert answer["message"] == [
        "notify.webhookUrl host hooks.example.com is not allowed:"
        " this installation allows no webhook hosts"
    ]


async def test_a_host_off_the_list_is_refused(make_client: MakeClient) -> None:
    client = await make_client(webhook_allowed_hosts=("hooks.example.com",))
    for url in ("http://127.0.0.1:8080/", "http://metadata.google.internal/", "https://x.example/"):
        status, answer = await post(client, {**VALID_BODY, "notify": {"webhookUrl": url}})
        assert status == 400, url
        [message] = answer["message"]
        assert message.startswith("notify.webhookUrl host ") and "is not allowed" in message


async def test_bad_notify_values_are_400s_naming_the_field(make_client: MakeClient) -> None:
    client = await make_client(webhook_allowed_hosts=("hooks.example.com",))
    cases = {
        "https://u:p@hooks.example.com/": "notify.webhookUrl must not carry a user name",
        "ftp://hooks.example.com/": "notify.webhookUrl must be an absolute http or https URL",
    }
    for url, expected in cases.items():
        status, answer = await post(client, {**VALID_BODY, "notify": {"webhookUrl": url}})
        assert status == 400 and answer["message"][0].startswith(expected), answer
    status, answer = await post(client, {**VALID_BODY, "notify": {"sms": "+49"}})
    assert (status, answer["message"]) == (400, ["property notify.sms should not exist"])
    status, answer = await post(client, {**VALID_BODY, "notify": "yes"})
    assert (status, answer["message"]) == (400, ["notify must be an object"])


async def test_an_allowed_webhook_is_recorded_and_answered(
    make_client: MakeClient, kube: KubeClient, namespace: str
) -> None:
    client = await make_client(webhook_allowed_hosts=("*.example.com",))
    status, answer = await post(client, {**VALID_BODY, "notify": {"webhookUrl": HOOK}})
    assert status == 202, answer
    export = await kube.get(Export, answer["exportId"], namespace=namespace)
    assert export["spec"]["notify"] == {"webhookUrl": HOOK}
    jsonschema.validate(export, crd_schema())
    got = await (await client.get(f"{EXPORTS}/{answer['exportId']}", headers=USER_A)).json()
    assert got["notify"] == {"webhookUrl": HOOK}


async def test_without_a_webhook_the_get_body_says_null(
    client: Client, kube: KubeClient, namespace: str
) -> None:
    status, answer = await post(client, {**VALID_BODY, "notify": {"webhookUrl": None}})
    assert status == 202
    export = await kube.get(Export, answer["exportId"], namespace=namespace)
    assert "notify" not in export["spec"]
    got = await (await client.get(f"{EXPORTS}/{answer['exportId']}", headers=USER_A)).json()
    assert got["notify"] == {"webhookUrl": None}


async def test_the_webhook_is_part_of_the_idempotent_request(make_client: MakeClient) -> None:
    client = await make_client(webhook_allowed_hosts=("hooks.example.com",))
    body = {**VALID_BODY, "notify": {"webhookUrl": HOOK}}
    first = await post(client, body, **{"Idempotency-Key": "hook-1"})
    again = await post(client, body, **{"Idempotency-Key": "hook-1"})
    assert first[0] == again[0] == 202 and first[1]["exportId"] == again[1]["exportId"]
    other = {**VALID_BODY, "notify": {"webhookUrl": HOOK + "&x=1"}}
    assert (await post(client, other, **{"Idempotency-Key": "hook-1"}))[0] == 422


def test_the_allow_list_setting_is_read_and_checked() -> None:
    env = {"DATABASE_URL": "postgresql://x", "S3_BUCKET": "b", "JWT_SECRET": "s" * 32}
    assert Settings.from_env(env).webhook_allowed_hosts == ()
    hosts = {**env, "WEBHOOK_ALLOWED_HOSTS": "Hooks.Example.com, *.partner.example"}
    assert Settings.from_env(hosts).webhook_allowed_hosts == (
        "hooks.example.com",
        "*.partner.example",
    )
    with pytest.raises(SettingsError, match="WEBHOOK_ALLOWED_HOSTS"):
        Settings.from_env({**env, "WEBHOOK_ALLOWED_HOSTS": "https://hooks.example.com"})
