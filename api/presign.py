"""The API's handle on the shared download signer (`streamexport_core.presign`)."""

from __future__ import annotations

import asyncio
import datetime as dt

from api.settings import Settings
from streamexport_core.presign import DownloadLink, DownloadSigner


class Presigner:
    """Signs on the event loop (CPU only, ~30 µs); refreshes role credentials in a thread."""

    def __init__(self, signer: DownloadSigner) -> None:
        self._signer = signer

    @classmethod
    async def create(cls, settings: Settings) -> Presigner:
        """Build the signer in a thread: importing and configuring boto3 takes ~0.5 s."""
        signer = await asyncio.to_thread(
            DownloadSigner.create,
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.aws_region,
        )
        return cls(signer)

    async def download_link(
        self, key: str, expires_in: int, *, file_name: str | None = None
    ) -> DownloadLink:
        """A GET link for `key`, valid `expires_in` seconds or until the credentials expire."""
        if self._signer.refresh_needed():
            await asyncio.to_thread(self._signer.refresh)
        return self._signer.sign(
            key, lifetime_seconds=expires_in, now=dt.datetime.now(dt.UTC), file_name=file_name
        )
