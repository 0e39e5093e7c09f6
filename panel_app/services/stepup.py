"""Step-up verification for the UI: which methods a user has, sending a code,
checking it, the guess budget all methods share, starting and ending the grant.

Each method is a ``StepUpMethod`` in ``services/methods/`` (built in: ``totp``, the
authenticator app if set up; ``email``; ``whatsapp`` if the user has a phone number;
``recovery``, a single-use recovery code, a fallback for ``totp``; ``passkey``, the
browser's passkey prompt instead of a code); this module asks
the registry and never a method's name. Setting the app up: ``authenticator_setup.py``;
managing recovery codes: ``recovery_codes.py``. Results carry i18n keys; plaintext
codes appear only in results that the caller must hand on (delivery) and never keep
in Reflex state.

Guess bound. Every well-formed try of any method (app code, email or WhatsApp
code, recovery code) is counted per user *before* it is compared, with one
conditional UPDATE, so parallel requests cannot slip past the count. After 5
consecutive failures each further try has to wait 30 s, then 60 s, 120 s, ...
doubling up to 1 h (``STEPUP_POLICY``); only a successful verification resets the
count, waiting does not. Tries during a wait are refused without comparing
anything, and malformed input (not 6 digits / not a recovery code) is never
compared. Starting from zero, tries 1-5 can be made at once, try 6 after 30 s,
7 after 90 s, 8 after 210 s, 9 after 450 s, 10 after 930 s, 11 after 1,890 s,
12 after 3,810 s, and from then on one per hour (34 in the first 24 hours, 24 a
day after that). Each success of the real user restarts that schedule, so a
second, fixed bound caps the budget of unknown devices: at most 25 failed guesses
in a 24-hour window that starts with the first one. Together: at most **25
guesses in the first 24 hours and at most 50 in any 24 hours**, however often the
real user succeeds in between. A guess hits with probability at most 3 in
1,000,000 (an app code is valid for 3 time steps; an email/WhatsApp code is one
of 1,000,000; a recovery code one in 31^12), so an attacker who already has the
password succeeds within the first day with probability at most 25 x 3e-6, about
1 in 13,000, and with at most 2.7 % in a whole year of nonstop trying (at most
9,150 guesses), each failure visible in the activity log.

Known devices (``security/devices.py``). The budget above is the one of every
*unknown* device of the account together. A browser that passed step-up before
(known device cookie, ``LoginSession.device_id``) has its own schedule and its own
25-per-window cap: someone guessing with the password on an unknown device never
locks the owner out of a known browser, and opening new sessions gains no guesses.
Whoever also holds the mailbox can make a browser known with an email code and reset
its schedule with every further email code, so guesses at the **app and recovery
codes** (the factors that mailbox must not win) also count in one cap of the user
across all devices: at most 25 failed ones per 24-hour window, 50 in any 24 hours,
however many browsers are known. When a budget reaches its first wait, the owner is
told on every channel (unknown devices: "someone has your password: change it").

The per-code limits are looser and only a second line: 5 tries per code, a new
code at most every 60 s and 5 codes per hour per channel (kept per known device
and once for the unknown ones, ``security/codes.py``) would allow 2 x 5 x 5 = 50
guesses per hour on their own.

Audit (area ``auth``; never a code or secret): ``code_sent`` (channel, masked
destination), ``code_throttled`` (channel, reason, seconds), ``verification_failed``
(method, reason, consecutive failures, seconds to wait), ``verification_throttled``
(method, seconds), ``verification_succeeded`` + ``grant_started`` (+
``recovery_code_used`` with codes left) on success, ``grant_ended`` (reason),
``preferred_channel_changed``. Not recorded: malformed input,
unknown methods and calls on an unusable session (nothing was checked or changed).
Set-up and recovery codes are audited by their own modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlmodel import Session

from panel_app.db import attached
from panel_app.delivery.base import mask_destination
from panel_app.models import LoginSession, Throttle, User
from panel_app.security import codes, devices, sessions, throttle
from panel_app.security.permissions import Area
from panel_app.services import methods
from panel_app.security.policy import POLICY
from panel_app.services.audit import Actor, record
from panel_app.services.methods import CodeScope, StepUpMethod
from panel_app.services.methods import authenticator as authenticator_method
from panel_app.services.methods import email as email_method
from panel_app.services.methods import recovery as recovery_method
from panel_app.services.methods import whatsapp as whatsapp_method
from panel_app.services.validation import ValidationError

# The built-in methods' names, for code that means one of them in particular.
METHOD_TOTP = authenticator_method.METHOD.name
METHOD_EMAIL = email_method.METHOD.name  # the code methods are the channels of the same name
METHOD_WHATSAPP = whatsapp_method.METHOD.name
METHOD_RECOVERY = recovery_method.METHOD.name

PURPOSE = codes.PURPOSE_STEPUP
STEPUP_POLICY = POLICY.stepup_backoff
FAILURES_PER_WINDOW = POLICY.stepup_failures_per_window
WINDOW_SECONDS = POLICY.stepup_window_seconds

ERROR_METHOD_UNAVAILABLE = "stepup.error.method_unavailable"
ERROR_SESSION_INVALID = "stepup.error.session_invalid"
ERROR_LOCKED = "stepup.error.locked"
# The notice of a passkey whose counter went back (a cloned authenticator answered).
ALERT_CLONED = "passkey_cloned"

# --- which methods ------------------------------------------------------------------


def _offered(db: Session, user: User) -> list[StepUpMethod]:
    return [method for method in methods.registered() if method.is_available(db, user)]


def available_methods(db: Session, user: User) -> list[str]:
    """Methods offered on the verification screen, app first (fallbacks are offered apart)."""
    return [method.name for method in _offered(db, user) if not method.fallback]


def fallback_methods(db: Session, user: User) -> list[str]:
    """Fallbacks the user has now (a recovery code while the app is set up and codes are left)."""
    return [method.name for method in _offered(db, user) if method.fallback]


def default_method(db: Session, user: User) -> str:
    """The preferred channel if it is available, else the app if set up, else email."""
    return preferred_among(user, available_methods(db, user))


def preferred_among(user: User, offered: list[str]) -> str:
    """``default_method`` for the ``available_methods`` already at hand."""
    if user.preferred_channel in offered:
        return user.preferred_channel
    return offered[0]


def sends_code(method: object) -> bool:
    """The method sends a code (email, WhatsApp) rather than the user having it."""
    found = methods.get(method)
    return found is not None and found.sends_code


def destination_for(user: User, channel: str) -> str | None:
    found = methods.get(channel)
    return found.destination(user) if found is not None else None


# --- helpers --------------------------------------------------------------------------


def _session_usable(user: User, login_session: LoginSession, now: datetime) -> bool:
    return (
        login_session is not None
        and login_session.user_id == user.id
        and login_session.revoked_at is None
        and login_session.expires_at > now
        and user.is_active
    )


def delay_after_failures(failures: int) -> int:
    """Seconds a user has to wait after ``failures`` consecutive failures."""
    return STEPUP_POLICY.delay_after(failures)


def lock_seconds_left(user: User, now: datetime) -> int:
    if user.stepup_locked_until is None:
        return 0
    return codes.seconds_until(user.stepup_locked_until, now)


def _device_key(device_id: int) -> str:
    return f"stepup:device:{device_id}"


def _windows(user_id: int, device_id: int | None, method: str | None) -> list[str]:
    """The 24-hour failure caps a guess counts in: its device's (or that of all unknown
    devices of the user), and for a method ``capped_per_user`` (app or recovery codes) one
    of the user across all devices."""
    keys = [f"stepup:device-window:{device_id}" if device_id is not None else f"stepup:unknown-window:{user_id}"]
    found = methods.get(method)
    if found is not None and found.capped_per_user:
        keys.append(f"stepup:app-window:{user_id}")
    return keys


def guess_wait_seconds(db: Session, user: User, device_id: int | None, now: datetime,
                       method: str | None = None) -> int:
    """Seconds before the next guess (at ``method``) from this device (``None``: an unknown
    one) may be made."""
    if device_id is not None:
        wait = throttle.seconds_locked(db, _device_key(device_id), now)
    else:
        db.refresh(user, attribute_names=["stepup_failures", "stepup_locked_until"])
        wait = lock_seconds_left(user, now)
    return max([wait] + [throttle.window_wait(db, key, FAILURES_PER_WINDOW, now)
                         for key in _windows(user.id, device_id, method)])


def failures_so_far(db: Session, user: User, device_id: int | None) -> int:
    """Consecutive failures in this device's budget."""
    if device_id is not None:
        row = db.get(Throttle, _device_key(device_id), populate_existing=True)
        return row.failures if row is not None else 0
    return user.stepup_failures


