"""Support staff's passkeys and security keys: the console's gate and "My sign-in methods".

A staff member may add passkeys or security keys next to the mandatory authenticator app
(``services/passkeys.py`` with ``Owner(staff_id=...)``; challenges bound to the staff session
and the purposes ``PURPOSE_STAFF_REGISTER`` / ``PURPOSE_STAFF_STEPUP``). At the gate a passkey
opens the same grant as a good app code, through the same guess budget (failures count, a
malformed answer is not a guess) and with the same audit (``staff_verified`` with
``method``); a counter that went back is refused and recorded as ``staff_passkey_cloned`` in
the staff audit the staff admins read.

``PANEL_STAFF_REQUIRE_PASSKEY=1`` makes the console phishing-resistant: what a grant opens
(``access``) then depends on what proved it (``StaffSession.grant_method``):

- a passkey's grant: the whole console (``ACCESS_FULL``);
- the app's grant, while the staff member has no passkey: only adding one (``ACCESS_SETUP``:
  "My sign-in methods", nothing else). Once one exists, that grant opens nothing: the gate
  asks for the new passkey (which proves it works);
- the app code itself is refused at the gate once a passkey exists (``verify_app``), and the
  last passkey cannot be removed.

Audit (staff audit log): ``staff_verified``, ``staff_totp_enabled``,
``staff_verification_failed``, ``staff_app_refused``, ``staff_passkey_cloned``,
``staff_passkey_added``, ``staff_passkey_add_failed``, ``staff_passkey_renamed``,
``staff_passkey_removed``, ``staff_passkey_remove_refused``. No reflex import.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from panel_app.models import StaffSession, StaffUser
from panel_app.security import staff as staff_core
from panel_app.security import throttle, totp
from panel_app.services import passkeys
from panel_app.services.staff_support import StaffActor, _staff_audit
from panel_app.settings import get_settings

ACCESS_NONE = "none"
ACCESS_SETUP = "setup"  # may add a passkey, nothing else
ACCESS_FULL = "full"

METHOD_APP = "app"
METHOD_PASSKEY = "passkey"

ERROR_PASSKEY_REQUIRED = "staff.passkey.required"
ERROR_LAST = "staff.passkey.last"
ERROR_NOT_FOUND = "security.passkey.not_found"
ERROR_CLONED = "staff.passkey.cloned"
ERROR_NOT_ALLOWED = "staff.passkey.not_allowed"


def owner_of(staff: StaffUser) -> passkeys.Owner:
    return passkeys.Owner(staff_id=staff.id)


def binding_of(session: StaffSession) -> passkeys.Binding:
    return passkeys.Binding(staff_session_id=session.id)


def required() -> bool:
    """``PANEL_STAFF_REQUIRE_PASSKEY``: only passkeys and security keys open the console."""
    return get_settings().staff_require_passkey


def has_passkey(db: Session, staff: StaffUser) -> bool:
    return passkeys.has_passkey(db, owner_of(staff))


def access(db: Session, staff: StaffUser, session: StaffSession, now: datetime) -> str:
    """What the staff session's grant opens now (decided from the database)."""
    if not totp.is_enrolled(staff) or not staff_core.grant_valid(session, now):
        return ACCESS_NONE
    if not required():
        return ACCESS_FULL
    if not has_passkey(db, staff):
        return ACCESS_SETUP
    return ACCESS_FULL if session.grant_method == staff_core.GRANT_PASSKEY else ACCESS_NONE


def app_allowed(db: Session, staff: StaffUser) -> bool:
    """Whether the gate takes an app code: always, unless passkeys are required and the
    staff member has one."""
    return not required() or not has_passkey(db, staff)


# --- the gate ----------------------------------------------------------------------------


@dataclass(frozen=True)
class GateResult:
    ok: bool
    error_key: str | None = None
    retry_after_seconds: int = 0
    cloned: bool = False
    was_setup: bool = False  # the app's set-up was confirmed with this code


