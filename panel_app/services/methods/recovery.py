"""A single-use recovery code: the fallback of the authenticator app (``security/recovery.py``).
Offered only while the app is set up and codes are left; settled when the app is."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from panel_app.models import User
from panel_app.security import recovery
from panel_app.services.methods import authenticator
from panel_app.services.methods.base import CodeScope, InputKind, MethodCheck, StepUpMethod


class RecoveryCode(StepUpMethod):
    name = "recovery"
    label_key = "gate.method.recovery"
    hint_key = "gate.recovery_hint"
    link_key = "gate.use_recovery"
    input_kind = InputKind.TEXT
    order = 90
    fallback = True
    proves_factor = authenticator.TYPE
    proves_password_reset = True
    reset_label_key = "reset.method.recovery"

    def is_available(self, db: Session, user: User) -> bool:
        return authenticator.is_enrolled(db, user) and recovery.unused_count(db, user.id) > 0

    def set_up_at(self, db: Session, user: User) -> datetime | None:
        return authenticator.METHOD.set_up_at(db, user)

    def normalize(self, submitted: object) -> tuple[str | None, str | None]:
        value, reason = recovery.normalize_recovery_code(submitted)
        if value is None:
            return None, (recovery.ERROR_RECOVERY_EMPTY if reason == recovery.REASON_EMPTY
                          else recovery.ERROR_RECOVERY_FORMAT)
        return value, None

    def verify(self, db: Session, *, user: User, scope: CodeScope, value: str, now: datetime) -> MethodCheck:
        if not recovery.consume(db, user.id, value, now):
            return MethodCheck(ok=False, reason="wrong", error_key=recovery.ERROR_RECOVERY_WRONG)
        return MethodCheck(ok=True, used_recovery_code=True, recovery_codes_left=recovery.unused_count(db, user.id))


METHOD = RecoveryCode()
