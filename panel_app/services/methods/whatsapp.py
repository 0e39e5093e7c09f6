"""A code by WhatsApp to the user's mobile number (if there is one)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from panel_app.models import User
from panel_app.security import codes
from panel_app.services.methods.sent_code import SentCodeMethod


class WhatsAppCode(SentCodeMethod):
    name = channel = codes.CHANNEL_WHATSAPP
    proves_factor = "phone"
    label_key = "gate.method.whatsapp"
    order = 30
    proves_password_reset = True
    reset_label_key = "reset.method.whatsapp"

    def destination(self, user: User) -> str | None:
        return user.phone or None

    def set_up_at(self, db: Session, user: User) -> datetime | None:
        return user.phone_changed_at


METHOD = WhatsAppCode()
