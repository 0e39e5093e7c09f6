"""Which factor may authorise changing another one.

Someone who has the password and one factor (say the mailbox) must not be able to
take the account over by first adding a factor of their own (a phone number, an
authenticator app, new recovery codes) and then using it to replace the email
address. So a contact change needs a grant from a factor that (a) is not the one
being changed and (b) has been in place for ``SETTLE_SECONDS``: every new factor is
announced to the user by email, and this gives the real owner time to react.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, func, select

from panel_app.models import LoginSession, RecoveryCode, User

SETTLE_SECONDS = 24 * 3600


def factor_set_up_at(db: Session, user: User, method: str | None) -> datetime | None:
    if method == "email":
        return user.email_changed_at or user.created_at
    if method == "whatsapp":
        return user.phone_changed_at or user.created_at
    if method == "totp":
        return user.totp_enabled_at
    if method == "recovery":
        return db.exec(select(func.max(RecoveryCode.created_at)).where(RecoveryCode.user_id == user.id)).one()
    return None


def grant_factor_settled(db: Session, user: User, login_session: LoginSession, now: datetime) -> bool:
    """True when the factor behind this session's grant has been in place long enough."""
    since = factor_set_up_at(db, user, login_session.grant_method)
    if since is None:
        return False
    if since.tzinfo is None:  # SQLite hands back naive UTC from aggregate queries
        from datetime import UTC

        since = since.replace(tzinfo=UTC)
    return now - since >= timedelta(seconds=SETTLE_SECONDS)
