"""A customer's passkeys on the Security page: add, rename, remove, under the factor rules.

All of a user's passkeys are one device factor (``factor_rules.PASSKEY``):

- **Adding** the first passkey is an addition: allowed with any grant, announced on every
  channel, and it counts for nothing until it has settled (the newest passkey sets the
  factor's set-up instant, so one added with a stolen mailbox never outranks the others
  during the waiting period). Adding another needs a grant from the passkeys themselves or
  from another settled device (the app): a stolen channel cannot add to a set the owner has.
- **Removing** follows the app's rule: a passkey still new may be removed with any
  verification (whoever added one with a stolen mailbox can be thrown out); a settled one
  only with a grant from a settled device factor. The removal ends every grant and leaves the
  factor's tombstone (``User.factor_removed_at``), as for the app.

The caller announces what happened (``notify_everywhere``: ``passkey_added``,
``passkey_removed``). Audit (area ``auth``): ``passkey_added``, ``passkey_renamed``,
``passkey_removed``, ``passkey_refused``. No reflex import.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from panel_app.db import attached
from panel_app.models import LoginSession, User, WebAuthnCredential
from panel_app.security import sessions
from panel_app.security.permissions import Area
from panel_app.services import factor_rules, passkeys
from panel_app.services.audit import Actor, record
from panel_app.services.methods import passkey as passkey_method
from panel_app.settings import get_settings

ERROR_DEVICE_REQUIRED = "security.passkey.device_required"
ERROR_NOT_FOUND = "security.passkey.not_found"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error_key: str | None = None
    name: str = ""


def owner_of(user: User) -> passkeys.Owner:
    return passkeys.Owner(user_id=user.id)


def _settled_device_grant(db: Session, user: User, grant_method: object, now: datetime) -> bool:
    grant_factor = factor_rules.factor_of(grant_method)
    return (grant_factor is not None and not factor_rules.is_channel(grant_factor)
            and grant_factor in factor_rules.settled_factors(db, user, now))


def may_add(db: Session, user: User, grant_method: object, now: datetime) -> bool:
    """The first passkey with any grant; another with a passkey grant or a settled device's."""
    if not passkeys.has_passkey(db, owner_of(user)):
        return True
    return factor_rules.factor_of(grant_method) == factor_rules.PASSKEY or _settled_device_grant(
        db, user, grant_method, now)


def is_settled(row: WebAuthnCredential, now: datetime) -> bool:
    return (now - row.created_at).total_seconds() >= get_settings().factor_change_delay_seconds


def may_remove(db: Session, user: User, row: WebAuthnCredential, grant_method: object, now: datetime) -> bool:
    return not is_settled(row, now) or _settled_device_grant(db, user, grant_method, now)


def begin_add(db: Session, user: User, login_session: LoginSession, now: datetime, actor: Actor) -> str | None:
    """Options for the browser's "create a passkey" prompt, or None when this grant may not
    add one (refusal audited)."""
    user = attached(db, user)
    if not may_add(db, user, login_session.grant_method, now):
        record(db, actor, Area.AUTH, "passkey_refused", now=now, operation="add",
               method=login_session.grant_method or "")
        return None
    return passkeys.registration_options(db, owner=owner_of(user), binding=passkeys.Binding(session_id=login_session.id),
                                         user_name=user.email, display_name=user.name, now=now)


def finish_add(db: Session, user: User, login_session: LoginSession, *, response: object, name: object,
               now: datetime, actor: Actor) -> Outcome:
    """Store the passkey the browser made (rules asked again: the grant may have changed)."""
    user = attached(db, user)
    clean = passkeys.clean_name(name)
    if clean is None:
        return Outcome(ok=False, error_key=passkeys.ERROR_NAME)
    if not may_add(db, user, login_session.grant_method, now):
        return Outcome(ok=False, error_key=ERROR_DEVICE_REQUIRED)
    made = passkeys.finish_registration(db, owner=owner_of(user), binding=passkeys.Binding(session_id=login_session.id),
                                        response=response, name=clean, now=now)
    if not made.ok:
        record(db, actor, Area.AUTH, "passkey_refused", now=now, operation="add", reason=made.reason or "")
        return Outcome(ok=False, error_key=made.error_key)
    record(db, actor, Area.AUTH, "passkey_added", now=now, passkey=clean, synced=made.credential.synced,
           method=login_session.grant_method or "")
    if len(passkeys.credentials_of(db, owner_of(user))) == 1 and user.preferred_channel != passkey_method.NAME:
        # The first passkey becomes what the gate offers first (the Security page changes it back).
        record(db, actor, Area.AUTH, "preferred_channel_changed", now=now, previous=user.preferred_channel,
               channel=passkey_method.NAME)
        user.preferred_channel = passkey_method.NAME
        db.add(user)
        db.flush()
    return Outcome(ok=True, name=clean)


def rename(db: Session, user: User, credential_pk: object, name: object, *, now: datetime, actor: Actor) -> Outcome:
    row = passkeys.find(db, owner_of(user), credential_pk)
    if row is None:
        return Outcome(ok=False, error_key=ERROR_NOT_FOUND)
    clean = passkeys.clean_name(name)
    if clean is None:
        return Outcome(ok=False, error_key=passkeys.ERROR_NAME)
    previous = row.name
    passkeys.rename(db, row, clean)
    record(db, actor, Area.AUTH, "passkey_renamed", now=now, previous=previous, passkey=clean)
    return Outcome(ok=True, name=clean)


def forget_new(db: Session, user: User, *, now: datetime, actor: Actor, reason: str) -> list[str]:
    """Remove the user's passkeys that have not settled (a password reset: one added with the
    stolen mailbox would otherwise sign its maker in again, no password needed, right after
    the reset that was to throw them out). The names of those removed; each audited."""
    user = attached(db, user)
    names = []
    for row in passkeys.credentials_of(db, owner_of(user)):
        name = row.name
        if not is_settled(row, now) and passkeys.delete_credential(db, row):
            names.append(name)
            record(db, actor, Area.AUTH, "passkey_removed", now=now, passkey=name, reason=reason)
    if names:
        if user.preferred_channel == passkey_method.NAME and not passkeys.has_passkey(db, owner_of(user)):
            user.preferred_channel = "email"
        user.factor_removed_at = now
        db.add(user)
        db.flush()
    return names


def remove(db: Session, user: User, login_session: LoginSession, credential_pk: object, *, now: datetime,
           actor: Actor) -> Outcome:
    """Remove one passkey; every grant of the user ends (as when the app goes)."""
    user = attached(db, user)
    row = passkeys.find(db, owner_of(user), credential_pk)
    if row is None:
        return Outcome(ok=False, error_key=ERROR_NOT_FOUND)
    if not may_remove(db, user, row, login_session.grant_method, now):
        record(db, actor, Area.AUTH, "passkey_refused", now=now, operation="remove", passkey=row.name,
               method=login_session.grant_method or "")
        return Outcome(ok=False, error_key=ERROR_DEVICE_REQUIRED)
    name = row.name
    if not passkeys.delete_credential(db, row):
        return Outcome(ok=False, error_key=ERROR_NOT_FOUND)
    if user.preferred_channel == passkey_method.NAME and not passkeys.has_passkey(db, owner_of(user)):
        user.preferred_channel = "email"
    user.factor_removed_at = now
    db.add(user)
    db.flush()
    sessions.end_user_grants(db, user.id, now=now)
    record(db, actor, Area.AUTH, "passkey_removed", now=now, passkey=name, grants_ended=True)
    return Outcome(ok=True, name=name)
