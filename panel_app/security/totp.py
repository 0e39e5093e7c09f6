"""TOTP (RFC 6238) for authenticator apps: SHA1, 6 digits, 30-second steps.

A code is accepted for the current step and one step either side (clock drift).
Each accepted step is stored on the row that holds the secret (a customer's
``Authenticator.last_step``, a staff member's ``StaffUser.totp_last_step``) with one
conditional UPDATE, so a step (and every earlier one) is never accepted twice, not
even from two simultaneous requests on two workers: only one UPDATE can move the value.

Secrets are stored encrypted (``crypto.encrypt``); the plaintext exists only in
memory while a code is checked or while the set-up screen shows it once.
"""

from __future__ import annotations

import base64
import hmac
import io
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import qrcode
import qrcode.image.svg
from sqlalchemy import or_, update
from sqlmodel import Session

from panel_app.security.codes import (
    ERROR_CODE_EMPTY,
    ERROR_CODE_FORMAT,
    ERROR_CODE_WRONG,
    REASON_EMPTY,
    REASON_MALFORMED,
    REASON_WRONG,
    normalize_digits,
)
from panel_app.security.crypto import decrypt, encrypt
from panel_app.security.policy import POLICY

ISSUER = "Panel"
DIGITS = POLICY.totp_digits
STEP_SECONDS = POLICY.totp_step_seconds
VALID_WINDOW = POLICY.totp_valid_window  # steps accepted before and after the current one
SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends; 32 base32 characters

ERROR_TOTP_REPLAYED = "stepup.error.totp_replayed"
ERROR_NOT_ENROLLED = "stepup.error.totp_not_enrolled"

REASON_REPLAYED = "replayed"
REASON_NOT_ENROLLED = "not_enrolled"


def new_secret() -> str:
    """A fresh random secret, base32 without padding (what authenticator apps expect)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def time_step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def _totp(secret_base32: str, digits: int = DIGITS) -> pyotp.TOTP:
    return pyotp.TOTP(secret_base32, digits=digits, interval=STEP_SECONDS)


def code_at(secret_base32: str, now: datetime, *, digits: int = DIGITS, step_offset: int = 0) -> str:
    """The code an app shows at ``now`` (shifted by ``step_offset`` steps)."""
    return _totp(secret_base32, digits).generate_otp(time_step(now) + step_offset)


def matching_step(
    secret_base32: str, code: str, now: datetime, *, digits: int = DIGITS, window: int = VALID_WINDOW
) -> int | None:
    """The time step whose code equals ``code`` within the window, or None.

    Every step of the window is compared (constant time each); if, by chance,
    two steps share the code, the newest one is returned so that the replay guard
    moves as far forward as possible.
    """
    totp = _totp(secret_base32, digits)
    current = time_step(now)
    found = None
    for step in range(current - window, current + window + 1):
        if step >= 0 and hmac.compare_digest(totp.generate_otp(step).encode(), code.encode()):
            found = step
    return found


def provisioning_uri(secret_base32: str, email: str) -> str:
    """``otpauth://`` URI for the QR code: issuer "Panel", account = the user's email."""
    return _totp(secret_base32).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """The QR code for ``uri`` as an SVG ``data:`` URI, rendered on the server."""
    qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(uri)
    qr.make(fit=True)
    image = qr.make_image(image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def encrypt_secret(secret_base32: str) -> str:
    return encrypt(secret_base32)


def decrypt_secret(secret_enc: str) -> str:
    return decrypt(secret_enc)


def is_enrolled(staff) -> bool:
    """A staff member's app is set up (customers: ``services/methods/authenticator.py``)."""
    return bool(staff.totp_secret_enc) and staff.totp_enabled_at is not None


STAFF_STEP_COLUMN = "totp_last_step"


def claim_step(db: Session, holder, step: int, *, step_column: str = STAFF_STEP_COLUMN,
               secret_column: str | None = None, secret_enc: str | None = None) -> bool:
    """Record ``step`` as used unless it (or a later step) already was. Atomic.

    ``holder`` is the row keeping the replay guard in its column ``step_column``: a
    ``StaffUser`` (the default) or a customer's ``Authenticator`` (``last_step``). With
    ``secret_column``, only while that column still holds ``secret_enc``, the secret the
    code was compared with: an app replaced meanwhile (another request) claims nothing."""
    model = type(holder)
    last_step = getattr(model, step_column)
    conditions = [model.id == holder.id, or_(last_step.is_(None), last_step < step)]
    if secret_column is not None:
        conditions.append(getattr(model, secret_column) == secret_enc)
    result = db.exec(
        update(model)
        .where(*conditions)
        .values({step_column: step})
        .execution_options(synchronize_session=False)
    )
    db.refresh(holder, attribute_names=[step_column])
    return result.rowcount == 1


@dataclass(frozen=True)
class TotpCheck:
    ok: bool
    error_key: str | None = None
    reason: str | None = None
    step: int | None = None

    @property
    def was_guess(self) -> bool:
        """True if a well-formed code was compared (a try that counts)."""
        return self.ok or self.reason in (REASON_WRONG, REASON_REPLAYED)


def check_code(
    db: Session, holder, submitted: object, now: datetime, *, secret_enc: str | None = None,
    step_column: str = STAFF_STEP_COLUMN, secret_column: str | None = None,
) -> TotpCheck:
    """Check an app code against ``holder``'s secret and claim its time step (``claim_step``).

    ``secret_enc`` defaults to a staff member's active secret; a customer's authenticator
    passes its own, enrollment the pending one (``""``: none, not set up). ``secret_column``:
    the column that held ``secret_enc`` (the claim needs it unchanged).
    """
    code, reason = normalize_digits(submitted, DIGITS)
    if code is None:
        key = ERROR_CODE_EMPTY if reason == REASON_EMPTY else ERROR_CODE_FORMAT
        return TotpCheck(ok=False, error_key=key, reason=reason or REASON_MALFORMED)
    secret_enc = secret_enc if secret_enc is not None else holder.totp_secret_enc
    if not secret_enc:
        return TotpCheck(ok=False, error_key=ERROR_NOT_ENROLLED, reason=REASON_NOT_ENROLLED)
    step = matching_step(decrypt_secret(secret_enc), code, now)
    if step is None:
        return TotpCheck(ok=False, error_key=ERROR_CODE_WRONG, reason=REASON_WRONG)
    if not claim_step(db, holder, step, step_column=step_column, secret_column=secret_column,
                      secret_enc=secret_enc):
        return TotpCheck(ok=False, error_key=ERROR_TOTP_REPLAYED, reason=REASON_REPLAYED, step=step)
    return TotpCheck(ok=True, step=step)