def _reserve_schedule(db: Session, user: User, now: datetime, device_id: int | None) -> bool:
    if device_id is not None:
        return throttle.reserve(db, _device_key(device_id), STEPUP_POLICY, now) == 0
    # The unknown devices' schedule lives on the user row; the same one atomic UPDATE.
    result = db.exec(throttle.count_one_more_unless_locked(
        User, (User.id == user.id,), User.stepup_failures, User.stepup_locked_until, STEPUP_POLICY, now))
    db.refresh(user, attribute_names=["stepup_failures", "stepup_locked_until"])
    return result.rowcount == 1


def _reserve_try(db: Session, user: User, now: datetime, device_id: int | None = None,
                 method: str | None = None) -> bool:
    """Count this try as a failure in advance, unless a budget says wait. Atomic.

    The schedule (5 free, then 30 s doubling to 1 h) of the device, or of all unknown
    devices of the user together, and every 24-hour cap of ``_windows`` must have room.
    A success afterwards resets the schedule and gives the caps their try back.
    """
    taken = []
    for key in _windows(user.id, device_id, method):
        if throttle.reserve_in_window(db, key, FAILURES_PER_WINDOW, WINDOW_SECONDS, now):
            break
        taken.append(key)
    else:
        if _reserve_schedule(db, user, now, device_id):
            return True
    for key in taken:
        throttle.give_back(db, key)
    return False


