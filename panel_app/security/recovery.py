"""Single-use recovery codes for users who lost their authenticator app.

Ten codes like ``k7m2-pq9x-4tva`` (12 characters from 31 lowercase letters and
digits without the look-alikes 0/o, 1/l/i: about 59 bits each). They are shown
once in plaintext; the database keeps only a keyed hash bound to the user. Using
one is an atomic conditional UPDATE on ``used_at IS NULL``.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import Session, func, select

from panel_app.models import RecoveryCode
from panel_app.security.crypto import keyed_hash
from panel_app.security.policy import POLICY

ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
GROUPS = POLICY.recovery_code_groups
GROUP_LENGTH = POLICY.recovery_code_group_length
CODE_LENGTH = GROUPS * GROUP_LENGTH
CODE_COUNT = POLICY.recovery_code_count
MAX_RAW_INPUT_LENGTH = 64

ERROR_RECOVERY_EMPTY = "stepup.error.code_empty"
ERROR_RECOVERY_FORMAT = "stepup.error.recovery_format"
ERROR_RECOVERY_WRONG = "stepup.error.recovery_wrong"

REASON_EMPTY = "empty"
REASON_MALFORMED = "malformed"

_ALPHABET_SET = frozenset(ALPHABET)


def generate_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + GROUP_LENGTH] for i in range(0, CODE_LENGTH, GROUP_LENGTH))


def normalize_recovery_code(submitted: object) -> tuple[str | None, str | None]:
    """``(12 characters, None)`` or ``(None, "empty" | "malformed")``.

    Case, spaces and hyphens do not matter; anything outside the alphabet is refused.
    """
    if submitted is None:
        return None, REASON_EMPTY
    if not isinstance(submitted, str) or len(submitted) > MAX_RAW_INPUT_LENGTH:
        return None, REASON_MALFORMED
    cleaned = submitted.strip().replace(" ", "").replace("-", "").lower()
    if not cleaned:
        return None, REASON_EMPTY
    if len(cleaned) != CODE_LENGTH or not set(cleaned) <= _ALPHABET_SET:
        return None, REASON_MALFORMED
    return cleaned, None


def _hash(normalized: str, user_id: int) -> str:
    return keyed_hash(normalized, f"recovery-code:{user_id}")


def delete_codes(db: Session, user_id: int) -> int:
    result = db.exec(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    db.flush()
    return result.rowcount


def replace_codes(db: Session, user_id: int, now: datetime) -> list[str]:
    """Delete the user's codes and store ``CODE_COUNT`` new ones; return them (plaintext, once)."""
    delete_codes(db, user_id)
    codes: list[str] = []
    while len(codes) < CODE_COUNT:
        code = generate_code()
        if code not in codes:
            codes.append(code)
    for code in codes:
        normalized, _ = normalize_recovery_code(code)
        db.add(RecoveryCode(user_id=user_id, code_hash=_hash(normalized, user_id), created_at=now))
    db.flush()
    return codes


def unused_count(db: Session, user_id: int) -> int:
    return db.exec(
        select(func.count()).select_from(RecoveryCode).where(
            RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
        )
    ).one()


def consume(db: Session, user_id: int, normalized: str, now: datetime) -> bool:
    """Mark the matching unused code as used; True if this call did it."""
    result = db.exec(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.code_hash == _hash(normalized, user_id),
               RecoveryCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
