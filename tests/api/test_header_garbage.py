"""A request whose headers the parser refuses (a NUL byte) is a 400 and one WARNING line:
bad input from a client is not a server error, so no ERROR and no traceback."""

from __future__ import annotations

import asyncio
import logging

import pytest
from api_support import Client


async def raw_request(client: Client, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        writer.write(payload)
        await writer.drain()
        return await asyncio.wait_for(reader.read(65536), 10)
    finally:
        writer.close()
        await writer.wait_closed()


async def test_nul_in_a_header_is_400_and_one_warning(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answer = await raw_request(
        client, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\nConnection: close\r\n\r\n"
    )
    assert answer.split(b" ", 2)[1] == b"400", answer
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert warnings[0].exc_info is None
    assert "400" in warnings[0].getMessage() or "bad request" in warnings[0].getMessage().lower()
