"""The whole system on one machine, each part a separate process as in a cluster.

PostgreSQL (embedded, or `DATABASE_URL`), moto's S3 server, an SMTP sink writing `.eml`
files, a webhook receiver that verifies signatures (`devstack.webhooksink`; its host and port
are the API's and the operator's whole allow-list), the Kubernetes API stand-in with the
Export CRD, the local Job runner, the operator and the API. Used by `make demo`, `make up`
and the end-to-end tests. Development only.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import shutil
import socket
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lightkube import codecs

from devstack import demo_data, services, webhooksink
from devstack.processes import StackError, Supervisor, free_port, http_ok, port_open
from streamexport_core.kube import sync_client

REPO = Path(__file__).resolve().parent.parent
CRD = REPO / "crds" / "exports.streamexport.io.yaml"
NAMESPACE = "default"
BUCKET = "streamexport-demo"
JWT_SECRET = "development-only-secret-change-me-0123456789"  # noqa: S105 - local stack only
WEBHOOK_SECRET = "development-only-webhook-secret-0123456789"  # noqa: S105 - local stack only


@dataclass
class Ports:
    """Defaults keep clear of common local services (5432, 8080, 9000, 25, 6443...)."""

    kube: int = 18443
    api: int = 18080
    s3: int = 18900
    smtp: int = 18025
    operator_health: int = 18081
    operator_metrics: int = 18090
    webhook: int = 18095

    @classmethod
    def from_env(cls) -> Ports:
        ports = cls()
        for name in (f.name for f in dataclasses.fields(cls)):
            value = os.environ.get(f"STACK_{name.upper()}_PORT")
            if value:
                setattr(ports, name, int(value))
        return ports

    @classmethod
    def random(cls) -> Ports:
        return cls(*(free_port() for _ in dataclasses.fields(cls)))

    def in_use(self, host: str = "127.0.0.1") -> list[str]:
        """ "port N (STACK_X_PORT)" for each port something already listens on."""
        busy = []
        for name, port in vars(self).items():
            with socket.socket() as sock:
                try:
                    sock.bind((host, port))
                except OSError:
                    busy.append(f"port {port} (STACK_{name.upper()}_PORT)")
        return busy


@dataclass
class StackConfig:
    root: Path
    ports: Ports = field(default_factory=Ports)
    rows: int = 500_000
    operator_env: Mapping[str, str] = field(default_factory=dict)
    api_env: Mapping[str, str] = field(default_factory=dict)
    runner_backoff_seconds: float = 1.0
    # A resource catalog for the API, the operator and the exporters instead of the packaged
    # one (in a cluster: the chart's catalog ConfigMap).
    catalog: Path | None = None


class Stack:
    """`with Stack(config) as stack:` starts everything and always stops everything."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.ports = config.ports
        self.supervisor = Supervisor(config.root / "logs")
        self.mail_dir = config.root / "mail"
        self.webhook_dir = config.root / "webhooks"
        self.postgres: services.Postgres | None = None
        self.database_url = ""

    # URLs -------------------------------------------------------------------------------
    @property
    def kube_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.kube}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.api}"

    @property
    def s3_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.s3}"

    @property
    def webhook_url(self) -> str:
        """A `notify.webhookUrl` the stack delivers to: its receiver, on the allow-list."""
        return f"http://127.0.0.1:{self.ports.webhook}/hooks/exports"

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        """What the receiver has accepted (verified signatures only), oldest first."""
        return webhooksink.read_deliveries(self.webhook_dir)

    # lifecycle --------------------------------------------------------------------------
    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, progress: Any = print) -> None:
        root = self.config.root
        busy = self.ports.in_use()
        if busy:
            # Before anything starts: talking to an earlier stack's stand-in fails much later
            # and far from the cause (a 409 while seeding Secrets).
            raise StackError(
                f"{', '.join(busy)} already in use (an earlier `make up` still running?):"
                " stop what holds it, or set the variable to a free port"
            )
        for folder in (self.mail_dir, self.webhook_dir):
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
        progress("starting PostgreSQL")
        self.postgres = services.start_postgres()
        self.database_url = self.postgres.url
        if self.config.rows:
            progress(f"loading {self.config.rows:,} demo transactions")
            demo_data.load(self.database_url, self.config.rows, drop=True)
        self._start_s3(progress)
        self._start_smtp(progress)
        self._start_webhooksink(progress)
        self._start_kube(progress)
        self._seed_kube()
        progress("starting the local Job runner")
        self.supervisor.start(
            "jobrunner",
            [
                "python",
                "-m",
                "devstack.jobrunner",
                "--kube-url",
                self.kube_url,
                "--workdir",
                str(root / "pods"),
                "--backoff-seconds",
                str(self.config.runner_backoff_seconds),
                *self._catalog_args(),
            ],
        )
        self._start_operator(progress)
        self._start_api(progress)

    def stop(self) -> None:
        self.supervisor.stop_all()
        if self.postgres is not None:
            self.postgres.stop()
            self.postgres = None

    def check(self) -> None:
        self.supervisor.check()

    # parts ------------------------------------------------------------------------------
    def _start_s3(self, progress: Any) -> None:
        progress("starting the S3 server (moto)")
        moto = Path(sys.executable).with_name("moto_server")
        command = [str(moto)] if moto.exists() else ["python", "-m", "moto.server"]
        child = self.supervisor.start(
            "s3",
            [*command, "-H", "127.0.0.1", "-p", str(self.ports.s3)],
            env={**services.DUMMY_CREDENTIALS, "PYTHONWARNINGS": "ignore"},
        )
        self.supervisor.wait_until(
            child, lambda: port_open("127.0.0.1", self.ports.s3), what="S3 port"
        )
        client = self.s3_client()
        client.create_bucket(Bucket=BUCKET)

    def s3_client(self) -> Any:
        return services.s3_client(self.s3_url)

    def _start_smtp(self, progress: Any) -> None:
        progress("starting the mail sink")
        child = self.supervisor.start(
            "mailsink",
            [
                "python",
                "-m",
                "devstack.mailsink",
                "--port",
                str(self.ports.smtp),
                "--dir",
                str(self.mail_dir),
            ],
        )
        self.supervisor.wait_until(
            child, lambda: port_open("127.0.0.1", self.ports.smtp), what="SMTP port"
        )

    def _start_webhooksink(self, progress: Any) -> None:
        progress("starting the webhook receiver")
        child = self.supervisor.start(
            "webhooksink",
            [
                "python",
                "-m",
                "devstack.webhooksink",
                "--port",
                str(self.ports.webhook),
                "--dir",
                str(self.webhook_dir),
            ],
            env={"WEBHOOK_SECRET": WEBHOOK_SECRET},
        )
        self.supervisor.wait_until(
            child, lambda: port_open("127.0.0.1", self.ports.webhook), what="webhook port"
        )

    def _webhook_env(self) -> dict[str, str]:
        """The allow-list names only the stack's receiver (its port too)."""
        return {"WEBHOOK_ALLOWED_HOSTS": f"127.0.0.1:{self.ports.webhook}"}

    def _start_kube(self, progress: Any) -> None:
        progress("starting the Kubernetes API stand-in")
        child = self.supervisor.start(
            "kubeapi",
            [
                "python",
                "-m",
                "devstack.kubeapi",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.ports.kube),
                "--crd",
                str(CRD),
            ],
        )
        self.supervisor.wait_until(
            child, lambda: http_ok(self.kube_url + "/version"), what="/version"
        )

    def _seed_kube(self) -> None:
        """The Secrets a cluster admin would create before `helm install`."""

        def secret(name: str, data: Mapping[str, str]) -> None:
            body = {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": name, "namespace": NAMESPACE},
                "type": "Opaque",
                "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
            }
            with sync_client(self.kube_url) as kube:
                kube.create(codecs.from_dict(body))

        # The exporter's ServiceAccount, as the chart creates it: an operator watching more than
        # one namespace checks for it before it creates a Job (prerequisites.py).
        account = {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "streamexport-exporter", "namespace": NAMESPACE},
        }
        with sync_client(self.kube_url) as kube:
            kube.create(codecs.from_dict(account))
        secret("streamexport-database", {"DATABASE_URL": self.database_url})
        secret(
            "streamexport-s3",
            {
                "AWS_ACCESS_KEY_ID": services.DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                "AWS_SECRET_ACCESS_KEY": services.DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            },
        )

    def _catalog_args(self) -> list[str]:
        if self.config.catalog is None:
            return []
        return ["--container-env", f"STREAMEXPORT_CATALOG={self.config.catalog}"]

    def common_env(self) -> dict[str, str]:
        return {
            "KUBERNETES_API_URL": self.kube_url,
            "S3_BUCKET": BUCKET,
            "S3_ENDPOINT_URL": self.s3_url,
            "AWS_REGION": services.REGION,
            **services.DUMMY_CREDENTIALS,
            **({"STREAMEXPORT_CATALOG": str(self.config.catalog)} if self.config.catalog else {}),
        }

    def restart_operator(self, **env: str) -> None:
        """Stop the operator and start it again with `env` on top of its configuration."""
        self.supervisor.stop("operator")
        self._start_operator(lambda _: None, env)

    def stop_s3(self) -> None:
        """Take S3 away (moto keeps objects in memory: they are lost)."""
        self.supervisor.stop("s3")

    def start_s3(self) -> None:
        self._start_s3(lambda _: None)

    def _start_operator(self, progress: Any, extra: Mapping[str, str] | None = None) -> None:
        progress("starting the operator (kopf)")
        env = {
            **self.common_env(),
            "OPERATOR_NAMESPACES": NAMESPACE,
            "OPERATOR_LIVENESS_PORT": str(self.ports.operator_health),
            "OPERATOR_METRICS_PORT": str(self.ports.operator_metrics),
            "EXPORTER_IMAGE": "streamexport-exporter:local",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.ports.smtp),
            "SMTP_SECURITY": "none",
            "SMTP_FROM": "streamexport <exports@streamexport.local>",
            "API_PUBLIC_URL": self.api_url,
            **self._webhook_env(),
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "WEBHOOK_TIMEOUT_SECONDS": "5",
            "WEBHOOK_RETRY_INITIAL_SECONDS": "1",
            "WEBHOOK_RETRY_MAX_SECONDS": "10",
            **self.config.operator_env,
            **(extra or {}),
        }
        child = self.supervisor.start(
            "operator", ["python", "-m", "streamexport_operator"], env=env
        )
        self.supervisor.wait_until(
            child,
            lambda: http_ok(f"http://127.0.0.1:{self.ports.operator_health}/healthz"),
            timeout=60,
            what="liveness endpoint",
        )

    def _api_env(self) -> dict[str, str]:
        return {
            **self.common_env(),
            "DATABASE_URL": self.database_url,
            "API_HOST": "127.0.0.1",
            "API_PORT": str(self.ports.api),
            "EXPORT_NAMESPACE": NAMESPACE,
            "JWT_SECRET": JWT_SECRET,
            **self._webhook_env(),
            **self.config.api_env,
        }

    def _start_api(self, progress: Any) -> None:
        progress("starting the API")
        child = self.supervisor.start("api", ["python", "-m", "api"], env=self._api_env())
        self.supervisor.wait_until(
            child, lambda: http_ok(self.api_url + "/readyz"), timeout=60, what="/readyz"
        )

    @contextmanager
    def api_ahead(self, seconds: float) -> Iterator[str]:
        """A second API, on its own port, whose clock runs `seconds` ahead (it sees exports
        expire without waiting); yields its URL and stops it afterwards."""
        port = free_port()
        env = {**self._api_env(), "API_PORT": str(port)}
        command = ["python", "-m", "devstack.timeshift", str(seconds), "api"]
        child = self.supervisor.start("api-ahead", command, env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            self.supervisor.wait_until(
                child, lambda: http_ok(url + "/readyz"), timeout=60, what="/readyz"
            )
            yield url
        finally:
            self.supervisor.stop("api-ahead")

    def token(
        self,
        sub: str,
        email: str,
        roles: tuple[str, ...] = (),
        ttl: int = 12 * 3600,
        claims: Mapping[str, Any] | None = None,
    ) -> str:
        """A token the stack's API accepts; `claims` adds e.g. `{"merchantId": 1}`, the claim
        that scopes TRANSACTIONS in the packaged catalog."""
        from api.devtoken import mint_token

        return mint_token(
            JWT_SECRET, sub=sub, email=email, roles=roles, ttl=ttl, extra_claims=claims
        )
