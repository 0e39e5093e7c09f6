"""Passkeys as a step-up method (and the second factor of a password reset): the browser
signs a challenge for this panel's origin only, so the answer cannot be phished and relayed.

The user answers with the browser's response (JSON) to options from ``options_for``; the
credentials and the ceremony are ``services/passkeys.py``. A passkey is a device factor (it
proves itself); all of a user's passkeys are one factor, settled once the newest has been
there for the waiting period. No reflex import.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session

from panel_app.models import User
from panel_app.services import passkeys
from panel_app.services.methods.base import CodeScope, InputKind, MethodCheck, StepUpMethod

NAME = "passkey"
RESET_PREFIX = "reset:"


def _challenge_of(scope: CodeScope) -> tuple[str, passkeys.Binding] | None:
    """The challenge purpose and binding of a step-up (a login session) or a reset."""
    if scope.session_id is not None and scope.purpose == passkeys.PURPOSE_STEPUP:
        return passkeys.PURPOSE_STEPUP, passkeys.Binding(session_id=scope.session_id)
    if scope.session_id is None and scope.purpose.startswith(RESET_PREFIX):
        return passkeys.PURPOSE_RESET, passkeys.Binding(binding_key=scope.purpose)
    return None


class Passkey(StepUpMethod):
    name = NAME
    label_key = "gate.method.passkey"
    hint_key = "gate.passkey_hint"
    input_kind = InputKind.PASSKEY
    order = 5  # first when the user has one
    proves_password_reset = True
    reset_label_key = "reset.method.passkey"

    def is_available(self, db: Session, user: User) -> bool:
        return passkeys.has_passkey(db, passkeys.Owner(user_id=user.id))

    def set_up_at(self, db: Session, user: User) -> datetime | None:
        return passkeys.newest_created_at(db, passkeys.Owner(user_id=user.id))

    def options_for(self, db: Session, *, user: User, scope: CodeScope, now: datetime) -> str | None:
        """Options for the browser's prompt (JSON), bound to ``scope``; None for a scope a
        passkey cannot answer."""
        found = _challenge_of(scope)
        if found is None or not self.is_available(db, user):
            return None
        purpose, binding = found
        return passkeys.authentication_options(db, purpose=purpose, binding=binding, now=now,
                                               owner=passkeys.Owner(user_id=user.id))

    def normalize(self, submitted: object) -> tuple[str | None, str | None]:
        # A dict (Reflex passes the object through) is checked as its JSON.
        parsed = passkeys.parse_response(submitted)
        return (json.dumps(parsed), None) if parsed is not None else (None, passkeys.ERROR_MALFORMED)

    def nothing_to_compare(self, db: Session, *, user: User, scope: CodeScope, now: datetime) -> MethodCheck | None:
        found = _challenge_of(scope)
        if found is None or not passkeys.has_live_challenge(db, purpose=found[0], binding=found[1], now=now):
            return MethodCheck(ok=False, reason=passkeys.REASON_NO_CHALLENGE, error_key=passkeys.ERROR_EXPIRED)
        return None

    def verify(self, db: Session, *, user: User, scope: CodeScope, value: str, now: datetime) -> MethodCheck:
        found = _challenge_of(scope)
        if found is None:
            return MethodCheck(ok=False, reason=passkeys.REASON_NO_CHALLENGE, error_key=passkeys.ERROR_EXPIRED)
        purpose, binding = found
        result = passkeys.check_assertion(db, purpose=purpose, binding=binding, response=value, now=now,
                                          owner=passkeys.Owner(user_id=user.id))
        return MethodCheck(ok=result.ok, reason=result.reason, error_key=result.error_key, cloned=result.cloned,
                           credential_name=result.credential.name if result.credential is not None else None)


METHOD = Passkey()