def reserve_guess(db: Session, user: User, now: datetime, device_id: int | None = None,
                  method: str | None = None) -> int:
    """For a code check outside the gate that proves a factor (the code to the current
    address or number of a contact change, a password reset): count it in the same guess
    budget as the gate. 0 when it may go ahead, else the seconds to wait (nothing counted)."""
    if _reserve_try(db, user, now, device_id, method):
        return 0
    return max(1, guess_wait_seconds(db, user, device_id, now, method))


def guess_succeeded(db: Session, user: User, device_id: int | None = None, method: str | None = None) -> None:
    _reset_failures(db, user, device_id, method)


def _reset_failures(db: Session, user: User, device_id: int | None = None, method: str | None = None) -> None:
    if device_id is not None:
        throttle.clear(db, _device_key(device_id))
    else:
        user.stepup_failures = 0
        user.stepup_locked_until = None
        db.add(user)
        db.flush()
    for key in _windows(user.id, device_id, method):  # the successful try's own reservations
        throttle.give_back(db, key)


def device_of(db: Session, login_session: LoginSession | None) -> int | None:
    return devices.of_session(db, login_session) if login_session is not None else None


# --- sending a code -------------------------------------------------------------------


@dataclass(frozen=True)
class CodeRequestResult:
    ok: bool
    channel: str
    masked_destination: str = ""
    # Plaintext, only to hand to delivery. Never store, log or show it.
    code: str | None = field(default=None, repr=False)
    code_id: int | None = None
    expires_at: datetime | None = None
    error_key: str | None = None
    retry_after_seconds: int = 0


