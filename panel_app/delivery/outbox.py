"""Demo mode only: the outbox (messages that would have been sent) and fault injection.

A demo fault is one ``DemoSetting`` row (``fail_next_email`` / ``fail_next_whatsapp``)
holding an error code: the next code sent on that channel fails with that error, as
if the provider had answered so, and the row is removed. Outside demo mode the rows
are ignored and cannot be set.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, delete, select

from panel_app.clock import utcnow
from panel_app.delivery.base import (
    CHANNEL_EMAIL,
    CHANNEL_WHATSAPP,
    CHANNELS,
    SMTP_REFUSED,
    SMTP_UNREACHABLE,
    WA_INVALID_PARAMETER,
    WA_PAIR_RATE_LIMIT,
    WA_RATE_LIMIT,
    WA_TEMPLATE_MISSING,
    WA_TOKEN_INVALID,
    WA_UNDELIVERABLE,
)
from panel_app.models import DemoSetting, OutboxMessage
from panel_app.services.validation import ValidationError
from panel_app.settings import get_settings

# The errors a demo visitor can pick, per channel, in the order a menu shows them.
DEMO_FAULTS: dict[str, tuple[str, ...]] = {
    CHANNEL_WHATSAPP: (
        WA_UNDELIVERABLE,
        WA_INVALID_PARAMETER,
        WA_TEMPLATE_MISSING,
        WA_RATE_LIMIT,
        WA_PAIR_RATE_LIMIT,
        WA_TOKEN_INVALID,
    ),
    CHANNEL_EMAIL: (SMTP_REFUSED, SMTP_UNREACHABLE),
}


def demo_fault_key(channel: str) -> str:
    return f"fail_next_{channel}"


def demo_fault_choices(channel: str) -> list[tuple[str, str]]:
    """``(error_code, i18n label key)`` for each selectable error of ``channel``."""
    return [(code, f"delivery.demo_fault.{channel}.{code}") for code in DEMO_FAULTS.get(channel, ())]


def set_demo_fault(db: Session, channel: str, error_code: str | None) -> None:
    """Arm (or with ``None`` disarm) a simulated failure of the next send on ``channel``."""
    if channel not in CHANNELS:
        raise ValidationError("channel", "validation.invalid")
    if not get_settings().is_demo:
        raise ValidationError("error_code", "delivery.demo_fault.demo_only")
    key = demo_fault_key(channel)
    row = db.get(DemoSetting, key)
    if error_code is None or error_code == "":
        if row is not None:
            db.delete(row)
            db.flush()
        return
    if not isinstance(error_code, str) or error_code not in DEMO_FAULTS[channel]:
        raise ValidationError("error_code", "validation.invalid")
    if row is None:
        db.add(DemoSetting(key=key, value=error_code))
    else:
        row.value = error_code
        db.add(row)
    db.flush()


def get_demo_faults(db: Session) -> dict[str, str | None]:
    """The armed fault per channel (``None`` when none), for the demo controls."""
    faults: dict[str, str | None] = {channel: None for channel in CHANNELS}
    if not get_settings().is_demo:
        return faults
    rows = db.exec(select(DemoSetting).where(DemoSetting.key.in_([demo_fault_key(c) for c in CHANNELS])))
    for row in rows:
        faults[row.key.removeprefix("fail_next_")] = row.value or None
    return faults


def take_demo_fault(db: Session, channel: str) -> str | None:
    """Claim the armed fault of ``channel`` exactly once (``None`` outside demo mode).

    The row is deleted with a conditional DELETE so two concurrent sends cannot both
    consume the same fault.
    """
    if not get_settings().is_demo:
        return None
    key = demo_fault_key(channel)
    row = db.get(DemoSetting, key)
    if row is None:
        return None
    value = row.value
    db.expunge(row)
    claimed = db.exec(delete(DemoSetting).where(DemoSetting.key == key, DemoSetting.value == value))
    db.flush()
    if claimed.rowcount != 1 or value not in DEMO_FAULTS.get(channel, ()):
        return None
    return value


def write_outbox(
    db: Session,
    *,
    channel: str,
    recipient: str,
    text: str,
    subject: str = "",
    html: str = "",
    now: datetime | None = None,
    attachment_name: str = "",
    attachment: bytes | None = None,
) -> OutboxMessage:
    if not get_settings().is_demo:  # a programming error: production never writes here
        raise RuntimeError("the outbox exists only in demo mode")
    message = OutboxMessage(
        channel=channel,
        recipient=recipient[:254],
        subject=subject[:300],
        text=text,
        html=html,
        created_at=now or utcnow(),
        attachment_name=attachment_name[:100],
        attachment=attachment,
    )
    db.add(message)
    db.flush()
    return message


def outbox_attachment(db: Session, message_id: int) -> tuple[str, bytes] | None:
    """``(file name, bytes)`` of a message's attachment (a letter's PDF), for the demo page."""
    row = db.get(OutboxMessage, message_id)
    if row is None or not row.attachment:
        return None
    return row.attachment_name or f"message-{row.id}.pdf", bytes(row.attachment)


def outbox_messages(db: Session, recipient: str | None = None, limit: int = 50) -> list[OutboxMessage]:
    """Newest first; for the demo inbox page and tests."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if recipient is not None:
        query = query.where(OutboxMessage.recipient == recipient)
    return list(db.exec(query))
