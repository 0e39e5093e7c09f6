"""Password hashing with argon2id (libpass, imported as ``passlib``)."""

from __future__ import annotations

from passlib.hash import argon2

MAX_PASSWORD_LENGTH = 1024
MIN_PASSWORD_LENGTH = 10

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
