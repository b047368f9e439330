"""Where the Kubernetes client connects, and with what deadline: `KUBERNETES_API_URL`, else the
pod's service account, else a kubeconfig, else a clear SettingsError; every component reads
KUBERNETES_TIMEOUT_SECONDS (default 10) and refuses a bad one by name."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from api.settings import Settings as ApiSettings
from streamexport_core.errors import SettingsError
from streamexport_core.kube import async_client, kube_config
from streamexport_operator.settings import Settings as OperatorSettings

API_ENV = {
    "DATABASE_URL": "postgresql://db/app",
    "S3_BUCKET": "exports",
    "JWT_SECRET": "a-development-secret-of-32-bytes!",
}
OPERATOR_ENV = {"EXPORTER_IMAGE": "registry.example.com/exporter:1.0", "S3_BUCKET": "exports"}


def test_an_api_url_is_a_plain_server_without_credentials() -> None:
    config = kube_config("http://127.0.0.1:18443/").get()
    assert config is not None
    assert config.cluster.server == "http://127.0.0.1:18443"
    assert config.user.token is None and config.user.token_file is None


def test_without_a_url_a_kubeconfig_is_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://k8s.example.com"}}],
                "users": [{"name": "u", "user": {"token": "t0ken"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    config = kube_config(None).get()
    assert config is not None and config.cluster.server == "https://k8s.example.com"


def test_nowhere_to_connect_is_a_clear_settings_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    with pytest.raises(SettingsError, match="KUBERNETES_API_URL is not set"):
        kube_config(None)


def test_a_deadline_must_be_positive() -> None:
    with pytest.raises(SettingsError, match="KUBERNETES_TIMEOUT_SECONDS must be positive"):
        async_client("http://127.0.0.1:1", timeout_seconds=0)


def test_the_api_and_the_operator_default_to_ten_seconds() -> None:
    assert ApiSettings.from_env(API_ENV).kubernetes_timeout_seconds == 10.0
    assert OperatorSettings.from_env(OPERATOR_ENV).kubernetes_timeout_seconds == 10.0
    api = ApiSettings.from_env({**API_ENV, "KUBERNETES_TIMEOUT_SECONDS": "2.5"})
    assert api.kubernetes_timeout_seconds == 2.5


@pytest.mark.parametrize("value", ["soon", "0"])
def test_a_bad_deadline_is_named(value: str) -> None:
    with pytest.raises(SettingsError, match="KUBERNETES_TIMEOUT_SECONDS"):
        ApiSettings.from_env({**API_ENV, "KUBERNETES_TIMEOUT_SECONDS": value})
    with pytest.raises(SettingsError, match="KUBERNETES_TIMEOUT_SECONDS"):
        OperatorSettings.from_env({**OPERATOR_ENV, "KUBERNETES_TIMEOUT_SECONDS": value})