def verify_app(db: Session, actor: StaffActor, resolved: staff_core.ResolvedStaff, submitted: object, *,
               now: datetime) -> GateResult:
    """An app code at the gate (``security/staff.verify``), refused by the server when
    passkeys are required and the staff member has one."""
    staff = resolved.staff
    if not app_allowed(db, staff):
        _staff_audit(db, actor, "staff_app_refused", now=now)
        return GateResult(False, ERROR_PASSKEY_REQUIRED)
    was_setup = not totp.is_enrolled(staff)
    result = staff_core.verify(db, resolved, submitted, now=now)
    if not result.ok:
        _staff_audit(db, actor, "staff_verification_failed", now=now, method=METHOD_APP)
        return GateResult(False, result.error_key, result.retry_after_seconds)
    _staff_audit(db, actor, "staff_totp_enabled" if was_setup else "staff_verified", now=now, method=METHOD_APP)
    return GateResult(True, was_setup=was_setup)


def gate_options(db: Session, staff: StaffUser, session: StaffSession, *, now: datetime) -> str:
    """Options for the browser's passkey prompt at the gate (JSON), or "" without a passkey."""
    if not totp.is_enrolled(staff) or not has_passkey(db, staff):
        return ""
    return passkeys.authentication_options(db, purpose=passkeys.PURPOSE_STAFF_STEPUP, binding=binding_of(session),
                                           now=now, owner=owner_of(staff))


def verify_passkey(db: Session, actor: StaffActor, resolved: staff_core.ResolvedStaff, response: object, *,
                   now: datetime) -> GateResult:
    """The browser's answer to ``gate_options``: the grant, as a good app code opens it."""
    staff, session = resolved.staff, resolved.session
    if not totp.is_enrolled(staff):
        return GateResult(False, ERROR_NOT_ALLOWED)
    if passkeys.parse_response(response) is None:  # not a guess: nothing to count
        return GateResult(False, passkeys.ERROR_MALFORMED)
    binding = binding_of(session)
    if not passkeys.has_live_challenge(db, purpose=passkeys.PURPOSE_STAFF_STEPUP, binding=binding, now=now):
        return GateResult(False, passkeys.ERROR_EXPIRED)  # nothing asked: nothing to guess either
    key = staff_core.stepup_key(staff)
    wait = throttle.reserve(db, key, staff_core.STEPUP_POLICY, now)
    if wait:
        return GateResult(False, "stepup.error.locked", wait)
    result = passkeys.check_assertion(db, purpose=passkeys.PURPOSE_STAFF_STEPUP, binding=binding,
                                      response=response, now=now, owner=owner_of(staff))
    if not result.ok:
        name = result.credential.name if result.credential is not None else ""
        if result.cloned:
            _staff_audit(db, actor, "staff_passkey_cloned", now=now, passkey=name)
        _staff_audit(db, actor, "staff_verification_failed", now=now, method=METHOD_PASSKEY,
                     reason=result.reason or "")
        return GateResult(False, ERROR_CLONED if result.cloned else result.error_key,
                          throttle.seconds_locked(db, key, now), cloned=result.cloned)
    throttle.clear(db, key)
    staff_core.start_grant(db, session, staff_core.GRANT_PASSKEY, now=now)
    _staff_audit(db, actor, "staff_verified", now=now, method=METHOD_PASSKEY, passkey=result.credential.name)
    return GateResult(True)


# --- my sign-in methods ------------------------------------------------------------------


@dataclass(frozen=True)
class PasskeyRow:
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    synced: bool


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error_key: str | None = None
    name: str = ""
    options: str = ""


def _lock(db: Session, staff: StaffUser) -> None:
    """One change of this staff member's passkeys at a time (a row lock on PostgreSQL;
    SQLite runs one writer anyway)."""
    db.exec(select(StaffUser.id).where(StaffUser.id == staff.id).with_for_update()).first()


