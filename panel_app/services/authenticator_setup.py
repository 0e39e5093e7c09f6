"""Setting up, replacing and removing a user's authenticator app (its ``Authenticator``
row, ``services/methods/authenticator.py``).

Audit (area ``auth``; never a secret): ``totp_enrollment_started``, ``totp_enabled``,
``totp_removed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from panel_app.db import attached
from panel_app.models import Authenticator, User
from panel_app.security import codes, recovery, sessions, totp
from panel_app.security.permissions import Area
from panel_app.services.audit import Actor, record
from panel_app.services.methods import authenticator
from panel_app.services.methods import email as email_method

ERROR_NO_PENDING_TOTP = "stepup.error.totp_no_pending"


def begin_totp_enrollment(
    db: Session, user: User, now: datetime, actor: Actor | None = None
) -> tuple[str, str]:
    """Store a new pending secret; return ``(secret_base32, provisioning_uri)`` to show once.

    The active secret (if any) stays in force until a code of the new one is confirmed.
    Render the QR code with ``qr_data_uri(uri)``.
    """
    user = attached(db, user)
    secret = totp.new_secret()
    row = _row_for_setup(db, user.id, now)
    row.pending_secret_enc = totp.encrypt_secret(secret)
    db.add(row)
    db.flush()
    record(db, actor or Actor.for_user(user), Area.AUTH, "totp_enrollment_started", now=now)
    return secret, totp.provisioning_uri(secret, user.email)


def _row_for_setup(db: Session, user_id: int, now: datetime) -> Authenticator:
    """The user's app row, made if there is none (once: two set-ups at once share it)."""
    row = authenticator.row_of(db, user_id)
    if row is not None:
        return row
    try:
        with db.begin_nested():
            row = Authenticator(user_id=user_id, type=authenticator.TYPE, created_at=now)
            db.add(row)
    except IntegrityError:
        row = authenticator.row_of(db, user_id)
    return row


qr_data_uri = totp.qr_data_uri


@dataclass(frozen=True)
class EnrollmentResult:
    ok: bool
    error_key: str | None = None
    # Plaintext, shown once on the confirmation screen; only hashes are stored.
    recovery_codes: list[str] = field(default_factory=list, repr=False)


def confirm_totp_enrollment(
    db: Session, user: User, code: object, now: datetime, actor: Actor
) -> EnrollmentResult:
    """Activate the pending secret after a correct code from the app.

    Then: 10 new recovery codes (returned once), the app becomes the preferred
    method, every grant of the user ends (factors changed). A wrong code changes
    nothing and is not recorded.
    """
    user = attached(db, user)
    row = authenticator.row_of(db, user.id)
    pending = row.pending_secret_enc if row is not None else None
    if not pending:
        return EnrollmentResult(ok=False, error_key=ERROR_NO_PENDING_TOTP)
    value, reason = codes.normalize_digits(code, totp.DIGITS)
    if value is None:
        return EnrollmentResult(ok=False, error_key=codes.error_key_for(reason))
    step = totp.matching_step(totp.decrypt_secret(pending), value, now)
    if step is None:
        return EnrollmentResult(ok=False, error_key=totp.ERROR_CODE_WRONG)
    # Conditional on the pending secret: two confirmations at once activate it once.
    # The confirming step is marked used, so the same code cannot also open a grant.
    activated = db.exec(
        update(Authenticator)
        .where(Authenticator.id == row.id, Authenticator.pending_secret_enc == pending)
        .values(secret_enc=pending, pending_secret_enc=None, confirmed_at=now, last_step=step)
        .execution_options(synchronize_session=False)
    )
    if activated.rowcount != 1:
        return EnrollmentResult(ok=False, error_key=ERROR_NO_PENDING_TOTP)
    db.refresh(row)
    user.preferred_channel = authenticator.TYPE
    db.add(user)
    db.flush()
    recovery_codes = recovery.replace_codes(db, user.id, now)
    sessions.end_user_grants(db, user.id, now=now)
    record(db, actor, Area.AUTH, "totp_enabled", now=now, recovery_code_count=len(recovery_codes),
           grants_ended=True)
    return EnrollmentResult(ok=True, recovery_codes=recovery_codes)


def remove_totp(db: Session, user: User, now: datetime, actor: Actor, *,
                only_secret_enc: str | None = None) -> bool:
    """Switch the app off: secret and recovery codes go, every grant ends. False if nothing to do.

    ``only_secret_enc``: remove the app only while this is still its active secret (one
    conditional DELETE): an app set up anew since the caller looked is kept (False)."""
    user = attached(db, user)
    row = authenticator.row_of(db, user.id)
    if row is None or (not row.secret_enc and not row.pending_secret_enc):
        return False
    was_enrolled = authenticator.is_enrolled(db, user)
    condition = [Authenticator.id == row.id]
    if only_secret_enc is not None:
        condition.append(Authenticator.secret_enc == only_secret_enc)
    removed = db.execute(delete(Authenticator).where(*condition))  # twice at once: no error
    if only_secret_enc is not None and removed.rowcount != 1:
        return False
    if user.preferred_channel == authenticator.TYPE:
        user.preferred_channel = email_method.METHOD.name
    if was_enrolled:
        user.factor_removed_at = now
    db.add(user)
    db.flush()
    removed_codes = recovery.delete_codes(db, user.id)
    sessions.end_user_grants(db, user.id, now=now)
    record(db, actor, Area.AUTH, "totp_removed", now=now, was_enrolled=was_enrolled,
           recovery_codes_deleted=removed_codes, grants_ended=True)
    return True


def forget_all(db: Session, user_id: int) -> None:
    """Every app row of the user goes (an administrator who rejoins starts afresh)."""
    db.execute(delete(Authenticator).where(Authenticator.user_id == user_id))
