"""Signing in and out: password check, throttles, session creation, audit.

The answer for an unknown email and for a wrong password is the same, and costs
the same (the password hasher runs either way).

Budgets: a browser with the account's known-device cookie (``security/devices.py``)
has its own failure budget; every other attempt counts per client IP and per account.
Whoever knows the address can lock the account for unknown browsers, never for the
owner's known one.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from panel_app.models import KnownBrowser, User
from panel_app.security import devices, sessions, throttle
from panel_app.security.passwords import MAX_PASSWORD_LENGTH, hash_password, needs_rehash, verify_password
from panel_app.security.permissions import Area
from panel_app.services.audit import Actor, record

MAX_EMAIL_LENGTH = 254


class LoginOutcome(str, enum.Enum):
    OK = "ok"
    INVALID = "invalid"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    token: str | None = None
    retry_after_seconds: int = 0
    user_id: int | None = None
    new_browser: bool = False


def _account_key(email: str) -> str:
    return "login:acct:" + hashlib.sha256(email.encode()).hexdigest()


def _ip_key(ip: str) -> str:
    return "login:ip:" + ip[:64]


def _device_key(device_id: int) -> str:
    return f"login:device:{device_id}"


def _clean_email(email: object) -> str | None:
    if not isinstance(email, str):
        return None
    email = email.strip().lower()
    if not email or len(email) > MAX_EMAIL_LENGTH or "@" not in email or any(ord(c) < 32 for c in email):
        return None
    return email


def browser_fingerprint(user_agent: str) -> str:
    return hashlib.sha256(user_agent.encode()).hexdigest()


def login(
    db: Session, *, email: object, password: object, ip: str, user_agent: str, now: datetime,
    absolute_seconds: int, device_token: object = None,
) -> LoginResult:
    clean = _clean_email(email)
    user = db.exec(select(User).where(User.email == clean)).first() if clean else None
    device = devices.find(db, device_token, user_id=user.id) if user is not None else None
    # Reserve the attempt first, atomically: parallel guesses cannot all pass a lock that
    # only a slow password check would set. A known device: its own budget only.
    if device is not None:
        keys = [(_device_key(device.id), throttle.LOGIN_ACCOUNT_POLICY)]
    else:
        keys = [(_ip_key(ip), throttle.LOGIN_IP_POLICY)]
        if clean:
            keys.append((_account_key(clean), throttle.LOGIN_ACCOUNT_POLICY))
    wait = throttle.reserve_all(db, keys, now)
    if wait:
        return LoginResult(LoginOutcome.THROTTLED, retry_after_seconds=wait)

    password_ok = verify_password(
        password if isinstance(password, str) and len(password) <= MAX_PASSWORD_LENGTH else "",
        user.password_hash if user else None,
    )
    if user is None or not password_ok or not user.is_active:
        if user is not None:
            record(db, Actor(user.id, user.account_id, user.email, ip, user_agent), Area.AUTH,
                   "login_failed", now=now, target=user.email)
        return LoginResult(LoginOutcome.INVALID)

    if device is not None:
        throttle.clear(db, _device_key(device.id))
    else:
        throttle.clear(db, _account_key(clean))
        throttle.give_back(db, _ip_key(ip))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.add(user)
    login_session, token = sessions.create_session(
        db, user, ip=ip, user_agent=user_agent, now=now, absolute_seconds=absolute_seconds
    )
    if device is not None:
        login_session.device_id = device.id
        devices.touch(db, device, now=now, ip=ip)
        db.add(login_session)
    fingerprint = browser_fingerprint(user_agent)
    known = db.exec(
        select(KnownBrowser).where(KnownBrowser.user_id == user.id, KnownBrowser.fingerprint == fingerprint)
    ).first()
    if known is None:
        db.add(KnownBrowser(user_id=user.id, fingerprint=fingerprint, first_seen_at=now))
    record(db, Actor.for_user(user, ip=ip, user_agent=user_agent, session_id=login_session.id),
           Area.AUTH, "login", now=now, target=user.email, new_browser=known is None)
    return LoginResult(LoginOutcome.OK, token=token, user_id=user.id, new_browser=known is None)


def check_current_password(db: Session, actor: Actor, user: User, password: object, *, now: datetime,
                           device_id: int | None = None) -> None:
    """Wherever the panel asks for the current password again: counted against the same
    budget as sign-in from this browser (reserved before the check, so parallel guesses
    cannot slip past), every wrong try audited. Raises ``ValidationError`` when wrong or locked."""
    from panel_app.services.validation import ValidationError

    # A known device: its own budget. Otherwise two: the sign-in one of the address, and
    # one of the user that changing the address does not reset.
    keys = ([_device_key(device_id)] if device_id is not None
            else [_account_key(user.email), f"password:user:{user.id}"])
    wait = throttle.reserve_all(db, [(key, throttle.LOGIN_ACCOUNT_POLICY) for key in keys], now)
    if wait:
        # Once a minute (atomic, so parallel guesses log it once): a script hammering a
        # lock must not flood the log.
        if not throttle.reserve(db, f"log:password_throttled:{user.id}", throttle.ONCE_A_MINUTE, now):
            record(db, actor, Area.SECURITY, "password_check_throttled", now=now, retry_after_seconds=wait)
        raise ValidationError("current_password", "security.password.throttled", seconds=wait)
    candidate = password if isinstance(password, str) and len(password) <= MAX_PASSWORD_LENGTH else ""
    if not verify_password(candidate, user.password_hash):
        record(db, actor, Area.SECURITY, "password_check_failed", now=now)
        raise ValidationError("current_password", "security.password.current_wrong")
    for key in keys:
        throttle.give_back(db, key)


def logout(db: Session, token: object, *, now: datetime, ip: str = "", user_agent: str = "") -> bool:
    row = sessions.find_by_token(db, token)
    if row is None or row.revoked_at is not None:
        return False
    sessions.revoke_session(db, row, reason="logout", now=now)
    user = db.get(User, row.user_id)
    if user is not None:
        record(db, Actor.for_user(user, ip=ip, user_agent=user_agent, session_id=row.id), Area.AUTH,
               "logout", now=now, target=user.email)
    return True
