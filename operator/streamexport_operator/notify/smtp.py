"""Sending one message through the configured relay (blocking smtplib; run it in a thread)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from streamexport_operator.settings import Settings


def send_message(message: EmailMessage, settings: Settings) -> None:
    """Deliver `message` with the relay's security mode and optional login; raises on failure."""
    assert settings.smtp_host, "no SMTP_HOST: email is off"
    timeout = settings.smtp_timeout_seconds
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if settings.smtp_security == "tls":
        client = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=timeout, context=context
        )
    else:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    with client:
        if settings.smtp_security == "starttls":
            client.starttls(context=context)
        if settings.smtp_username:
            client.login(settings.smtp_username, settings.smtp_password or "")
        client.send_message(message)