def request_stepup_code(
    db: Session, *, user: User, login_session: LoginSession, channel: str, now: datetime, actor: Actor
) -> CodeRequestResult:
    """Issue a step-up code for ``channel`` (email or whatsapp) of this login session.

    The caller hands ``code`` to delivery and then forgets it. Refused while the
    resend cooldown or the hourly limit runs (``retry_after_seconds`` says how long).
    """
    user = attached(db, user)
    login_session = attached(db, login_session)
    channel_name = channel if isinstance(channel, str) else ""
    if not _session_usable(user, login_session, now):
        return CodeRequestResult(ok=False, channel=channel_name, error_key=ERROR_SESSION_INVALID)
    method = methods.get(channel_name)
    destination = method.destination(user) if method is not None and method.sends_code else None
    if destination is None:
        return CodeRequestResult(ok=False, channel=channel_name, error_key=ERROR_METHOD_UNAVAILABLE)
    masked = mask_destination(channel_name, destination)
    outcome = method.challenge(db, user=user, scope=CodeScope(login_session.id, PURPOSE), now=now,
                               device_id=device_of(db, login_session))
    if not outcome.ok:
        record(db, actor, Area.AUTH, "code_throttled", now=now, channel=channel_name, reason=outcome.reason,
               retry_after_seconds=outcome.retry_after_seconds)
        return CodeRequestResult(ok=False, channel=channel_name, masked_destination=masked,
                                 error_key=outcome.error_key, retry_after_seconds=outcome.retry_after_seconds)
    record(db, actor, Area.AUTH, "code_sent", now=now, channel=channel_name, destination=masked)
    return CodeRequestResult(ok=True, channel=channel_name, masked_destination=masked, code=outcome.code,
                             code_id=outcome.code_id, expires_at=outcome.expires_at)


@dataclass(frozen=True)
class CodeStatus:
    """What the "I didn't get the code" panel shows about the last code sent."""

    channel: str
    masked_destination: str
    delivery_status: str
    delivery_error: str
    sent_at: datetime
    expires_at: datetime
    is_live: bool  # can still be entered (not expired, used, replaced or out of tries)
    resend_in_seconds: int
    sends_left_this_hour: int


def send_wait_seconds(db: Session, *, user: User, channel: str, now: datetime,
                      device_id: int | None = None) -> int:
    """Seconds until a new step-up code may go out on ``channel`` from this device
    (cooldown or hourly limit), whichever session sent the last one."""
    sent = codes.sends_in_window(db, user_id=user.id, channel=channel, now=now, device_id=device_id)
    return max(codes.resend_wait_seconds(db, user_id=user.id, channel=channel, purpose=PURPOSE, now=now,
                                         device_id=device_id),
               codes.hourly_wait_seconds(sent, now))


def code_status(db: Session, *, user: User, login_session: LoginSession, now: datetime,
                channel: str | None = None) -> CodeStatus | None:
    """Status of the newest step-up code of this login session (on ``channel``: each channel
    has its own), or None if none was sent."""
    row = codes.latest_code(db, user_id=user.id, session_id=login_session.id, purpose=PURPOSE, channel=channel)
    if row is None:
        return None
    device_id = device_of(db, login_session)
    sent = codes.sends_in_window(db, user_id=user.id, channel=row.channel, now=now, device_id=device_id)
    resend_in = send_wait_seconds(db, user=user, channel=row.channel, now=now, device_id=device_id)
    return CodeStatus(
        channel=row.channel,
        masked_destination=mask_destination(row.channel, row.destination),
        delivery_status=row.delivery_status,
        delivery_error=row.delivery_error,
        sent_at=row.created_at,
        expires_at=row.expires_at,
        is_live=codes.code_state(row, now) is None,
        resend_in_seconds=resend_in,
        sends_left_this_hour=max(0, codes.MAX_SENDS_PER_HOUR - len(sent)),
    )


# --- verifying ----------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    method: str
    error_key: str | None = None
    retry_after_seconds: int = 0  # wait before the next try (user lockout)
    used_recovery_code: bool = False  # the lead sends a notice email when True
    recovery_codes_left: int | None = None
    grant_expires_at: datetime | None = None
    tries_left: int | None = None  # for email/WhatsApp codes after a wrong try
    # A notice the caller sends after the commit: "verification_failures" (a known device
    # reached its first wait) or "password_suspected" (unknown devices did: on every channel).
    alert: str | None = None
    failures: int = 0


