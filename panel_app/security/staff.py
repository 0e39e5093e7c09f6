"""The provider's support staff: accounts, sessions, the mandatory authenticator app.

Staff are not customers: their own table (``StaffUser``), their own sessions
(``StaffSession``) behind their own HttpOnly cookie (``panel_staff``), a shorter idle
timeout (``PANEL_STAFF_IDLE_SECONDS``, 15 min) and no email or WhatsApp codes: every
staff page needs a live grant from the authenticator app (set up at the first sign-in) or
from a passkey or security key (``services/staff_passkeys.py``, which also decides what a
grant opens under ``PANEL_STAFF_REQUIRE_PASSKEY``). A customer cookie never resolves here and a staff cookie never resolves in
``security/sessions.py``, so neither side can open the other's pages.

An account is created by the CLI with a one-time setup link (keyed hash, 72 h) on
which the person chooses a password.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from panel_app.models import StaffSession, StaffUser
from panel_app.security import throttle, totp
from panel_app.security.crypto import keyed_hash
from panel_app.security.policy import POLICY
from panel_app.security.passwords import MAX_PASSWORD_LENGTH, hash_password, password_problem, verify_password

COOKIE_NAME = "panel_staff"
ROLE_STAFF = "staff"
ROLE_ADMIN = "staff_admin"
ROLES = (ROLE_STAFF, ROLE_ADMIN)
SETUP_VALID = POLICY.staff_setup_valid
SESSION_ABSOLUTE = POLICY.staff_session_absolute
GRANT_SECONDS = POLICY.staff_grant_seconds
TOUCH_EVERY_SECONDS = 30
STEPUP_POLICY = POLICY.staff_stepup_backoff
_TOKEN_MAX = 100


def _hash(token: str, purpose: str) -> str:
    return keyed_hash(token, purpose)


def _plausible(token: object) -> bool:
    return isinstance(token, str) and 20 <= len(token) <= _TOKEN_MAX and token.isascii()


def first_name(staff: StaffUser) -> str:
    """What customers see of a staff member."""
    return (staff.name.split() or ["Support"])[0][:40]


def label(staff: StaffUser) -> str:
    return f"Support ({first_name(staff)})"


# --- accounts -----------------------------------------------------------------------


def create(db: Session, *, email: str, name: str, admin: bool, now: datetime) -> tuple[StaffUser, str]:
    """A new staff account without a password; returns it and the setup token (shown once)."""
    from panel_app.services.validation import ValidationError, clean_text, normalize_email

    address = normalize_email(email, "email")
    if db.exec(select(StaffUser).where(StaffUser.email == address)).first() is not None:
        raise ValidationError("email", "staff.error.exists")
    token = secrets.token_urlsafe(32)
    row = StaffUser(email=address, name=clean_text(name, "name", max_length=200, required=True),
                    role=ROLE_ADMIN if admin else ROLE_STAFF, setup_token_hash=_hash(token, "staff-setup"),
                    setup_expires_at=now + SETUP_VALID, created_at=now)
    db.add(row)
    db.flush()
    return row, token


def setup_account(db: Session, token: object, password: object, *, now: datetime) -> StaffUser | None:
    """Set the first password from the setup link (single use). None if the link does not work;
    raises ``ValidationError`` for a weak password (the link stays usable)."""
    from panel_app.services.validation import ValidationError

    if not _plausible(token):
        return None
    staff = db.exec(select(StaffUser).where(StaffUser.setup_token_hash == _hash(token, "staff-setup"))).first()
    if staff is None or staff.setup_expires_at is None or staff.setup_expires_at <= now or not staff.is_active:
        return None
    problem = password_problem(password, user_inputs=(staff.email, staff.name))
    if problem is not None:
        raise ValidationError("password", problem)
    claimed = db.execute(update(StaffUser).where(StaffUser.id == staff.id,
                                                 StaffUser.setup_token_hash == staff.setup_token_hash)
                         .values(setup_token_hash=None, setup_expires_at=None, password_hash=hash_password(password))
                         .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        return None
    db.refresh(staff)
    return staff


# --- sessions -----------------------------------------------------------------------


@dataclass(frozen=True)
class StaffLogin:
    ok: bool
    token: str | None = None
    retry_after_seconds: int = 0
    staff_id: int | None = None


def _account_key(email: str) -> str:
    return "staff:login:" + hashlib.sha256(email.encode()).hexdigest()


def login(db: Session, *, email: object, password: object, ip: str, user_agent: str, now: datetime) -> StaffLogin:
    """Password sign-in (throttled per address and per IP like customers'). The session
    holds no grant: every staff page then asks for the app."""
    clean = email.strip().lower() if isinstance(email, str) and len(email) <= 254 else ""
    keys = [(f"staff:ip:{ip[:64]}", throttle.LOGIN_IP_POLICY)] + ([(_account_key(clean), throttle.LOGIN_ACCOUNT_POLICY)]
                                                                  if clean else [])
    wait = throttle.reserve_all(db, keys, now)
    if wait:
        return StaffLogin(False, retry_after_seconds=wait)
    staff = db.exec(select(StaffUser).where(StaffUser.email == clean)).first() if clean else None
    candidate = password if isinstance(password, str) and len(password) <= MAX_PASSWORD_LENGTH else ""
    ok = verify_password(candidate, staff.password_hash if staff is not None else None)
    if staff is None or not ok or not staff.is_active:
        return StaffLogin(False)
    throttle.clear(db, _account_key(clean))
    throttle.give_back(db, keys[0][0])
    token = secrets.token_urlsafe(32)
    row = StaffSession(staff_id=staff.id, token_hash=_hash(token, "staff-session"), created_at=now,
                       last_seen_at=now, expires_at=now + SESSION_ABSOLUTE, ip=ip[:64], user_agent=user_agent[:300])
    db.add(row)
    db.flush()
    return StaffLogin(True, token=token, staff_id=staff.id)


@dataclass(frozen=True)
class ResolvedStaff:
    staff: StaffUser
    session: StaffSession


def resolve(db: Session, token: object, *, now: datetime, idle_seconds: int, touch: bool = True) -> ResolvedStaff | None:
    if not _plausible(token):
        return None
    row = db.exec(select(StaffSession).where(StaffSession.token_hash == _hash(token, "staff-session"))).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if row.last_seen_at + timedelta(seconds=idle_seconds) <= now:
        revoke(db, row, now=now)
        return None
    staff = db.get(StaffUser, row.staff_id)
    if staff is None or not staff.is_active:
        return None
    if touch and (now - row.last_seen_at).total_seconds() >= TOUCH_EVERY_SECONDS:
        row.last_seen_at = now
        db.add(row)
        db.flush()
    return ResolvedStaff(staff, row)


def revoke(db: Session, row: StaffSession, *, now: datetime) -> None:
    if row.revoked_at is None:
        row.revoked_at = now
    row.grant_expires_at = None
    row.grant_method = None
    db.add(row)
    db.flush()


def logout(db: Session, token: object, *, now: datetime) -> StaffSession | None:
    if not _plausible(token):
        return None
    row = db.exec(select(StaffSession).where(StaffSession.token_hash == _hash(token, "staff-session"))).first()
    if row is not None:
        revoke(db, row, now=now)
    return row


def grant_valid(row: StaffSession, now: datetime) -> bool:
    return row.grant_expires_at is not None and row.grant_expires_at > now


# --- the authenticator app (mandatory) ------------------------------------------------


def begin_enrollment(db: Session, staff: StaffUser) -> tuple[str, str]:
    """Only while no app is set up (an app is replaced by a staff admin resetting it)."""
    secret = totp.new_secret()
    staff.totp_pending_secret_enc = totp.encrypt_secret(secret)
    db.add(staff)
    db.flush()
    return secret, totp.provisioning_uri(secret, f"staff:{staff.email}")


def stepup_key(staff: StaffUser) -> str:
    """The guess budget of the console's gate: app codes and passkeys alike."""
    return f"staff:stepup:{staff.id}"


GRANT_TOTP = "totp"
GRANT_PASSKEY = "passkey"


def start_grant(db: Session, session: StaffSession, method: str, *, now: datetime) -> None:
    """Open the console for ``GRANT_SECONDS``; ``method`` says what proved it (with
    ``PANEL_STAFF_REQUIRE_PASSKEY`` only a passkey's grant opens the pages)."""
    session.grant_expires_at = now + timedelta(seconds=GRANT_SECONDS)
    session.grant_method = method
    db.add(session)
    db.flush()


@dataclass(frozen=True)
class StaffVerify:
    ok: bool
    error_key: str | None = None
    retry_after_seconds: int = 0


def verify(db: Session, resolved: ResolvedStaff, submitted: object, *, now: datetime) -> StaffVerify:
    """An app code: confirms a pending set-up, or opens a grant. Guesses are throttled
    like customers' (5 free, then 30 s doubling to 1 h); malformed input is not a guess."""
    from panel_app.security.codes import normalize_digits, error_key_for

    staff, session = resolved.staff, resolved.session
    value, reason = normalize_digits(submitted, totp.DIGITS)
    if value is None:
        return StaffVerify(False, error_key_for(reason))
    wait = throttle.reserve(db, stepup_key(staff), STEPUP_POLICY, now)
    if wait:
        return StaffVerify(False, "stepup.error.locked", wait)
    pending = staff.totp_pending_secret_enc if not totp.is_enrolled(staff) else None
    check = totp.check_code(db, staff, value, now, secret_enc=pending)
    if not check.ok:
        return StaffVerify(False, check.error_key, throttle.seconds_locked(db, stepup_key(staff), now))
    throttle.clear(db, stepup_key(staff))
    if pending is not None:
        activated = db.execute(update(StaffUser).where(StaffUser.id == staff.id,
                                                       StaffUser.totp_pending_secret_enc == pending)
                               .values(totp_secret_enc=pending, totp_pending_secret_enc=None, totp_enabled_at=now)
                               .execution_options(synchronize_session=False))
        if activated.rowcount != 1:
            return StaffVerify(False, "stepup.error.totp_no_pending")
        db.refresh(staff)
    start_grant(db, session, GRANT_TOTP, now=now)
    return StaffVerify(True)


def end_grant(db: Session, session: StaffSession) -> None:
    session.grant_expires_at = None
    session.grant_method = None
    db.add(session)
    db.flush()
