"""The recovery codes of the authenticator app as the Security page manages them
(the codes themselves: ``security/recovery.py``; using one: ``services/methods/recovery.py``).

Audit (area ``auth``): ``recovery_codes_regenerated``.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from panel_app.db import attached
from panel_app.models import User
from panel_app.security import recovery, totp
from panel_app.security.permissions import Area
from panel_app.services.audit import Actor, record
from panel_app.services.methods import authenticator
from panel_app.services.validation import ValidationError

ERROR_NOT_ENROLLED = totp.ERROR_NOT_ENROLLED


def regenerate_recovery_codes(db: Session, user: User, now: datetime, actor: Actor) -> list[str]:
    """Replace all recovery codes with 10 new ones (returned once). Needs the app set up.

    Grants stay: old codes only become invalid, nobody gains access.
    """
    user = attached(db, user)
    if not authenticator.is_enrolled(db, user):
        raise ValidationError("totp", ERROR_NOT_ENROLLED)
    new_codes = recovery.replace_codes(db, user.id, now)
    record(db, actor, Area.AUTH, "recovery_codes_regenerated", now=now, count=len(new_codes))
    return new_codes


def recovery_codes_left(db: Session, user: User) -> int:
    return recovery.unused_count(db, user.id)