def verify_stepup(
    db: Session,
    *,
    user: User,
    login_session: LoginSession,
    method: str,
    submitted: object,
    now: datetime,
    actor: Actor,
    ttl_seconds: int,
) -> VerifyResult:
    """Check a step-up answer; on success start the grant on ``login_session``."""
    user = attached(db, user)
    login_session = attached(db, login_session)
    found = methods.get(method)
    method_name = found.name if found is not None else ""
    if not _session_usable(user, login_session, now):
        return VerifyResult(ok=False, method=method_name, error_key=ERROR_SESSION_INVALID)
    if found is None or not found.is_available(db, user):
        return VerifyResult(ok=False, method=method_name, error_key=ERROR_METHOD_UNAVAILABLE)
    value, error_key = found.normalize(submitted)
    if value is None:
        return VerifyResult(ok=False, method=method_name, error_key=error_key)

    def throttled(wait: int) -> VerifyResult:
        record(db, actor, Area.AUTH, "verification_throttled", now=now, method=method_name,
               retry_after_seconds=wait)
        return VerifyResult(ok=False, method=method_name, error_key=ERROR_LOCKED, retry_after_seconds=wait)

    device_id = device_of(db, login_session)

    def failed(reason: str, key: str, *, tries_left: int | None = None) -> VerifyResult:
        wait = guess_wait_seconds(db, user, device_id, now, method_name)
        failures = failures_so_far(db, user, device_id)
        record(db, actor, Area.AUTH, "verification_failed", now=now, method=method_name, reason=reason,
               failures=failures, retry_after_seconds=wait, known_device=device_id is not None)
        alert = None
        if wait and failures == STEPUP_POLICY.free_failures:
            alert = "verification_failures" if device_id is not None else "password_suspected"
        return VerifyResult(ok=False, method=method_name, error_key=key, retry_after_seconds=wait,
                            tries_left=tries_left, alert=alert, failures=failures)

    wait = guess_wait_seconds(db, user, device_id, now, method_name)
    if wait:
        return throttled(wait)

    scope = CodeScope(login_session.id, PURPOSE)
    # Nothing to compare against (no live code): say so without spending a try.
    known = found.nothing_to_compare(db, user=user, scope=scope, now=now)
    if known is not None:
        return failed(known.reason, known.error_key)

    if not _reserve_try(db, user, now, device_id, method_name):
        return throttled(max(1, guess_wait_seconds(db, user, device_id, now, method_name)))

    check = found.verify(db, user=user, scope=scope, value=value, now=now)
    if not check.ok:
        result = failed(check.reason, check.error_key, tries_left=check.tries_left)
        if check.cloned:  # a copy of the user's passkey answered: on every channel, whatever the budget
            record(db, actor, Area.AUTH, "passkey_cloned", now=now, passkey=check.credential_name or "")
            return replace(result, alert=ALERT_CLONED)
        return result

    _reset_failures(db, user, device_id, method_name)
    sessions.start_grant(db, login_session, method=method_name, now=now, ttl_seconds=ttl_seconds)
    record(db, actor, Area.AUTH, "verification_succeeded", now=now, method=method_name,
           **({"passkey": check.credential_name} if check.credential_name else {}))
    if check.used_recovery_code:
        record(db, actor, Area.AUTH, "recovery_code_used", now=now, codes_left=check.recovery_codes_left)
    record(db, actor, Area.AUTH, "grant_started", now=now, method=method_name,
           expires_at=login_session.grant_expires_at.isoformat())
    return VerifyResult(ok=True, method=method_name, used_recovery_code=check.used_recovery_code,
                        recovery_codes_left=check.recovery_codes_left,
                        grant_expires_at=login_session.grant_expires_at)


def end_grant(db: Session, *, login_session: LoginSession, actor: Actor, now: datetime, reason: str) -> bool:
    """End the grant of this login session (button, expiry, logout). Audited once per grant."""
    login_session = attached(db, login_session)
    had_grant = login_session.grant_expires_at is not None
    sessions.end_grant(db, login_session, now=now)
    if had_grant:
        record(db, actor, Area.AUTH, "grant_ended", now=now, reason=str(reason)[:40],
               method=login_session.grant_method or "")
    return had_grant


def set_preferred_channel(db: Session, user: User, channel: object, actor: Actor, now: datetime) -> None:
    """Store the method offered first: one the user has, never a fallback (``totp`` only if
    set up, ``whatsapp`` only with a phone)."""
    user = attached(db, user)
    if not isinstance(channel, str) or channel not in available_methods(db, user):
        raise ValidationError("channel", ERROR_METHOD_UNAVAILABLE)
    if user.preferred_channel == channel:
        return
    previous = user.preferred_channel
    user.preferred_channel = channel
    db.add(user)
    db.flush()
    record(db, actor, Area.AUTH, "preferred_channel_changed", now=now, previous=previous, channel=channel)
