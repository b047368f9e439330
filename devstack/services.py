"""Real services for tests, the demo and the benchmark: PostgreSQL, an S3 server, S3 clients.

- `start_postgres()`: `DATABASE_URL` if set, else an embedded PostgreSQL 16 (`pgserver`).
- `start_moto()`: moto's S3 server on a thread of this process (tests; state survives a
  stop/start on the same port, which lets a test take S3 away and bring it back).
- `start_moto_process()`: the same server in its own process (`moto_server`), for the demo
  and the benchmark, so that its CPU and memory are not the caller's.
- `s3_client()`: a boto3 client for such a server: path-style, dummy credentials, us-east-1.

Every `start_*` returns a handle with `.stop()`; handles are also context managers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

S3Client = Any  # botocore builds client classes at run time; no stubs are installed

REGION = "us-east-1"
DUMMY_CREDENTIALS: Mapping[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


class _Handle:
    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# --- PostgreSQL -------------------------------------------------------------------------


@dataclass
class Postgres(_Handle):
    """A PostgreSQL server; `url` is a libpq URL for its maintenance database."""

    url: str
    embedded: bool
    _server: Any = field(default=None, repr=False)
    _tmpdir: str | None = field(default=None, repr=False)

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None


def start_postgres(data_dir: str | Path | None = None) -> Postgres:
    """`$DATABASE_URL` if set (never stopped by us), else a fresh embedded server.

    The embedded server listens on a unix socket only and is deleted on `stop()`.
    """
    external = os.environ.get("DATABASE_URL")
    if external:
        return Postgres(url=external, embedded=False)
    with warnings.catch_warnings():
        # platformdirs warns at pgserver's import when XDG_RUNTIME_DIR is unset (containers).
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", category=UserWarning)
        from pgserver.postgres_server import get_server

    tmpdir = None
    if data_dir is None:
        tmpdir = tempfile.mkdtemp(prefix="streamexport-pg-")
        data_dir = Path(tmpdir) / "pgdata"
    server = get_server(Path(data_dir), cleanup_mode="delete")
    return Postgres(url=server.get_uri(), embedded=True, _server=server, _tmpdir=tmpdir)


def with_database(url: str, dbname: str) -> str:
    """The same server and credentials as `url`, database `dbname` (URL or key=value form)."""
    if url.startswith(("postgresql://", "postgres://")):
        parts = urllib.parse.urlsplit(url)
        return urllib.parse.urlunsplit(parts._replace(path="/" + urllib.parse.quote(dbname)))
    from psycopg.conninfo import make_conninfo

    return make_conninfo(url, dbname=dbname)


# --- S3 (moto) --------------------------------------------------------------------------


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the caller binds it right away)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float = 15.0) -> None:
    """Poll until something accepts TCP connections on host:port, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s") from None
            time.sleep(0.05)


@dataclass
class MotoThread(_Handle):
    """moto's S3 server on a thread of this process."""

    host: str
    port: int
    _server: Any = field(default=None, repr=False)

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """(Re)start on the same port; moto's state lives in this process and is kept."""
        if self._server is not None:
            return
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()

    def stop(self) -> None:
        """Stop serving: connections are refused until `start()`."""
        if self._server is not None:
            self._server.stop()
            self._server = None


def start_moto(host: str = "127.0.0.1", port: int | None = None) -> MotoThread:
    handle = MotoThread(host=host, port=port or free_port(host))
    handle.start()
    return handle


@dataclass
class MotoProcess(_Handle):
    """moto's S3 server in its own process (`moto_server`)."""

    host: str
    port: int
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _log: Any = field(default=None, repr=False)

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        if self.process is not None:
            return
        executable = Path(sys.executable).with_name("moto_server")
        command = (
            [str(executable)] if executable.exists() else [sys.executable, "-m", "moto.server"]
        )
        self._log = tempfile.TemporaryFile()
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        self.process = subprocess.Popen(
            [*command, "-H", self.host, "-p", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            self._wait_listening()
        except (TimeoutError, RuntimeError) as exc:
            self._log.seek(0)
            output = self._log.read().decode(errors="replace")[-2000:]
            self.stop()
            raise RuntimeError(f"moto_server on port {self.port} did not start: {output}") from exc

    def _wait_listening(self, timeout: float = 15.0) -> None:
        """Until *our* process listens on the port (another one may hold it already)."""
        import psutil

        assert self.process is not None
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self.process.returncode}")
            try:
                sockets = psutil.Process(self.process.pid).net_connections(kind="tcp")
            except psutil.Error:
                sockets = []
            if any(s.status == psutil.CONN_LISTEN and s.laddr.port == self.port for s in sockets):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"moto_server not listening on {self.port} after {timeout}s")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> None:
        """A fresh server on the same port (moto keeps objects in memory: this frees it)."""
        self.stop()
        self.start()


def start_moto_process(host: str = "127.0.0.1", port: int | None = None) -> MotoProcess:
    handle = MotoProcess(host=host, port=port or free_port(host))
    handle.start()
    return handle


def s3_client(endpoint_url: str, region: str = REGION, **config: Any) -> S3Client:
    """A boto3 S3 client for a local server: path-style addressing, dummy credentials."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=region,
    )
    options: dict[str, Any] = {"s3": {"addressing_style": "path"}, **config}
    return session.client("s3", endpoint_url=endpoint_url, config=Config(**options))


def empty_bucket(client: S3Client, bucket: str) -> None:
    """Abort every multipart upload and delete every object of `bucket`."""
    with contextlib.suppress(client.exceptions.NoSuchBucket):
        for upload in client.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            client.abort_multipart_upload(
                Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            )
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=bucket, Delete={"Objects": keys})
