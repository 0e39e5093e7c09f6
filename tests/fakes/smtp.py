"""A recording SMTP server on loopback (aiosmtpd) and settings pointing at it.

Registered as a pytest plugin in ``tests/conftest.py``, so any test module can ask
for ``smtp_server`` or ``smtp_settings`` without importing them."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from tests.fakes import free_port, settings_env

MAIL_FROM = "Panel <no-reply@panel.example>"


class RecordingHandler:
    """Accepts everything unless told to refuse recipients with a given reply."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.rcpt_reply: str | None = None
        self.commands: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.commands.append("RCPT")
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_AUTH(self, server, session, envelope, args):  # pragma: no cover - must not happen
        self.commands.append("AUTH")
        return "535 5.7.8 no"

    async def handle_DATA(self, server, session, envelope):
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


@pytest.fixture
def smtp_settings(smtp_server):
    controller, handler = smtp_server
    with settings_env(PANEL_ENV="demo", PANEL_SMTP_URL=f"smtp+insecure://127.0.0.1:{controller.port}",
                      PANEL_MAIL_FROM=MAIL_FROM):
        yield handler