def rows(db: Session, staff: StaffUser) -> list[PasskeyRow]:
    return [PasskeyRow(r.id, r.name, r.created_at, r.last_used_at, r.synced)
            for r in passkeys.credentials_of(db, owner_of(staff))]


def may_remove_any(db: Session, staff: StaffUser) -> bool:
    """With passkeys required, the last one stays (the console would lock its owner out)."""
    return not required() or len(passkeys.credentials_of(db, owner_of(staff))) > 1


def begin_add(db: Session, staff: StaffUser, session: StaffSession, name: object, *, now: datetime) -> Outcome:
    """Options for the browser's "create a passkey" prompt, for a passkey called ``name``.
    The caller holds a live grant (``access`` is not ``ACCESS_NONE``)."""
    clean = passkeys.clean_name(name)
    if clean is None:
        return Outcome(False, passkeys.ERROR_NAME)
    if access(db, staff, session, now) == ACCESS_NONE:
        return Outcome(False, ERROR_NOT_ALLOWED)
    if len(passkeys.credentials_of(db, owner_of(staff))) >= passkeys.MAX_CREDENTIALS:
        return Outcome(False, passkeys.ERROR_TOO_MANY)
    options = passkeys.registration_options(db, owner=owner_of(staff), binding=binding_of(session),
                                            user_name=staff.email, display_name=staff.name, now=now)
    return Outcome(True, name=clean, options=options)


def finish_add(db: Session, actor: StaffActor, staff: StaffUser, session: StaffSession, *, response: object,
               name: object, now: datetime) -> Outcome:
    """Store the passkey the browser made (the grant is asked again: it may have changed)."""
    clean = passkeys.clean_name(name)
    if clean is None:
        return Outcome(False, passkeys.ERROR_NAME)
    _lock(db, staff)  # an app grant adds one passkey at most: two answers at once must not both pass
    if access(db, staff, session, now) == ACCESS_NONE:
        return Outcome(False, ERROR_NOT_ALLOWED)
    made = passkeys.finish_registration(db, owner=owner_of(staff), binding=binding_of(session), response=response,
                                        name=clean, now=now)
    if not made.ok:
        if made.reason != passkeys.REASON_MALFORMED:
            _staff_audit(db, actor, "staff_passkey_add_failed", now=now, reason=made.reason or "")
        return Outcome(False, made.error_key)
    _staff_audit(db, actor, "staff_passkey_added", now=now, passkey=clean, synced=made.credential.synced,
                 grant=session.grant_method or "")
    return Outcome(True, name=clean)


def rename(db: Session, actor: StaffActor, staff: StaffUser, credential_pk: object, name: object, *,
           now: datetime) -> Outcome:
    row = passkeys.find(db, owner_of(staff), credential_pk)
    if row is None:
        return Outcome(False, ERROR_NOT_FOUND)
    clean = passkeys.clean_name(name)
    if clean is None:
        return Outcome(False, passkeys.ERROR_NAME)
    previous = row.name
    passkeys.rename(db, row, clean)
    _staff_audit(db, actor, "staff_passkey_renamed", now=now, previous=previous, passkey=clean)
    return Outcome(True, name=clean)


def remove(db: Session, actor: StaffActor, staff: StaffUser, credential_pk: object, *, now: datetime) -> Outcome:
    _lock(db, staff)  # two removals at once must not both pass the "not the last one" check
    row = passkeys.find(db, owner_of(staff), credential_pk)
    if row is None:
        return Outcome(False, ERROR_NOT_FOUND)
    if not may_remove_any(db, staff):
        _staff_audit(db, actor, "staff_passkey_remove_refused", now=now, passkey=row.name)
        return Outcome(False, ERROR_LAST)
    name = row.name
    if not passkeys.delete_credential(db, row):
        return Outcome(False, ERROR_NOT_FOUND)
    _staff_audit(db, actor, "staff_passkey_removed", now=now, passkey=name)
    return Outcome(True, name=name)
