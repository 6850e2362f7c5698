"""A real SMTP server for tests (aiosmtpd on 127.0.0.1 and a free port) that keeps what it
receives, can refuse chosen recipients, and can be stopped and started again on the same port."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.support.server import free_port


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the server got it: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        """The plain-text body, with the line ends SMTP carries (CRLF) read back as newlines."""
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content()).replace("\r\n", "\n")

    @property
    def html(self) -> str | None:
        part = self.message.get_body(preferencelist=("html",))
        if part is None:
            return None
        return str(part.get_content()).replace("\r\n", "\n")


@dataclass
class _Handler:
    received: list[ReceivedMail] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address in self.refused:
            return self.refused[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(
            ReceivedMail(
                mail_from=str(envelope.mail_from),
                rcpt_tos=list(envelope.rcpt_tos),
                message=message,
            )
        )
        return "250 Message accepted for delivery"


class SmtpSink:
    """``with SmtpSink() as sink:`` a running server; ``sink.messages`` is what it received."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.port = free_port()
        self._handler = _Handler()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[ReceivedMail]:
        return list(self._handler.received)

    def refuse(self, address: str, reply: str = "550 5.1.1 Mailbox unavailable") -> None:
        """Answer RCPT TO for ``address`` with ``reply`` (5xx: permanent, 4xx: try later)."""
        self._handler.refused[address] = reply

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        assert self._controller is None
        # A new controller each time: a stopped one has closed its event loop.
        controller = Controller(
            self._handler, hostname=self.host, port=self.port, server_hostname="sink.test"
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
