"""Requests that aiohttp's parser refuses (a NUL byte in a header, a malformed request line)
are the client's fault: aiohttp answers them 400 itself but logs them at ERROR with a
traceback, before any middleware runs. This filter turns such a record into one WARNING line.
"""

from __future__ import annotations

import logging

from aiohttp.http_exceptions import HttpProcessingError

SERVER_LOGGER = "aiohttp.server"


class BadRequestLogFilter(logging.Filter):
    """Rewrites aiohttp's "Error handling request" records for a 4xx parse error."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError) or not 400 <= (exc.code or 0) < 500:
            return True
        remote = record.args[0] if isinstance(record.args, tuple) and record.args else "-"
        first_line = str(exc.message or type(exc).__name__).strip().splitlines()[0]
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.msg = "bad request refused by the HTTP parser: status=%d remote=%s error=%r"
        record.args = (exc.code, remote, first_line[:200])
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def install() -> None:
    """Once per process: the parser's logger is global."""
    logger = logging.getLogger(SERVER_LOGGER)
    if not any(isinstance(f, BadRequestLogFilter) for f in logger.filters):
        logger.addFilter(BadRequestLogFilter())
