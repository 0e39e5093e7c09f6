"""Self-service password reset ("Forgot password?").

1. ``request_link``: a single-use link by email, valid ``LINK_VALID_SECONDS`` (30 min),
   stored as a keyed hash. The answer is the same whether or not the address exists
   (the caller always shows "if the address is known, a link is on its way" and sends
   in the background), throttled per address and per client IP.
2. The link alone proves only the mailbox, the factor most often stolen together with
   the password. So before a new password is set the user proves a *second* factor that
   is not that mailbox: the authenticator app, a code by WhatsApp, a recovery code or a
   passkey (``verify_factor``; its options from ``passkey_options``). Each try counts in the step-up guess budget of the browser
   (``stepup.reserve_guess``), so the README's bound holds here too.
3. ``complete``: the new password is set, every session and grant of the user ends,
   every known device is forgotten, the login throttles of the address are cleared.
   With no second factor at all, the reset is *scheduled* like a contact change
   without the old factor (``factor_changes``: waiting period, announced on every
   channel, cancellable by a session verified with a settled factor) and the link is used up.

The caller notifies the user on every channel after the commit. Audit (area ``auth``,
never a token, code or password): ``password_reset_requested``,
``password_reset_throttled``, ``password_reset_factor_verified``,
``password_reset_factor_failed``, ``password_reset_completed``, ``password_reset_scheduled``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from panel_app.models import PasswordReset, User
from panel_app.security import codes, devices, sessions, throttle
from panel_app.security.policy import POLICY
from panel_app.security.crypto import keyed_hash
from panel_app.security.passwords import hash_password, password_problem
from panel_app.security.permissions import Area
from panel_app.services import methods, stepup
from panel_app.services.audit import Actor, record
from panel_app.services.methods import passkey as passkey_method
from panel_app.services.auth import _account_key, _clean_email
from panel_app.services.validation import ValidationError
from panel_app.settings import get_settings

LINK_VALID_SECONDS = POLICY.reset_link_valid_seconds
REQUESTS_PER_ADDRESS_AND_IP = POLICY.reset_requests_per_address_and_ip
REQUESTS_PER_ADDRESS = POLICY.reset_requests_per_address
REQUESTS_PER_IP = POLICY.reset_requests_per_ip
REQUEST_WINDOW_SECONDS = POLICY.reset_request_window_seconds
_TOKEN_MAX_LENGTH = 100

# The second factors a reset accepts: the methods that ``proves_password_reset``, never
# the mailbox the link went to (services/methods).

METHOD_PASSKEY = passkey_method.NAME

ERROR_LINK_INVALID = "reset.error.link_invalid"
ERROR_NOT_VERIFIED = "reset.error.not_verified"


def _hash(token: str) -> str:
    return keyed_hash(token, "password-reset")


def _scope(reset: PasswordReset) -> methods.CodeScope:
    """WhatsApp codes of a reset are bound to that reset (there is no login session)."""
    return methods.CodeScope(None, f"reset:{reset.id}")


def request_link(db: Session, *, email: object, ip: str, now: datetime) -> tuple[int, str] | None:
    """``(user_id, token)`` to mail a link to, or None (unknown address, inactive user or
    throttled): the caller answers the same either way. An earlier unused link of the
    user stops working."""
    clean = _clean_email(email)
    if clean is None:
        return None
    address = keyed_hash(clean, "reset-address")
    wait = 0
    for key, limit in ((f"reset:ip:{ip[:64]}", REQUESTS_PER_IP),
                       (f"reset:addr-ip:{address}:{ip[:64]}", REQUESTS_PER_ADDRESS_AND_IP),
                       (f"reset:addr:{address}", REQUESTS_PER_ADDRESS)):
        wait = throttle.reserve_in_window(db, key, limit, REQUEST_WINDOW_SECONDS, now)
        if wait:
            break
    user = db.exec(select(User).where(User.email == clean)).first()
    if user is None or not user.is_active:
        return None
    actor = Actor(user.id, user.account_id, user.email, ip, "")
    if wait:
        # In the user's activity log at most once a minute: anyone may send these.
        if not throttle.reserve(db, f"log:reset_throttled:{user.id}", throttle.ONCE_A_MINUTE, now):
            record(db, actor, Area.AUTH, "password_reset_throttled", now=now, retry_after_seconds=wait)
        return None
    db.execute(update(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
               .values(used_at=now).execution_options(synchronize_session=False))
    token = secrets.token_urlsafe(32)
    db.add(PasswordReset(user_id=user.id, token_hash=_hash(token), created_at=now, ip=ip[:64],
                         expires_at=now + timedelta(seconds=LINK_VALID_SECONDS)))
    record(db, actor, Area.AUTH, "password_reset_requested", now=now)
    return user.id, token


@dataclass(frozen=True)
class OpenReset:
    reset: PasswordReset
    user: User

    @property
    def verified(self) -> bool:
        return self.reset.factor_verified_at is not None


def open_link(db: Session, token: object, now: datetime) -> OpenReset | None:
    """The live reset behind ``token`` (unused, not expired, user active), else None."""
    if not isinstance(token, str) or not 20 <= len(token) <= _TOKEN_MAX_LENGTH or not token.isascii():
        return None
    reset = db.exec(select(PasswordReset).where(PasswordReset.token_hash == _hash(token))).first()
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        return None
    user = db.get(User, reset.user_id)
    if user is None or not user.is_active:
        return None
    return OpenReset(reset, user)


def methods_for(db: Session, user: User, now: datetime) -> list[str]:
    """The *settled* second factors of this user (empty: the reset can only be scheduled).

    An app (with its recovery codes) or a mobile number set up less than the factor-change
    waiting period ago does not count: whoever holds the mailbox can add one with an email
    code, and must not then reset the password with it and lock the owner out."""
    settle_seconds = get_settings().factor_change_delay_seconds
    return [method.name for method in methods.registered()
            if method.proves_password_reset and method.is_settled(db, user, now, settle_seconds)]


NOT_SET_UP = "missing"
SET_UP_RECENTLY = "recent"


def methods_not_offered(db: Session, user: User, now: datetime) -> list[tuple[str, str]]:
    """``(method, why)`` for each second factor of a reset this account is not offered
    (``methods_for``): ``NOT_SET_UP``, or ``SET_UP_RECENTLY`` (less than the waiting period
    ago). A fallback is left out while the factor it falls back for is not set up at all:
    "no app" already says it."""
    settle_seconds = get_settings().factor_change_delay_seconds
    missing: set[str] = set()
    result = []
    for method in methods.registered():
        if not method.proves_password_reset:
            continue
        if not method.is_available(db, user):
            missing.add(method.name)
            if not (method.fallback and method.factor in missing):
                result.append((method.name, NOT_SET_UP))
        elif not method.is_settled(db, user, now, settle_seconds):
            result.append((method.name, SET_UP_RECENTLY))
    return result


def send_whatsapp_code(db: Session, opened: OpenReset, *, now: datetime,
                       device_id: int | None) -> codes.IssueOutcome:
    """A code to the user's mobile number for this reset (cooldown and hourly limit as
    for step-up codes, in the browser's budget)."""
    if stepup.METHOD_WHATSAPP not in methods_for(db, opened.user, now) or opened.verified:
        return codes.IssueOutcome(ok=False, error_key=stepup.ERROR_METHOD_UNAVAILABLE, reason="channel_unavailable")
    return methods.get(stepup.METHOD_WHATSAPP).challenge(db, user=opened.user, scope=_scope(opened.reset),
                                                         now=now, device_id=device_id)


