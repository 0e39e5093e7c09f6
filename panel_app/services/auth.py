"""Signing in and out: password check (or a passkey), throttles, session creation, audit.

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
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, select

from panel_app.models import KnownBrowser, LoginSession, User, WebAuthnCredential
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
    login_session: LoginSession | None = field(default=None, repr=False, compare=False)


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
    return _start_session(db, user, device, ip=ip, user_agent=user_agent, now=now,
                          absolute_seconds=absolute_seconds)


def _start_session(db: Session, user: User, device, *, ip: str, user_agent: str, now: datetime,
                   absolute_seconds: int, **audit: object) -> LoginResult:
    """A new login session for ``user`` (on its known ``device``, if any), the browser noted,
    ``login`` audited (with ``audit`` besides)."""
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
           Area.AUTH, "login", now=now, target=user.email, new_browser=known is None, **audit)
    return LoginResult(LoginOutcome.OK, token=token, user_id=user.id, new_browser=known is None,
                       login_session=login_session)


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


# --- signing in with a passkey ----------------------------------------------------------
#
# A discoverable passkey with user verification is two factors in one (the device, and the
# fingerprint, face or PIN that unlocked it): the login session starts with a grant, as
# after a verification. Failed answers count per client IP (the sign-in budget passwords
# use too) and, once the credential names its user, in that user's step-up guess budget
# (of this browser if it is a known device of the user, else of the unknown ones), reserved
# before anything is compared.

PASSKEY_METHOD = "passkey"
ERROR_PASSKEY_THROTTLED = "passkey.error.throttled"
ERROR_PASSKEY_UNKNOWN = "passkey.error.sign_in_unknown"


@dataclass(frozen=True)
class PasskeyLoginResult:
    ok: bool
    token: str | None = None
    user_id: int | None = None  # also on a failure whose credential is known (for the alert)
    new_browser: bool = False
    error_key: str | None = None
    status: int = 400  # the HTTP status of a failure (429: throttled)
    retry_after_seconds: int = 0
    alert: str | None = None  # "passkey_cloned": the caller notifies the user on every channel
    known_device: bool = False  # the browser is a known device of the user already


def login_with_passkey(db: Session, *, user_id: int, ip: str, user_agent: str, now: datetime,
                       absolute_seconds: int, device_token: object, ttl_seconds: int,
                       passkey_name: str = "") -> LoginResult:
    """The login session of a user whose passkey (with user verification) just answered:
    created like ``login`` does (known device, known browser, audit ``login`` with
    ``method="passkey"``), and its grant started (``verification_succeeded`` and
    ``grant_started``, as ``services/stepup.py`` records them). The user must be active."""
    user = db.get(User, user_id)
    if user is None or not user.is_active:
        return LoginResult(LoginOutcome.INVALID)
    device = devices.find(db, device_token, user_id=user.id)
    result = _start_session(db, user, device, ip=ip, user_agent=user_agent, now=now,
                            absolute_seconds=absolute_seconds, method=PASSKEY_METHOD)
    login_session = result.login_session
    sessions.start_grant(db, login_session, method=PASSKEY_METHOD, now=now, ttl_seconds=ttl_seconds)
    actor = Actor.for_user(user, ip=ip, user_agent=user_agent, session_id=login_session.id)
    record(db, actor, Area.AUTH, "verification_succeeded", now=now, method=PASSKEY_METHOD,
           **({"passkey": passkey_name} if passkey_name else {}))
    record(db, actor, Area.AUTH, "grant_started", now=now, method=PASSKEY_METHOD,
           expires_at=login_session.grant_expires_at.isoformat())
    return result


def sign_in_with_passkey(db: Session, *, binding_key: str | None, response: object, ip: str, user_agent: str,
                         now: datetime, absolute_seconds: int, device_token: object,
                         ttl_seconds: int) -> PasskeyLoginResult:
    """Check the browser's answer to sign-in options bound to this browser's pre-login
    cookie (``binding_key``) and, if it holds, sign its owner in (``login_with_passkey``).
    A malformed answer is refused before anything is counted or stored."""
    from panel_app.services import passkeys, stepup

    parsed = passkeys.parse_response(response)
    if parsed is None:
        return PasskeyLoginResult(ok=False, error_key=passkeys.ERROR_MALFORMED)
    if not binding_key:
        return PasskeyLoginResult(ok=False, error_key=passkeys.ERROR_EXPIRED)
    binding = passkeys.Binding(binding_key=binding_key)
    # An answer to no live challenge of this browser is no guess: refused before any budget
    # is spent (as the gate does), so a credential id alone cannot lock its owner out.
    if not passkeys.answers_live_challenge(db, purpose=passkeys.PURPOSE_LOGIN, binding=binding, response=parsed,
                                           now=now):
        return PasskeyLoginResult(ok=False, error_key=passkeys.ERROR_EXPIRED)
    ip_key = _ip_key(ip)
    wait = throttle.reserve(db, ip_key, throttle.LOGIN_IP_POLICY, now)
    if wait:
        return PasskeyLoginResult(ok=False, error_key=ERROR_PASSKEY_THROTTLED, status=429, retry_after_seconds=wait)

    # Whose passkey the answer says it is (not yet proven, but with the user handle the
    # authenticator stores, which no options of a gate or a reset show): their guess budget is
    # reserved before the signature is checked, so parallel answers cannot slip past it.
    named = db.exec(select(WebAuthnCredential.user_id).where(WebAuthnCredential.credential_id == parsed["id"],
                                                             WebAuthnCredential.user_id.is_not(None))).first()
    if named is not None and not passkeys.names_its_owner(parsed, passkeys.Owner(user_id=named)):
        named = None  # refused below as an unknown passkey, in no one's budget
    user = db.get(User, named) if named is not None else None
    device = devices.find(db, device_token, user_id=user.id) if user is not None else None
    device_id = device.id if device is not None else None
    actor = Actor(user.id, user.account_id, user.email, ip, user_agent) if user is not None else None
    if user is not None:
        wait = stepup.reserve_guess(db, user, now, device_id, PASSKEY_METHOD)
        if wait:
            throttle.give_back(db, ip_key)
            # Once a minute (atomic): a script hammering a lock must not flood the log.
            if not throttle.reserve(db, f"log:passkey_throttled:{user.id}", throttle.ONCE_A_MINUTE, now):
                record(db, actor, Area.AUTH, "verification_throttled", now=now, method=PASSKEY_METHOD,
                       retry_after_seconds=wait, sign_in=True)
            return PasskeyLoginResult(ok=False, error_key=ERROR_PASSKEY_THROTTLED, status=429,
                                      retry_after_seconds=wait)

    asserted = passkeys.check_assertion(db, purpose=passkeys.PURPOSE_LOGIN, binding=binding, response=parsed,
                                        now=now)
    if asserted.ok and (user is None or asserted.user_id != user.id):  # cannot happen: ids are unique
        return PasskeyLoginResult(ok=False, error_key=passkeys.ERROR_MALFORMED)
    if not asserted.ok or not user.is_active:
        reason = asserted.reason if not asserted.ok else "user_inactive"
        if user is not None:
            record(db, actor, Area.AUTH, "login_failed", now=now, target=user.email, method=PASSKEY_METHOD,
                   reason=reason, known_device=device_id is not None)
            if asserted.cloned:  # a copy of the user's passkey answered: on every channel
                record(db, actor, Area.AUTH, "passkey_cloned", now=now, passkey=asserted.credential.name,
                       sign_in=True)
        # An unknown passkey and one of an inactive user: the same answer.
        unknown = asserted.ok or asserted.reason == passkeys.REASON_UNKNOWN_CREDENTIAL
        return PasskeyLoginResult(ok=False, error_key=ERROR_PASSKEY_UNKNOWN if unknown else asserted.error_key,
                                  user_id=user.id if user is not None else None,
                                  alert=stepup.ALERT_CLONED if asserted.cloned else None)

    throttle.give_back(db, ip_key)
    stepup.guess_succeeded(db, user, device_id, PASSKEY_METHOD)
    result = login_with_passkey(db, user_id=user.id, ip=ip, user_agent=user_agent, now=now,
                                absolute_seconds=absolute_seconds, device_token=device_token,
                                ttl_seconds=ttl_seconds, passkey_name=asserted.credential.name)
    if result.outcome is not LoginOutcome.OK:
        return PasskeyLoginResult(ok=False, error_key=ERROR_PASSKEY_UNKNOWN)
    return PasskeyLoginResult(ok=True, token=result.token, user_id=user.id, new_browser=result.new_browser,
                              known_device=device_id is not None)
