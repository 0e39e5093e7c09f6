"""One-time codes sent by email or WhatsApp: issue, throttle, check.

A code is 6 digits from ``secrets``. The database keeps only a keyed hash bound to
the user, the login session and the purpose, so a code issued for another user,
session or purpose can never match, even if the rows were mixed up.

Rules (all enforced here, all atomic so that two workers cannot break them):

* valid ``CODE_VALID_SECONDS`` (10 minutes), single use;
* a new code replaces every live code of the same user, session and purpose;
* at most ``MAX_TRIES_PER_CODE`` tries per code (each try is counted before the
  comparison, so the fifth wrong try kills the code, even under parallel requests);
* a new code only ``RESEND_COOLDOWN_SECONDS`` after the previous one for the same
  user, channel and purpose (across sessions, so a new login does not skip it);
* at most ``MAX_SENDS_PER_HOUR`` codes per user and channel within any hour.

The cooldown and the hourly limit are kept per known device and once for all unknown
devices together (``device_id``, see ``security/devices.py``): someone with the
password can use up the unknown devices' sends, never those of the owner's browser.

Input: spaces and hyphens are ignored; anything else that is not exactly six
ASCII digits is refused with ``stepup.error.code_format`` (or
``stepup.error.code_empty``). Malformed input is not a guess: it touches no
counter. A well-formed wrong code counts against the code's tries.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, func, select

from panel_app.delivery.base import CHANNEL_EMAIL, CHANNEL_WHATSAPP
from panel_app.models import User, VerificationCode
from panel_app.security.crypto import constant_time_equal, keyed_hash
from panel_app.security.policy import POLICY

CODE_DIGITS = POLICY.code_digits
CODE_VALID_SECONDS = POLICY.code_valid_seconds
MAX_TRIES_PER_CODE = POLICY.code_tries
RESEND_COOLDOWN_SECONDS = POLICY.code_resend_cooldown_seconds
MAX_SENDS_PER_HOUR = POLICY.code_sends_per_window
SEND_WINDOW_SECONDS = POLICY.code_send_window_seconds
# Longer input is refused before any processing (a 10 kB paste costs nothing).
MAX_RAW_INPUT_LENGTH = 64

CODE_CHANNELS = (CHANNEL_EMAIL, CHANNEL_WHATSAPP)

PURPOSE_STEPUP = "stepup"

ERROR_CODE_EMPTY = "stepup.error.code_empty"
ERROR_CODE_FORMAT = "stepup.error.code_format"
ERROR_CODE_WRONG = "stepup.error.code_wrong"
ERROR_CODE_EXPIRED = "stepup.error.code_expired"
ERROR_CODE_DEAD = "stepup.error.code_dead"
ERROR_CODE_USED = "stepup.error.code_used"
ERROR_NO_CODE = "stepup.error.no_code"
ERROR_RESEND_COOLDOWN = "stepup.error.resend_cooldown"
ERROR_SEND_LIMIT = "stepup.error.send_limit"
ERROR_CHANNEL_UNAVAILABLE = "stepup.error.method_unavailable"

# Reasons (machine strings, safe for the audit log).
REASON_EMPTY = "empty"
REASON_MALFORMED = "malformed"
REASON_NO_CODE = "no_code"
REASON_EXPIRED = "expired"
REASON_DEAD = "code_dead"
REASON_WRONG = "wrong"
REASON_USED = "already_used"
REASON_COOLDOWN = "cooldown"
REASON_HOURLY_LIMIT = "hourly_limit"

_REASON_KEYS = {
    REASON_EMPTY: ERROR_CODE_EMPTY,
    REASON_MALFORMED: ERROR_CODE_FORMAT,
    REASON_NO_CODE: ERROR_NO_CODE,
    REASON_EXPIRED: ERROR_CODE_EXPIRED,
    REASON_DEAD: ERROR_CODE_DEAD,
    REASON_WRONG: ERROR_CODE_WRONG,
    REASON_USED: ERROR_CODE_USED,
}

_ASCII_DIGITS = frozenset("0123456789")


def seconds_until(moment: datetime, now: datetime) -> int:
    """Whole seconds from ``now`` to ``moment``, rounded up; 0 if it has passed."""
    return max(0, math.ceil((moment - now).total_seconds()))


# --- input ------------------------------------------------------------------------


def normalize_digits(submitted: object, digits: int = CODE_DIGITS) -> tuple[str | None, str | None]:
    """``(code, None)`` for exactly ``digits`` ASCII digits (spaces/hyphens ignored),
    else ``(None, reason)`` with reason ``empty`` or ``malformed``.

    Refused: non-strings (None counts as empty), full-width or other non-ASCII
    digits, letters, wrong length, anything longer than ``MAX_RAW_INPUT_LENGTH``.
    """
    if submitted is None:
        return None, REASON_EMPTY
    if not isinstance(submitted, str) or len(submitted) > MAX_RAW_INPUT_LENGTH:
        return None, REASON_MALFORMED
    cleaned = submitted.strip().replace(" ", "").replace("-", "")
    if not cleaned:
        return None, REASON_EMPTY
    if len(cleaned) != digits or not set(cleaned) <= _ASCII_DIGITS:
        return None, REASON_MALFORMED
    return cleaned, None


def error_key_for(reason: str) -> str:
    return _REASON_KEYS[reason]


# --- hashing ----------------------------------------------------------------------


def _code_hash(code: str, *, user_id: int, session_id: int | None, purpose: str) -> str:
    binding = f"verification-code:{user_id}:{session_id if session_id is not None else '-'}:{purpose}"
    return keyed_hash(code, binding)


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


# --- issuing ----------------------------------------------------------------------


@dataclass(frozen=True)
class IssueOutcome:
    ok: bool
    # Plaintext, only to hand to delivery. Never store it, log it or put it in UI state.
    code: str | None = field(default=None, repr=False)
    code_id: int | None = None
    expires_at: datetime | None = None
    error_key: str | None = None
    reason: str | None = None
    retry_after_seconds: int = 0


def _session_filter(session_id: int | None):
    if session_id is None:
        return VerificationCode.session_id.is_(None)
    return VerificationCode.session_id == session_id


def _serialize_on_user(db: Session, user_id: int) -> None:
    """Take the user's row lock (PostgreSQL) or the write lock (SQLite) so that two
    concurrent sends for one user run one after the other and the limits hold."""
    db.exec(
        update(User)
        .where(User.id == user_id)
        .values(stepup_failures=User.stepup_failures)
        .execution_options(synchronize_session=False)
    )


def _device_filter(device_id: int | None):
    if device_id is None:
        return VerificationCode.device_id.is_(None)
    return VerificationCode.device_id == device_id


def resend_wait_seconds(db: Session, *, user_id: int, channel: str, purpose: str, now: datetime,
                        device_id: int | None = None) -> int:
    """Seconds until the cooldown after the last code on this channel for this purpose ends."""
    last = db.exec(
        select(func.max(VerificationCode.created_at)).where(
            VerificationCode.user_id == user_id,
            VerificationCode.channel == channel,
            VerificationCode.purpose == purpose,
            _device_filter(device_id),
            VerificationCode.created_at > now - timedelta(seconds=RESEND_COOLDOWN_SECONDS),
        )
    ).one()
    if last is None:
        return 0
    return seconds_until(last + timedelta(seconds=RESEND_COOLDOWN_SECONDS), now)


def sends_in_window(db: Session, *, user_id: int, channel: str, now: datetime,
                    device_id: int | None = None) -> list[datetime]:
    """Creation times of this user's codes on ``channel`` from this device (None: from
    unknown ones) within the last hour, oldest first."""
    rows = db.exec(
        select(VerificationCode.created_at)
        .where(
            VerificationCode.user_id == user_id,
            VerificationCode.channel == channel,
            _device_filter(device_id),
            VerificationCode.created_at > now - timedelta(seconds=SEND_WINDOW_SECONDS),
        )
        .order_by(VerificationCode.created_at)
    ).all()
    return list(rows)


def hourly_wait_seconds(sent_times: list[datetime], now: datetime) -> int:
    """Seconds until one more send fits into the hourly limit (0 = allowed now)."""
    if len(sent_times) < MAX_SENDS_PER_HOUR:
        return 0
    # The send that has to leave the window before another one fits.
    blocking = sent_times[len(sent_times) - MAX_SENDS_PER_HOUR]
    return max(1, seconds_until(blocking + timedelta(seconds=SEND_WINDOW_SECONDS), now))


def issue_code(
    db: Session,
    *,
    user: User,
    session_id: int | None,
    purpose: str,
    channel: str,
    destination: str,
    now: datetime,
    device_id: int | None = None,
) -> IssueOutcome:
    """Create a new code (replacing live ones) unless cooldown or hourly limit forbid it.

    A refused request changes nothing. Flushes, never commits.
    """
    if channel not in CODE_CHANNELS or not isinstance(destination, str) or not destination:
        return IssueOutcome(ok=False, error_key=ERROR_CHANNEL_UNAVAILABLE, reason="channel_unavailable")
    _serialize_on_user(db, user.id)

    cooldown = resend_wait_seconds(db, user_id=user.id, channel=channel, purpose=purpose, now=now,
                                   device_id=device_id)
    if cooldown:
        return IssueOutcome(ok=False, error_key=ERROR_RESEND_COOLDOWN, reason=REASON_COOLDOWN,
                            retry_after_seconds=cooldown)
    hourly = hourly_wait_seconds(sends_in_window(db, user_id=user.id, channel=channel, now=now,
                                                 device_id=device_id), now)
    if hourly:
        return IssueOutcome(ok=False, error_key=ERROR_SEND_LIMIT, reason=REASON_HOURLY_LIMIT,
                            retry_after_seconds=hourly)

    db.exec(
        update(VerificationCode)
        .where(
            VerificationCode.user_id == user.id,
            _session_filter(session_id),
            VerificationCode.purpose == purpose,
            VerificationCode.consumed_at.is_(None),
            VerificationCode.replaced_at.is_(None),
        )
        .values(replaced_at=now)
        .execution_options(synchronize_session="fetch")
    )
    code = new_code()
    row = VerificationCode(
        user_id=user.id,
        session_id=session_id,
        purpose=purpose,
        channel=channel,
        destination=destination[:254],
        code_hash=_code_hash(code, user_id=user.id, session_id=session_id, purpose=purpose),
        created_at=now,
        expires_at=now + timedelta(seconds=CODE_VALID_SECONDS),
        device_id=device_id,
    )
    db.add(row)
    db.flush()
    return IssueOutcome(ok=True, code=code, code_id=row.id, expires_at=row.expires_at)


# --- checking ---------------------------------------------------------------------


def latest_code(
    db: Session, *, user_id: int, session_id: int | None, purpose: str, channel: str | None = None
) -> VerificationCode | None:
    """The newest code for this user/session/purpose (optionally channel), in any state."""
    query = select(VerificationCode).where(
        VerificationCode.user_id == user_id, _session_filter(session_id), VerificationCode.purpose == purpose
    )
    if channel is not None:
        query = query.where(VerificationCode.channel == channel)
    return db.exec(query.order_by(VerificationCode.id.desc())).first()


def live_code(
    db: Session, *, user_id: int, session_id: int | None, purpose: str, channel: str | None = None
) -> VerificationCode | None:
    """The code that may still be checked: neither used nor replaced (it may have expired)."""
    query = select(VerificationCode).where(
        VerificationCode.user_id == user_id,
        _session_filter(session_id),
        VerificationCode.purpose == purpose,
        VerificationCode.consumed_at.is_(None),
        VerificationCode.replaced_at.is_(None),
    )
    if channel is not None:
        query = query.where(VerificationCode.channel == channel)
    return db.exec(query.order_by(VerificationCode.id.desc())).first()


def code_state(row: VerificationCode | None, now: datetime) -> str | None:
    """``None`` if the code can be tried, else the reason it cannot."""
    if row is None or row.consumed_at is not None or row.replaced_at is not None:
        return REASON_NO_CODE
    if row.expires_at <= now:
        return REASON_EXPIRED
    if row.attempts >= MAX_TRIES_PER_CODE:
        return REASON_DEAD
    return None


@dataclass(frozen=True)
class CheckOutcome:
    ok: bool
    error_key: str | None = None
    reason: str | None = None
    code_row_id: int | None = None
    channel: str | None = None
    tries_left: int | None = None

    @property
    def was_guess(self) -> bool:
        """True if a well-formed code was compared (a try that counts)."""
        return self.ok or self.reason in (REASON_WRONG, REASON_USED)


def check_code(
    db: Session,
    *,
    user: User,
    session_id: int | None,
    purpose: str,
    submitted: object,
    now: datetime,
    channel: str | None = None,
) -> CheckOutcome:
    """Check ``submitted`` against the live code and consume it on a match.

    The try is counted first with a conditional UPDATE (only while the code is live
    and has tries left); the match is then claimed with a second conditional UPDATE
    on ``consumed_at IS NULL``, so of two simultaneous correct submissions exactly
    one succeeds.
    """
    code, reason = normalize_digits(submitted)
    if code is None:
        return CheckOutcome(ok=False, error_key=error_key_for(reason), reason=reason)

    row = live_code(db, user_id=user.id, session_id=session_id, purpose=purpose, channel=channel)
    reason = code_state(row, now)
    if reason is not None:
        return CheckOutcome(ok=False, error_key=error_key_for(reason), reason=reason,
                            code_row_id=row.id if row else None, channel=row.channel if row else None)

    counted = db.exec(
        update(VerificationCode)
        .where(
            VerificationCode.id == row.id,
            VerificationCode.consumed_at.is_(None),
            VerificationCode.replaced_at.is_(None),
            VerificationCode.expires_at > now,
            VerificationCode.attempts < MAX_TRIES_PER_CODE,
        )
        .values(attempts=VerificationCode.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.refresh(row)
    if counted.rowcount != 1:
        # Lost a race: the code was used, replaced or ran out of tries meanwhile.
        reason = code_state(row, now) or REASON_USED
        if row.consumed_at is not None:
            reason = REASON_USED
        return CheckOutcome(ok=False, error_key=error_key_for(reason), reason=reason, code_row_id=row.id,
                            channel=row.channel)

    expected = _code_hash(code, user_id=user.id, session_id=session_id, purpose=purpose)
    if not constant_time_equal(expected, row.code_hash):
        return CheckOutcome(ok=False, error_key=ERROR_CODE_WRONG, reason=REASON_WRONG, code_row_id=row.id,
                            channel=row.channel, tries_left=max(0, MAX_TRIES_PER_CODE - row.attempts))

    claimed = db.exec(
        update(VerificationCode)
        .where(VerificationCode.id == row.id, VerificationCode.consumed_at.is_(None))
        .values(consumed_at=now)
        .execution_options(synchronize_session=False)
    )
    db.refresh(row)
    if claimed.rowcount != 1:
        return CheckOutcome(ok=False, error_key=ERROR_CODE_USED, reason=REASON_USED, code_row_id=row.id,
                            channel=row.channel)
    return CheckOutcome(ok=True, code_row_id=row.id, channel=row.channel)