def passkey_options(db: Session, opened: OpenReset, *, now: datetime) -> str | None:
    """Options (JSON) for the browser's passkey prompt, bound to this reset; None when a
    passkey is not a settled factor of the user, the factor is already proven, or this reset
    asked for too many (each is a challenge row)."""
    if opened.verified or METHOD_PASSKEY not in methods_for(db, opened.user, now):
        return None
    if throttle.reserve_in_window(db, f"passkey:reset-options:{opened.reset.id}", POLICY.passkey_reset_options,
                                  POLICY.passkey_reset_options_window_seconds, now):
        return None
    return methods.get(METHOD_PASSKEY).options_for(db, user=opened.user, scope=_scope(opened.reset), now=now)


@dataclass(frozen=True)
class FactorResult:
    ok: bool
    error_key: str | None = None
    retry_after_seconds: int = 0
    used_recovery_code: bool = False
    recovery_codes_left: int | None = None
    alert: str | None = None  # "passkey_cloned": the caller tells the user on every channel


def verify_factor(db: Session, opened: OpenReset, *, method: object, submitted: object, now: datetime,
                  actor: Actor, device_id: int | None) -> FactorResult:
    """Prove a second factor for this reset. Malformed input is not a guess; every
    well-formed one counts in the browser's step-up guess budget before it is compared."""
    user, reset = opened.user, opened.reset
    if opened.verified:
        return FactorResult(ok=True)
    if not isinstance(method, str) or method not in methods_for(db, user, now):
        return FactorResult(ok=False, error_key=stepup.ERROR_METHOD_UNAVAILABLE)
    found = methods.get(method)
    value, error_key = found.normalize(submitted)
    if value is None:
        return FactorResult(ok=False, error_key=error_key)
    # Nothing to compare against (no live code or challenge of this reset): no try spent,
    # as at the gate.
    known = found.nothing_to_compare(db, user=user, scope=_scope(reset), now=now)
    if known is not None:
        return FactorResult(ok=False, error_key=known.error_key)
    wait = stepup.reserve_guess(db, user, now, device_id, method)
    if wait:
        return FactorResult(ok=False, error_key=stepup.ERROR_LOCKED, retry_after_seconds=wait)
    check = found.verify(db, user=user, scope=_scope(reset), value=value, now=now)
    used_recovery, left = check.used_recovery_code, check.recovery_codes_left
    error_key = None if check.ok else check.error_key
    if error_key is not None:
        record(db, actor, Area.AUTH, "password_reset_factor_failed", now=now, method=method,
               known_device=device_id is not None, **({"reason": check.reason} if check.reason else {}))
        if check.cloned:  # a copy of the user's passkey answered
            record(db, actor, Area.AUTH, "passkey_cloned", now=now, passkey=check.credential_name or "",
                   purpose="reset")
        return FactorResult(ok=False, error_key=error_key,
                            retry_after_seconds=stepup.guess_wait_seconds(db, user, device_id, now, method),
                            alert=stepup.ALERT_CLONED if check.cloned else None)
    stepup.guess_succeeded(db, user, device_id, method)
    db.execute(update(PasswordReset).where(PasswordReset.id == reset.id, PasswordReset.factor_verified_at.is_(None))
               .values(factor_verified_at=now, factor_method=method).execution_options(synchronize_session=False))
    db.refresh(reset)
    record(db, actor, Area.AUTH, "password_reset_factor_verified", now=now, method=method,
           **({"passkey": check.credential_name} if check.credential_name else {}))
    if used_recovery:
        record(db, actor, Area.AUTH, "recovery_code_used", now=now, codes_left=left)
    return FactorResult(ok=True, used_recovery_code=used_recovery, recovery_codes_left=left)


