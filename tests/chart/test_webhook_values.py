"""`webhooks.*`: the allow-list reaches the API and the operator (empty by default: every
webhook refused), the signing secret only the operator, from the named Secret; an allow-list
without a secret does not render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import helm_python
import pytest
from chart_helpers import Obj, Rendered, container_env

from api.settings import Settings as ApiSettings
from streamexport_operator.settings import Settings as OperatorSettings

HOSTS = "hooks.example.com,*.partner.example,10.0.0.7:8443"


def _env(rendered: Rendered, component: str) -> dict[str, object]:
    pod = rendered.one("Deployment", component)["spec"]["template"]["spec"]
    return container_env(pod["containers"][0])


def test_nothing_is_allowed_by_default(defaults: Rendered) -> None:
    for component in ("api", "operator"):
        env = _env(defaults, component)
        assert env["WEBHOOK_ALLOWED_HOSTS"] == ""
        assert "WEBHOOK_SECRET" not in env
    operator = _env(defaults, "operator")
    assert operator["WEBHOOK_TIMEOUT_SECONDS"] == "10"
    assert operator["WEBHOOK_MAX_ATTEMPTS"] == "12"


def test_the_allow_list_and_the_secret_reach_their_readers(all_on: Rendered) -> None:
    api, operator = _env(all_on, "api"), _env(all_on, "operator")
    assert api["WEBHOOK_ALLOWED_HOSTS"] == operator["WEBHOOK_ALLOWED_HOSTS"] == HOSTS
    assert "WEBHOOK_SECRET" not in api  # the API never signs
    assert operator["WEBHOOK_SECRET"] == {
        "secretKeyRef": {"name": "streamexport-webhooks", "key": "signing-key"}
    }
    assert operator["WEBHOOK_RETRY_INITIAL_SECONDS"] == "2.5"
    hosts = {"WEBHOOK_ALLOWED_HOSTS": HOSTS}
    expected = ("hooks.example.com", "*.partner.example", "10.0.0.7:8443")
    base = {"DATABASE_URL": "postgresql://x", "S3_BUCKET": "b", "JWT_SECRET": "s" * 32}
    assert ApiSettings.from_env({**base, **hosts}).webhook_allowed_hosts == expected
    settings = OperatorSettings.from_env(
        {"EXPORTER_IMAGE": "x", "S3_BUCKET": "b", "OPERATOR_NAMESPACES": "d", **hosts}
    )
    assert settings.webhook_allowed_hosts == expected


def test_an_allow_list_without_a_secret_does_not_render(
    render: Callable[[dict[str, Any]], list[Obj]],
) -> None:
    with pytest.raises(Exception, match=r"webhooks\.allowedHosts needs webhooks\.secretName"):
        render({"webhooks": {"allowedHosts": ["hooks.example.com"]}})


def test_the_schema_refuses_a_url_where_a_host_belongs(
    render: Callable[[dict[str, Any]], list[Obj]],
) -> None:
    values = {"webhooks": {"allowedHosts": ["https://hooks.example.com/"], "secretName": "s"}}
    with pytest.raises(helm_python.HelmValuesError, match=r"/webhooks/allowedHosts/0.*pattern"):
        render(values)
