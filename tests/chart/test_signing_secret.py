"""`s3.signingSecret`: the API and the operator (not the export Job) sign download links with
a dedicated long-lived key from its own Secret; without it they sign with their own
credentials (and cap links at those credentials' expiry)."""

from __future__ import annotations

from chart_helpers import Rendered, container_env

from streamexport_core.presign import SIGNING_ACCESS_KEY_ENV, SIGNING_SECRET_KEY_ENV

SIGNING = (SIGNING_ACCESS_KEY_ENV, SIGNING_SECRET_KEY_ENV)


def _env(rendered: Rendered, component: str) -> dict[str, object]:
    pod = rendered.one("Deployment", component)["spec"]["template"]["spec"]
    return container_env(pod["containers"][0])


def test_the_signing_secret_reaches_the_api_and_the_operator(all_on: Rendered) -> None:
    for component in ("api", "operator"):
        env = _env(all_on, component)
        for name in SIGNING:
            ref = env[name]
            assert isinstance(ref, dict)
            assert ref["secretKeyRef"] == {"name": "streamexport-signing", "key": name}


def test_without_a_signing_secret_no_signing_variables(defaults: Rendered) -> None:
    for component in ("api", "operator"):
        assert not set(SIGNING) & set(_env(defaults, component))
