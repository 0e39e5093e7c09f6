"""Keyed hashing and encryption at rest, both derived from the one secret key."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from panel_app.settings import get_settings, load_secret_key


@functools.lru_cache(maxsize=1)
def _master_key() -> bytes:
    return load_secret_key(get_settings())


def _derive(purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"panel:" + purpose).derive(
        _master_key()
    )


@functools.lru_cache(maxsize=1)
def _hash_key() -> bytes:
    return _derive(b"keyed-hash")


@functools.lru_cache(maxsize=1)
def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(b"encryption-at-rest")))


def keyed_hash(value: str, purpose: str) -> str:
    """HMAC-SHA256 of ``value`` bound to ``purpose`` (hex). For tokens and codes."""
    message = purpose.encode() + b"\x00" + value.encode()
    return hmac.new(_hash_key(), message, hashlib.sha256).hexdigest()


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


class DecryptionError(Exception):
    pass


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:  # wrong key or tampered value
        raise DecryptionError("stored secret cannot be decrypted with this key") from exc


def reset_key_cache() -> None:
    """Tests switch secret key files; forget the derived keys."""
    _master_key.cache_clear()
    _hash_key.cache_clear()
    _fernet.cache_clear()
