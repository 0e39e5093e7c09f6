"""Password hashing with argon2id (libpass, imported as ``passlib``)."""

from __future__ import annotations

from passlib.hash import argon2
from zxcvbn import zxcvbn

from panel_app.security.policy import POLICY

MAX_PASSWORD_LENGTH = 1024
MIN_PASSWORD_LENGTH = POLICY.password_min_length

_hasher = argon2.using(type="ID", memory_cost=19456, time_cost=2, parallelism=1)
# Verified against when the email is unknown, so both paths cost the same.
_DUMMY_HASH = _hasher.hash("panel-timing-equaliser")


def hash_password(password: str) -> str:
    if not password or len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError("password length out of range")
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Constant work whether or not a hash exists; never raises on odd input."""
    if not isinstance(password, str) or not password or len(password) > MAX_PASSWORD_LENGTH:
        _hasher.verify("x", _DUMMY_HASH)
        return False
    if not password_hash:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    try:
        return _hasher.verify(password, password_hash)
    except (ValueError, TypeError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.needs_update(password_hash)


# --- strength (login passwords and mailbox passwords alike) ---------------------------

PASSWORD_MIN_SCORE = 3  # zxcvbn 0..4
# zxcvbn's run time grows with length; past this a password's strength is only
# judged by its start (which still catches "aaaa...").
_ZXCVBN_MAX_CHARS = 72

_DICTIONARY_HINTS = {
    "user_inputs": "mail.error.password_weak.personal",
    "passwords": "mail.error.password_weak.common",
    "male_names": "mail.error.password_weak.names",
    "female_names": "mail.error.password_weak.names",
    "surnames": "mail.error.password_weak.names",
}
_PATTERN_HINTS = {
    "spatial": "mail.error.password_weak.keyboard",
    "repeat": "mail.error.password_weak.repeat",
    "sequence": "mail.error.password_weak.sequence",
    "regex": "mail.error.password_weak.dates",  # zxcvbn's only regex: recent years
    "date": "mail.error.password_weak.dates",
}


def _weakness_key(sequence: list[dict]) -> str:
    """The i18n key naming what makes a password guessable: zxcvbn's own feedback
    looks at the longest matched part, so do we."""
    if not sequence:
        return "mail.error.password_weak"
    longest = max(sequence, key=lambda m: len(m.get("token", "")))
    if longest.get("pattern") == "dictionary":
        return _DICTIONARY_HINTS.get(longest.get("dictionary_name", ""), "mail.error.password_weak.words")
    return _PATTERN_HINTS.get(longest.get("pattern", ""), "mail.error.password_weak")


def password_problem(password: object, *, user_inputs: tuple[str, ...] = ()) -> str | None:
    """None when the password is acceptable, else the i18n key saying why not.
    The UI may call this while the user types."""
    if not isinstance(password, str) or not password:
        return "validation.required"
    if len(password) > MAX_PASSWORD_LENGTH:
        return "mail.error.password_too_long"
    if any(ord(c) < 32 or ord(c) == 127 for c in password):
        return "mail.error.password_invalid"
    try:
        password.encode("utf-8")
    except UnicodeError:
        return "mail.error.password_invalid"
    if len(password) < MIN_PASSWORD_LENGTH:
        return "validation.password_too_short"
    result = zxcvbn(password[:_ZXCVBN_MAX_CHARS], user_inputs=[u for u in user_inputs if u])
    if result["score"] < PASSWORD_MIN_SCORE:
        return _weakness_key(result["sequence"])
    return None
