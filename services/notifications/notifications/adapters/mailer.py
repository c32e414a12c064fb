"""Sending mail over SMTP (Mailpit locally; the alliance's relay in production).

The standard library's ``smtplib`` in a worker thread (one connection per mail: notifications
are few, and a fresh connection never inherits a broken one). The message is UTF-8 throughout:
a Chinese subject is encoded per RFC 2047 by ``email``'s default policy.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from pydantic import SecretStr


class SmtpMailer:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str | None = None,
        password: SecretStr | None = None,
        starttls: bool = False,
        timeout_s: float = 15.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password = username, password
        self.starttls, self.timeout_s = starttls, timeout_s

    def build(self, to: str, to_name: str | None, subject: str, body: str, message_id: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = formataddr((to_name, to)) if to_name else to
        message["Subject"] = subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = message_id
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to us
        message.set_content(body, charset="utf-8")
        return message

    async def send(self, to: str, to_name: str | None, subject: str, body: str, message_id: str) -> None:
        message = self.build(to, to_name, subject, body, message_id)
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username and self.password is not None:
                smtp.login(self.username, self.password.get_secret_value())
            smtp.send_message(message)
