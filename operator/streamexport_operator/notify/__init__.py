"""Notification emails: templates rendered from the export's outcome, sent through SMTP."""

from streamexport_operator.notify.render import (
    Email,
    build_message,
    email_context,
    render_email,
)
from streamexport_operator.notify.smtp import send_message

__all__ = ["Email", "build_message", "email_context", "render_email", "send_message"]
