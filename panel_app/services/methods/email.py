"""A code by email to the user's address (every user has one)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from panel_app.models import User
from panel_app.security import codes
from panel_app.services.methods.sent_code import SentCodeMethod


class EmailCode(SentCodeMethod):
    name = channel = codes.CHANNEL_EMAIL
    label_key = "gate.method.email"
    order = 20
    # Never for a password reset: its link went to this very mailbox.
    proves_password_reset = False

    def destination(self, user: User) -> str | None:
        return user.email or None

    def set_up_at(self, db: Session, user: User) -> datetime | None:
        return user.email_changed_at


METHOD = EmailCode()