def _checked_password(user: User, new_password: object) -> str:
    problem = password_problem(new_password, user_inputs=(user.email, user.name))
    if problem is not None:
        raise ValidationError("new_password", problem)
    return new_password


def _claim(db: Session, reset: PasswordReset, now: datetime) -> None:
    """Use the link up, once: of two simultaneous submissions exactly one goes on."""
    claimed = db.execute(update(PasswordReset).where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None),
                                                     PasswordReset.expires_at > now)
                         .values(used_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise ValidationError("link", ERROR_LINK_INVALID)


def set_new_password(db: Session, actor: Actor, user: User, password_hash: str, *, now: datetime,
                     reason: str) -> int:
    """Put a reset's new password in force: every session and grant ends, no browser stays
    known, no passkey still new stays (it needs no password: one planted with the stolen
    mailbox would sign its maker in again at once), the address's sign-in throttle starts
    afresh. Returns the sessions ended."""
    from panel_app.services import passkey_setup

    user.password_hash = password_hash
    user.password_changed_at = now
    db.add(user)
    db.flush()
    ended = sessions.revoke_user_sessions(db, user.id, reason=reason, now=now)
    devices.forget_all(db, user.id)
    passkey_setup.forget_new(db, user, now=now, actor=actor, reason=reason)
    throttle.clear(db, _account_key(user.email))
    return ended


def complete(db: Session, opened: OpenReset, *, new_password: object, now: datetime, actor: Actor) -> int:
    """Set the new password after a verified second factor. Returns the sessions ended."""
    if not opened.verified:
        raise ValidationError("link", ERROR_NOT_VERIFIED)
    password = _checked_password(opened.user, new_password)
    _claim(db, opened.reset, now)
    ended = set_new_password(db, actor, opened.user, hash_password(password), now=now, reason="password_reset")
    record(db, actor, Area.AUTH, "password_reset_completed", now=now, method=opened.reset.factor_method or "",
           sessions_ended=ended)
    return ended


def schedule(db: Session, opened: OpenReset, *, new_password: object, now: datetime, actor: Actor,
             delay_seconds: int):
    """No second factor: the new password takes effect after the waiting period, announced
    on every channel, unless a verified session cancels it."""
    from panel_app.services import factor_changes

    if methods_for(db, opened.user, now):
        raise ValidationError("link", ERROR_NOT_VERIFIED)
    password = _checked_password(opened.user, new_password)
    _claim(db, opened.reset, now)
    change = factor_changes.schedule(db, actor, opened.user, "password", hash_password(password), now=now,
                                     by=factor_changes.BY_PANEL,
                                     delay_seconds=delay_seconds, requested_by="password reset")
    record(db, actor, Area.AUTH, "password_reset_scheduled", now=now,
           effective_at=change.effective_at.isoformat(timespec="minutes"))
    return change
