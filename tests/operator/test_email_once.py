"""Email exactly once as far as SMTP allows: the intent (a stable Message-ID) is recorded
before sending and `sentAt` after. An operator that dies between the relay's "250" and the
status write sends again after its restart, with the same Message-ID, so that mail clients
collapse the two; once `sentAt` is recorded nothing is sent again."""

from __future__ import annotations

import threading
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from jobsim import JobController, create_export, eventually, get_export, result_message
from opharness import OperatorThread

from devstack import mailsink
from devstack.faultproxy import FaultProxy
from devstack.kubeapi import ThreadedKubeAPI
from devstack.services import free_port
from streamexport_operator.kube import Job, KubeClient

Start = Callable[..., OperatorThread]


class CutAfterAccepting(mailsink.FolderHandler):
    """Accepts the message, then takes the Kubernetes API away from the operator: the
    operator's next step, writing `sentAt`, cannot happen."""

    def __init__(self, folder: Path, proxy: FaultProxy) -> None:
        super().__init__(folder)
        self.proxy = proxy
        self.accepted = threading.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        if not self.accepted.is_set():
            self.proxy.cut()
            self.accepted.set()
        return answer


def about(messages: list[EmailMessage], name: str) -> list[EmailMessage]:
    return [m for m in messages if name in str(m["X-Streamexport-Export"])]


async def test_a_crash_between_send_and_record_resends_with_the_same_message_id(
    start_operator: Start, kube: KubeClient, kubeapi: ThreadedKubeAPI, tmp_path: Path
) -> None:
    folder = tmp_path / "mail"
    with FaultProxy(("127.0.0.1", int(kubeapi.url.rsplit(":", 1)[1]))) as proxy:
        handler = CutAfterAccepting(folder, proxy)
        relay = Controller(handler, hostname="127.0.0.1", port=free_port())
        relay.start()
        try:
            first = start_operator(kubernetes_api_url=proxy.url, smtp_port=relay.port)
            name = (await create_export(kube))["metadata"]["name"]

            async def job_exists() -> bool:
                return await kube.get(Job, name, namespace="default") is not None

            await eventually(job_exists)
            await JobController(kube, name).succeed(result_message(name))
            await eventually(lambda: _true(handler.accepted.is_set()), timeout=30)

            intent = ((await get_export(kube, name))["status"]).get("notification") or {}
            assert intent.get("messageId") and "sentAt" not in intent, intent
            first.stop(timeout=30)  # the crash: the operator is gone before it recorded sentAt
            proxy.restore()
            start_operator(kubernetes_api_url=proxy.url, smtp_port=relay.port)

            async def recorded() -> dict[str, Any] | None:
                note = (await get_export(kube, name))["status"].get("notification") or {}
                return note if note.get("sentAt") else None

            note = await eventually(recorded, timeout=30)
        finally:
            relay.stop()
    mails = about(list(mailsink.read_messages(folder)), name)
    assert len(mails) == 2
    assert mails[0]["Message-ID"] == mails[1]["Message-ID"] == note["messageId"]
    assert note["attempts"] == 2


async def _true(value: bool) -> bool | None:
    return value or None
