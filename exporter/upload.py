"""Upload to S3 while the file is still being produced: multipart, bounded memory, abort on failure.

`ObjectWriter.write(block)` collects bytes into parts of `part_size`; ONE background thread
uploads them in order while the caller keeps producing (reading and uploading overlap). Each
part in flight holds one of `MAX_PARTS_IN_MEMORY` tokens, so at most that many parts exist
at once: one uploading, one filling. Output smaller than one part is a single PutObject.

Leaving the `with` block with an exception (database error, S3 error, SIGTERM, ...) aborts
the multipart upload, retried until `abort_timeout`: no orphan parts, no partial object.
The S3 client is created on the upload thread, so importing botocore overlaps the database work.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from exporter.errors import StorageError
from exporter.logs import get_logger

MAX_PARTS_IN_MEMORY = 2
_POLL = 0.2
_JOIN_TIMEOUT = 15.0

S3Client = Any  # botocore builds client classes at run time


def make_s3_client(endpoint_url: str | None, region: str | None) -> S3Client:
    """An S3 client; credentials come from the usual chain (env/Secret, IRSA, ...).

    Made by botocore, the library under boto3, whose clients are these same objects: boto3
    adds resources and s3transfer's managed transfers (none used here), and importing it
    and building its client cost ~0.36 s of CPU per run where botocore's cost ~0.19 s.
    """
    import botocore.session
    from botocore.config import Config

    s3: dict[str, Any] = {
        # Integrity comes from the CRC32 checksum on every part; SHA-256 payload signing
        # (which botocore does on plain-HTTP endpoints) would hash every byte a second time.
        "payload_signing_enabled": False,
    }
    if endpoint_url:
        s3["addressing_style"] = "path"
    config = Config(
        s3=s3,
        retries={"mode": "standard"},
        connect_timeout=10,
        read_timeout=120,
        max_pool_connections=2,
        user_agent_extra="streamexport",
    )
    session = botocore.session.get_session()
    return session.create_client(
        "s3", endpoint_url=endpoint_url, region_name=region, config=config
    )


class EarlyClient:
    """A client factory whose first client is being made, on a thread of its own, from the
    moment this is constructed: the export starts it before it connects, so that importing
    botocore and building the client (~0.2 s of CPU) overlap the connection, the COUNT and
    the first rows instead of stalling the first upload part (measured: the first part
    waited 0.45 s for a client started after the COUNT). Later calls make fresh clients (the
    abort's retries), like the factory itself.
    """

    def __init__(self, factory: Callable[[], S3Client], *, timeout: float = 60.0) -> None:
        self._factory = factory
        self._timeout = timeout
        self._client: S3Client | None = None
        self._error: BaseException | None = None
        self._taken = False
        self._thread = threading.Thread(target=self._make, name="s3-client", daemon=True)
        self._thread.start()

    def _make(self) -> None:
        try:
            self._client = self._factory()
        except BaseException as exc:  # raised to the caller of the first client
            self._error = exc

    def __call__(self) -> S3Client:
        if self._taken:
            return self._factory()
        self._taken = True
        self._thread.join(self._timeout)
        if self._thread.is_alive():
            raise StorageError(f"the S3 client was not ready after {self._timeout:g} s")
        if self._error is not None:
            raise self._error
        return self._client


@dataclass(frozen=True)
class ObjectTarget:
    bucket: str
    key: str
    content_type: str
    content_disposition: str
    metadata: Mapping[str, str] = field(default_factory=dict)

    def object_args(self) -> dict[str, Any]:
        return {
            "Bucket": self.bucket,
            "Key": self.key,
            "ContentType": self.content_type,
            "ContentDisposition": self.content_disposition,
            "Metadata": dict(self.metadata),
        }


@dataclass(frozen=True)
class UploadOutcome:
    bytes: int
    sha256: str
    parts: int
    etag: str


class _Part:
    __slots__ = ("body", "last", "number")

    def __init__(self, number: int, body: bytearray, last: bool) -> None:
        self.number = number
        self.body = body
        self.last = last


class ObjectWriter:
    """Streams bytes to one S3 object; a context manager that aborts on failure."""

    def __init__(
        self,
        client_factory: Callable[[], S3Client],
        target: ObjectTarget,
        *,
        part_size: int,
        abort_timeout: float = 20.0,
    ) -> None:
        self._target = target
        self._part_size = part_size
        self._abort_timeout = abort_timeout
        self._log = get_logger("exporter.upload")
        self._client_factory = client_factory
        self._client: S3Client | None = None
        self._tokens = threading.Semaphore(MAX_PARTS_IN_MEMORY)
        self._queue: queue.SimpleQueue[_Part | None] = queue.SimpleQueue()
        self._current: bytearray | None = None
        self._next_number = 1
        self._error: BaseException | None = None
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._sha256 = hashlib.sha256()
        self._bytes = 0
        self._etag = ""
        self._finished = False
        self._closed = False
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="s3-upload", daemon=True)
        self._thread.start()

    # --- producer side (the caller's thread) --------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._current is None:
            self._acquire_token()
            self._current = bytearray()
        self._current += data
        if len(self._current) >= self._part_size:
            self._hand_over(last=False)

    def finish(self) -> UploadOutcome:
        """Upload what is left, complete the upload and wait for it."""
        if self._current is None:
            self._acquire_token()
            self._current = bytearray()
        self._hand_over(last=True)
        while self._thread.is_alive():
            self._thread.join(_POLL)
        self._raise_if_failed()
        self._finished = True
        self._close_client()
        return UploadOutcome(self._bytes, self._sha256.hexdigest(), len(self._parts), self._etag)

    def _hand_over(self, *, last: bool) -> None:
        assert self._current is not None
        self._queue.put(_Part(self._next_number, self._current, last))
        self._next_number += 1
        self._current = None

    def _acquire_token(self) -> None:
        while not self._tokens.acquire(timeout=_POLL):
            self._raise_if_failed()
        self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise StorageError(f"S3 upload failed: {self._error}") from self._error
        if not self._thread.is_alive() and not self._etag:
            raise StorageError("S3 upload thread stopped before the upload was complete")

    # --- upload thread -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._client = self._client_factory()
            while (part := self._queue.get()) is not None:
                if not self._stopping.is_set():  # after abort(): drain, upload nothing more
                    self._upload(part)
                part.body = bytearray()  # free the part before waiting for the next
                self._tokens.release()
                if part.last:
                    return
        except BaseException as exc:
            self._error = exc
            self._log.warning("upload_failed", error=" ".join(str(exc).split()))

    def _upload(self, part: _Part) -> None:
        client = self._client
        assert client is not None
        body = part.body
        self._sha256.update(body)
        self._bytes += len(body)
        if part.number == 1 and part.last:
            response = client.put_object(Body=body, **self._target.object_args())
            self._etag = response["ETag"]
            self._log.debug("put_object", bytes=len(body))
            return
        if self._upload_id is None:
            created = client.create_multipart_upload(
                ChecksumAlgorithm="CRC32", **self._target.object_args()
            )
            self._upload_id = created["UploadId"]
            self._log.info("multipart_upload_created", upload_id=self._upload_id)
        common = {"Bucket": self._target.bucket, "Key": self._target.key}
        if body:
            started = time.monotonic()
            response = client.upload_part(
                Body=body,
                PartNumber=part.number,
                UploadId=self._upload_id,
                ChecksumAlgorithm="CRC32",
                **common,
            )
            entry = {"PartNumber": part.number, "ETag": response["ETag"]}
            if response.get("ChecksumCRC32"):
                entry["ChecksumCRC32"] = response["ChecksumCRC32"]
            self._parts.append(entry)
            self._log.debug(
                "part_uploaded",
                part=part.number,
                bytes=len(body),
                seconds=f"{time.monotonic() - started:.3f}",
            )
        if part.last:
            completed = client.complete_multipart_upload(
                UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}, **common
            )
            self._etag = completed["ETag"]

    # --- failure -------------------------------------------------------------------------

    def abort(self) -> None:
        """Stop the upload thread and abort the multipart upload (retried until the deadline)."""
        if self._closed:
            return
        self._closed = True
        self._stopping.set()
        self._current = None
        self._queue.put(None)
        self._thread.join(_JOIN_TIMEOUT)
        if self._thread.is_alive():
            self._log.warning("upload_thread_still_running", upload_id=self._upload_id)
        if self._upload_id is not None and not self._etag:
            self._abort_with_retries(self._upload_id)
        if not self._thread.is_alive():
            self._close_client()

    def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def _abort_with_retries(self, upload_id: str) -> None:
        deadline = time.monotonic() + self._abort_timeout
        delay = 0.25
        attempt = 0
        while True:
            attempt += 1
            try:
                client = self._client or self._client_factory()
                client.abort_multipart_upload(
                    Bucket=self._target.bucket, Key=self._target.key, UploadId=upload_id
                )
                self._log.info("multipart_upload_aborted", upload_id=upload_id, attempt=attempt)
                return
            except Exception as exc:
                response = getattr(exc, "response", None) or {}
                code = response.get("Error", {}).get("Code")
                if code == "NoSuchUpload":
                    self._log.info("multipart_upload_aborted", upload_id=upload_id, note=code)
                    return
                message = " ".join(str(exc).split())
                if time.monotonic() + delay > deadline:
                    self._log.error(
                        "abort_failed", upload_id=upload_id, attempts=attempt, error=message
                    )
                    return
                self._log.warning(
                    "abort_retry", upload_id=upload_id, attempt=attempt, error=message
                )
                time.sleep(delay)
                delay = min(delay * 2, 4.0)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None or not self._finished:
            self.abort()
