"""Where codes and notices go: one async interface, the transport chosen from settings.

- email: SMTP when ``PANEL_SMTP_URL`` is set, else the demo outbox;
- whatsapp: the Cloud API when ``PANEL_WHATSAPP_TOKEN`` and
  ``PANEL_WHATSAPP_PHONE_NUMBER_ID`` are set, else the demo outbox.

The outbox exists only in demo mode. In production a channel without a transport
fails with a clear error key; nothing is dropped silently.

Sending happens outside the caller's transaction (network I/O must not hold a DB
transaction open); afterwards the caller stores the outcome with ``record_delivery``
in its own unit of work.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from panel_app.db import transaction
from panel_app.delivery import smtp, whatsapp
from panel_app.delivery.base import (
    CHANNEL_EMAIL,
    CHANNEL_WHATSAPP,
    CHANNELS,
    ERROR_NOT_CONFIGURED,
    STATUS_DELIVERED,
    STATUS_FAILED,
    STATUS_QUEUED,
    STATUS_READ,
    STATUS_SENT,
    CodeMessage,
    DeliveryResult,
    error_key_for,
    mask_destination,
)
from panel_app.delivery.outbox import (
    DEMO_FAULTS,
    demo_fault_choices,
    get_demo_faults,
    outbox_messages,
    set_demo_fault,
    take_demo_fault,
    write_outbox,
)
from panel_app.delivery.status import apply_status_update, record_delivery
from panel_app.delivery.templates import html_from_text, render_code_email, render_whatsapp_text
from panel_app.i18n import normalize_language
from panel_app.settings import get_settings

log = logging.getLogger(__name__)

__all__ = [
    "CHANNELS",
    "CHANNEL_EMAIL",
    "CHANNEL_WHATSAPP",
    "DEMO_FAULTS",
    "STATUS_DELIVERED",
    "STATUS_FAILED",
    "STATUS_QUEUED",
    "STATUS_READ",
    "STATUS_SENT",
    "CodeMessage",
    "DeliveryResult",
    "apply_status_update",
    "deliver_code",
    "demo_fault_choices",
    "error_key_for",
    "get_demo_faults",
    "outbox_messages",
    "record_delivery",
    "send_email_notice",
    "set_demo_fault",
]


def _take_fault(channel: str) -> str | None:
    with transaction() as db:
        return take_demo_fault(db, channel)


def _to_outbox(channel: str, recipient: str, text: str, subject: str, html: str, now: datetime | None) -> str:
    with transaction() as db:
        row = write_outbox(db, channel=channel, recipient=recipient, text=text, subject=subject, html=html,
                           now=now)
        return f"outbox-{row.id}"


def _transport_for(channel: str) -> str:
    settings = get_settings()
    return settings.email_transport if channel == CHANNEL_EMAIL else settings.whatsapp_transport


async def deliver_code(message: CodeMessage, *, now: datetime | None = None) -> DeliveryResult:
    """Send a one-time code on ``message.channel``. Never raises for a delivery failure."""
    settings = get_settings()
    channel = message.channel
    transport = _transport_for(channel)

    if settings.is_demo:
        fault = await asyncio.to_thread(_take_fault, channel)
        if fault is not None:
            log.info("demo: simulated %s failure %s for %s", channel, fault,
                     mask_destination(channel, message.destination, for_log=True))
            return DeliveryResult.failed(channel, fault, transport)

    if transport == "outbox":
        if not settings.is_demo:
            log.error("%s code not sent: no %s transport is configured in production", channel, channel)
            return DeliveryResult.failed(channel, ERROR_NOT_CONFIGURED)
        if channel == CHANNEL_EMAIL:
            content = render_code_email(message)
            message_id = await asyncio.to_thread(
                _to_outbox, channel, message.destination, content.text, content.subject, content.html, now
            )
        else:
            message_id = await asyncio.to_thread(
                _to_outbox, channel, message.destination, render_whatsapp_text(message), "", "", now
            )
        return DeliveryResult.sent(message_id, "outbox")

    if channel == CHANNEL_EMAIL:
        content = render_code_email(message)
        return await smtp.send_email(
            settings, to=message.destination, subject=content.subject, text=content.text, html=content.html,
            language=content.language,
        )
    return await whatsapp.send_code(settings, message)


async def send_email_notice(
    to: str, language: str, subject: str, text: str, html: str | None = None, *, now: datetime | None = None
) -> DeliveryResult:
    """Send a security notice (already rendered by the caller) by email.

    Demo faults do not apply here: they are meant for the next *code*, and a notice
    must not use one up unseen.
    """
    settings = get_settings()
    language = normalize_language(language)
    html = html or html_from_text(text, language, subject)
    if settings.email_transport == "outbox":
        if not settings.is_demo:
            log.error("email notice not sent: no SMTP transport is configured in production")
            return DeliveryResult.failed(CHANNEL_EMAIL, ERROR_NOT_CONFIGURED)
        message_id = await asyncio.to_thread(_to_outbox, CHANNEL_EMAIL, to, text, subject, html, now)
        return DeliveryResult.sent(message_id, "outbox")
    return await smtp.send_email(settings, to=to, subject=subject, text=text, html=html, language=language)


async def send_whatsapp_notice(to: str, language: str, text: str, *, now: datetime | None = None) -> DeliveryResult:
    """Send a security notice (already rendered) by WhatsApp: the notice template in
    production, the demo outbox in demo mode."""
    settings = get_settings()
    if _transport_for(CHANNEL_WHATSAPP) == "outbox":
        if not settings.is_demo:
            log.error("whatsapp notice not sent: no WhatsApp transport is configured in production")
            return DeliveryResult.failed(CHANNEL_WHATSAPP, ERROR_NOT_CONFIGURED)
        message_id = await asyncio.to_thread(_to_outbox, CHANNEL_WHATSAPP, to, text, "", "", now)
        return DeliveryResult.sent(message_id, "outbox")
    return await whatsapp.send_notice(settings, to, normalize_language(language), text)
