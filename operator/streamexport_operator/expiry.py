"""Retention: deleting a finished export's file and then the Export itself."""

from __future__ import annotations

import asyncio

from streamexport_operator.exports import is_deleting
from streamexport_operator.kube import Export
from streamexport_operator.logs import export_logger
from streamexport_operator.presign import delete_object
from streamexport_operator.retention import seconds_left
from streamexport_operator.runtime import Runtime


async def expire(runtime: Runtime, namespace: str, name: str) -> bool:
    """Delete the object and the Export if (read fresh) it is due; True when deleted."""
    logger = export_logger(namespace, name)
    async with runtime.lock((namespace, name)):
        export = await runtime.kube.get(Export, name, namespace=namespace)
        if export is None or is_deleting(export):
            return False
        status = export.get("status") or {}
        left = seconds_left(status, runtime.settings.retention_seconds, runtime.clock())
        if left is None or left > 0:
            return False
        key = status.get("objectKey")
        if key:
            # The object first: an Export deleted before its file would leave the file behind.
            await asyncio.to_thread(delete_object, runtime.s3, runtime.settings.s3_bucket, str(key))
        await runtime.kube.delete(Export, name, namespace=namespace)
        logger.info(
            "expired object_key=%s retention_seconds=%.0f",
            key or "-",
            runtime.settings.retention_seconds,
        )
        return True
