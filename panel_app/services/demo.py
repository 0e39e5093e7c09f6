"""Demo controls for product people: shorten the grant TTL (demo mode only).

Fault injection for the next send lives in ``delivery.outbox``; this module
holds the TTL override and the effective TTL every grant uses.
"""

from __future__ import annotations

from sqlmodel import Session

from panel_app.models import DemoSetting
from panel_app.services.validation import ValidationError
from panel_app.settings import get_settings

TTL_KEY = "stepup_ttl_seconds"
TTL_CHOICES = (10, 30, 60, 120, 600)


def effective_ttl_seconds(db: Session) -> int:
    settings = get_settings()
    if settings.is_demo:
        row = db.get(DemoSetting, TTL_KEY)
        if row is not None and row.value.isascii() and row.value.isdigit():
            return int(row.value)
    return settings.stepup_ttl_seconds


def set_demo_ttl(db: Session, seconds: int | None) -> None:
    if not get_settings().is_demo:
        raise ValidationError("ttl", "validation.invalid")
    row = db.get(DemoSetting, TTL_KEY)
    if seconds is None:
        if row is not None:
            db.delete(row)
        db.flush()
        return
    if seconds not in TTL_CHOICES:
        raise ValidationError("ttl", "validation.invalid")
    if row is None:
        row = DemoSetting(key=TTL_KEY)
    row.value = str(seconds)
    db.add(row)
    db.flush()
