"""The recovery codes of the authenticator app as the Security page manages them
(the codes themselves: ``security/recovery.py``; using one: ``services/methods/recovery.py``).

Who may renew them: the app itself (a grant through it or one of its codes,
``services/factor_rules.py``), or — for a few minutes — the login session that has just set
the app up and proved it with a first code (``renewable_after_setup``). That session was
shown the codes a moment ago; renewing them gives nobody anything new: whoever set the app up
holds its codes anyway (a mailbox thief who added their own app included), and no other
session, nor this one later, gains the right.

Audit (area ``auth``): ``recovery_codes_regenerated``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from panel_app.db import attached
from panel_app.models import LoginSession, User
from panel_app.security import recovery, totp
from panel_app.security.permissions import Area
from panel_app.services.audit import Actor, record
from panel_app.services.methods import authenticator
from panel_app.services.validation import ValidationError

ERROR_NOT_ENROLLED = totp.ERROR_NOT_ENROLLED
# How long after confirming a new app its session may renew the codes without the app.
RENEW_AFTER_SETUP = timedelta(minutes=5)


def remember_app_confirmed(db: Session, login_session: LoginSession, confirmed_at: datetime) -> None:
    """``login_session`` has just confirmed the user's new app (``Authenticator.confirmed_at``)."""
    login_session.app_confirmed_at = confirmed_at
    db.add(login_session)
    db.flush()


def renewable_after_setup(db: Session, user: User, login_session: LoginSession, now: datetime) -> bool:
    """May this session renew the codes because it set the app up a moment ago?

    Only the session that confirmed the app that is active now (one set up again since, in
    any session, ends it), and only within ``RENEW_AFTER_SETUP`` of that confirmation."""
    confirmed = login_session.app_confirmed_at
    if confirmed is None or login_session.user_id != user.id:
        return False
    app = authenticator.active_row(db, user.id)
    if app is None or app.confirmed_at is None or app.confirmed_at != confirmed:
        return False
    return timedelta(0) <= now - confirmed <= RENEW_AFTER_SETUP


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
