"""The authenticator app (TOTP): its ``Authenticator`` row, and the method.

The row (one per user, type ``totp``) holds the encrypted secret, a pending one while a
new app is being set up, when it was confirmed and the last accepted time step (the
replay guard, ``security/totp.py``). Set-up and removal: ``services/authenticator_setup.py``.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from panel_app.models import Authenticator, User
from panel_app.security import totp
from panel_app.services.methods.base import CodeScope, MethodCheck, StepUpMethod

TYPE = "totp"
STEP_COLUMN = "last_step"
SECRET_COLUMN = "secret_enc"


def row_of(db: Session, user_id: int) -> Authenticator | None:
    """The user's app row, set up or only begun."""
    return db.exec(select(Authenticator).where(Authenticator.user_id == user_id,
                                               Authenticator.type == TYPE)).first()


def active_row(db: Session, user_id: int) -> Authenticator | None:
    """The row of a confirmed app, or None."""
    row = row_of(db, user_id)
    return row if row is not None and row.secret_enc and row.confirmed_at is not None else None


def is_enrolled(db: Session, user: User) -> bool:
    return active_row(db, user.id) is not None


def check_code(db: Session, row: Authenticator, submitted: object, now: datetime) -> totp.TotpCheck:
    """An app code against the active secret; claims its time step on the row (only while
    that secret is still the active one: not after a replacement meanwhile)."""
    return totp.check_code(db, row, submitted, now, secret_enc=row.secret_enc or "", step_column=STEP_COLUMN,
                           secret_column=SECRET_COLUMN)


class AuthenticatorApp(StepUpMethod):
    name = TYPE
    label_key = "gate.method.totp"
    hint_key = "gate.totp_hint"
    order = 10
    proves_password_reset = True
    reset_label_key = "reset.method.totp"

    def is_available(self, db: Session, user: User) -> bool:
        return is_enrolled(db, user)

    def set_up_at(self, db: Session, user: User) -> datetime | None:
        row = active_row(db, user.id)
        return row.confirmed_at if row is not None else None

    def verify(self, db: Session, *, user: User, scope: CodeScope, value: str, now: datetime) -> MethodCheck:
        row = active_row(db, user.id)
        if row is None:
            return MethodCheck(ok=False, reason=totp.REASON_NOT_ENROLLED, error_key=totp.ERROR_NOT_ENROLLED)
        check = check_code(db, row, value, now)
        return MethodCheck(ok=check.ok, reason=check.reason, error_key=check.error_key)


METHOD = AuthenticatorApp()
