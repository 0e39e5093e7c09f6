"""Passkeys and security keys (WebAuthn, with py_webauthn): challenges, registration,
assertions, and the list a person manages. For customers (``user_id``) and support staff
(``staff_id``) alike. No reflex import.

Challenges (``WebAuthnChallenge``) are 32 random bytes, single use (claimed with one
conditional UPDATE before anything is compared, so a replayed response finds it spent),
valid ``CHALLENGE_SECONDS``, and bound to their purpose and to what asked for them: the login
session (the gate, adding a passkey), the staff session, the password reset, or before
sign-in a keyed hash of this browser's pre-login cookie. The challenge a response answers is
read from its client data and must be one of those; the response must then verify against the
credential it names, which must belong to the person expected (the signed-in one, or for a
discoverable sign-in the owner of the user handle), for the relying party id and the origin of
``PANEL_PUBLIC_URL``, with user verification. A counter that does not go up (when either side
counts) is a cloned authenticator: refused, and the caller announces it.

User handles are a keyed hash of the user id (no personal data in the authenticator).
Attestation: "none" (the panel does not restrict authenticator models).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete, update
from sqlmodel import Session, select

from panel_app.models import StaffUser, User, WebAuthnChallenge, WebAuthnCredential
from panel_app.security import crypto
from panel_app.settings import get_settings
from panel_app.services.validation import parse_row_id

CHALLENGE_SECONDS = 120
LIVE_CHALLENGES = 3  # unspent per purpose and binding (tabs showing a prompt at once)
MAX_RESPONSE_CHARS = 16_000  # a real response is about 1-2 KB
MAX_CREDENTIALS = 10  # per person
MAX_CREDENTIAL_ID_BYTES = 1023  # WebAuthn: a credential id is at most 1023 bytes
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
NAME_MAX_LENGTH = 60

PURPOSE_REGISTER = "register"
PURPOSE_STEPUP = "stepup"
PURPOSE_LOGIN = "login"
PURPOSE_RESET = "reset"
PURPOSE_STAFF_REGISTER = "staff_reg"
PURPOSE_STAFF_STEPUP = "staff_step"
_REGISTER_PURPOSES = frozenset({PURPOSE_REGISTER, PURPOSE_STAFF_REGISTER})

# Reasons (audit) and error keys (screen).
REASON_MALFORMED = "malformed"
REASON_NO_CHALLENGE = "challenge_unknown"
REASON_UNKNOWN_CREDENTIAL = "credential_unknown"
REASON_INVALID = "invalid_response"
REASON_NO_USER_VERIFICATION = "user_not_verified"
REASON_COUNTER = "counter_regressed"
ERROR_MALFORMED = "passkey.error.failed"
ERROR_EXPIRED = "passkey.error.expired"
ERROR_UNKNOWN = "passkey.error.unknown_credential"
ERROR_INVALID = "passkey.error.invalid"
ERROR_COUNTER = "passkey.error.cloned"
ERROR_TOO_MANY = "passkey.error.too_many"
ERROR_DUPLICATE = "passkey.error.already_registered"
ERROR_NAME = "passkey.error.name"


@dataclass(frozen=True)
class Owner:
    """Whose passkeys: a customer's or a staff member's."""

    user_id: int | None = None
    staff_id: int | None = None

    def __post_init__(self):
        if (self.user_id is None) == (self.staff_id is None):
            raise ValueError("a passkey belongs to exactly one user or one staff member")

    def condition(self):
        if self.user_id is not None:
            return WebAuthnCredential.user_id == self.user_id
        return WebAuthnCredential.staff_id == self.staff_id


@dataclass(frozen=True)
class Binding:
    """What a challenge is bound to besides its purpose: a login session, a staff session, or a
    keyed hash of a pre-login cookie or a password reset (``binding_key``)."""

    session_id: int | None = None
    staff_session_id: int | None = None
    binding_key: str | None = None

    def hash(self) -> str | None:
        return crypto.keyed_hash(self.binding_key, "webauthn-binding") if self.binding_key else None


def relying_party() -> tuple[str, str]:
    """(rp_id, origin) of ``PANEL_PUBLIC_URL``."""
    public_url = get_settings().public_url
    parts = urlsplit(public_url)
    return parts.hostname or "localhost", f"{parts.scheme}://{parts.netloc}"


def user_handle(owner: Owner) -> bytes:
    """The opaque id the authenticator stores with a discoverable credential."""
    label = f"user:{owner.user_id}" if owner.user_id is not None else f"staff:{owner.staff_id}"
    return bytes.fromhex(crypto.keyed_hash(label, "webauthn-user-handle"))[:32]


def credentials_of(db: Session, owner: Owner) -> list[WebAuthnCredential]:
    return list(db.exec(select(WebAuthnCredential).where(owner.condition())
                        .order_by(WebAuthnCredential.created_at, WebAuthnCredential.id)).all())


def has_passkey(db: Session, owner: Owner) -> bool:
    return db.exec(select(WebAuthnCredential.id).where(owner.condition()).limit(1)).first() is not None


def newest_created_at(db: Session, owner: Owner) -> datetime | None:
    found = credentials_of(db, owner)
    return max(row.created_at for row in found) if found else None


def _descriptors(rows: list[WebAuthnCredential]):
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.structs import AuthenticatorTransport, PublicKeyCredentialDescriptor

    known = {t.value for t in AuthenticatorTransport}
    return [PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(row.credential_id),
        transports=[AuthenticatorTransport(t) for t in row.transports.split(",") if t in known] or None)
        for row in rows]


def _equals(column, value):
    return column.is_(None) if value is None else column == value


def _new_challenge(db: Session, *, purpose: str, binding: Binding, now: datetime, user_id: int | None = None,
                   staff_id: int | None = None) -> bytes:
    from webauthn.helpers import bytes_to_base64url

    raw = secrets.token_bytes(32)
    # At most LIVE_CHALLENGES unspent ones per purpose and binding (a few tabs may each show a
    # prompt): a new one replaces the oldest, so asking again and again keeps the table small.
    binding_hash = binding.hash()
    older = select(WebAuthnChallenge.id).where(
        WebAuthnChallenge.purpose == purpose, WebAuthnChallenge.used_at.is_(None),
        _equals(WebAuthnChallenge.session_id, binding.session_id),
        _equals(WebAuthnChallenge.staff_session_id, binding.staff_session_id),
        _equals(WebAuthnChallenge.binding_hash, binding_hash)).order_by(WebAuthnChallenge.id.desc()).offset(
        LIVE_CHALLENGES - 1)
    stale = list(db.exec(older).all())
    if stale:
        db.execute(delete(WebAuthnChallenge).where(WebAuthnChallenge.id.in_(stale)))
    db.add(WebAuthnChallenge(challenge=bytes_to_base64url(raw), purpose=purpose, user_id=user_id,
                             staff_id=staff_id, session_id=binding.session_id,
                             staff_session_id=binding.staff_session_id, binding_hash=binding_hash,
                             created_at=now, expires_at=now + timedelta(seconds=CHALLENGE_SECONDS)))
    db.flush()
    return raw


def registration_options(db: Session, *, owner: Owner, binding: Binding, user_name: str, display_name: str,
                         now: datetime) -> str:
    """Options for ``startRegistration`` (JSON): a discoverable credential with user
    verification, none of the owner's existing ones again."""
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers.structs import (AttestationConveyancePreference, AuthenticatorSelectionCriteria,
                                          ResidentKeyRequirement, UserVerificationRequirement)

    rp_id, _origin = relying_party()
    purpose = PURPOSE_REGISTER if owner.user_id is not None else PURPOSE_STAFF_REGISTER
    challenge = _new_challenge(db, purpose=purpose, binding=binding, now=now, user_id=owner.user_id,
                               staff_id=owner.staff_id)
    options = generate_registration_options(
        rp_id=rp_id, rp_name="Panel", user_name=user_name, user_id=user_handle(owner),
        user_display_name=display_name or user_name, challenge=challenge, timeout=CHALLENGE_SECONDS * 1000,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=_descriptors(credentials_of(db, owner)))
    return options_to_json(options)


def authentication_options(db: Session, *, purpose: str, binding: Binding, now: datetime,
                           owner: Owner | None = None) -> str:
    """Options for ``startAuthentication`` (JSON). With an ``owner``, only their credentials
    are allowed; without (sign-in), any discoverable credential of this panel."""
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import UserVerificationRequirement

    rp_id, _origin = relying_party()
    challenge = _new_challenge(db, purpose=purpose, binding=binding, now=now,
                               user_id=owner.user_id if owner else None, staff_id=owner.staff_id if owner else None)
    options = generate_authentication_options(
        rp_id=rp_id, challenge=challenge, timeout=CHALLENGE_SECONDS * 1000,
        allow_credentials=_descriptors(credentials_of(db, owner)) if owner is not None else [],
        user_verification=UserVerificationRequirement.REQUIRED)
    return options_to_json(options)


def parse_response(submitted: object) -> dict | None:
    """A response as the browser library sends it (a JSON string or an object), bounded in
    size and shape; None when it is not one."""
    if isinstance(submitted, dict):
        try:
            submitted = json.dumps(submitted)
        except (TypeError, ValueError, RecursionError):
            return None
    if not isinstance(submitted, str) or not submitted or len(submitted) > MAX_RESPONSE_CHARS:
        return None
    try:
        value = json.loads(submitted)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or not isinstance(value.get("id"), str) or not isinstance(value.get("response"),
                                                                                              dict):
        return None
    if not isinstance(value["response"].get("clientDataJSON"), str) or len(value["id"]) > 1400:
        return None
    # The id is looked up as it is (base64url only: no NUL or other text a database refuses),
    # and client data without a challenge is malformed, not a try at one.
    if not _BASE64URL.fullmatch(value["id"]) or _challenge_of(value) is None:
        return None
    return value


def _challenge_of(response: dict) -> str | None:
    """The challenge the response answers (base64url), from its client data."""
    from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

    try:
        client_data = json.loads(base64url_to_bytes(response["response"]["clientDataJSON"]))
        challenge = client_data.get("challenge") if isinstance(client_data, dict) else None
        if not isinstance(challenge, str) or not _BASE64URL.fullmatch(challenge):
            return None  # (the decoder would skip characters outside the alphabet)
        return bytes_to_base64url(base64url_to_bytes(challenge)) or None
    except Exception:  # noqa: BLE001 - any malformed client data is "no challenge"
        return None


def _reason_of(error: Exception) -> str:
    """The audit reason of py_webauthn's refusal (only its missing-UV message says so: "Could
    not verify authentication signature" is a bad signature, not a missing verification)."""
    return REASON_NO_USER_VERIFICATION if "user verification is required" in str(error).lower() else REASON_INVALID


def _claim_challenge(db: Session, *, challenge: str | None, purposes: frozenset[str], binding: Binding,
                     now: datetime, user_id: int | None = None, staff_id: int | None = None) -> bytes | None:
    """Spend the challenge ``challenge`` if it is live and bound as expected; its bytes, or None."""
    from webauthn.helpers import base64url_to_bytes

    if not challenge or len(challenge) > 100:
        return None
    conditions = [WebAuthnChallenge.challenge == challenge, WebAuthnChallenge.purpose.in_(purposes),
                  WebAuthnChallenge.used_at.is_(None), WebAuthnChallenge.expires_at > now,
                  _equals(WebAuthnChallenge.session_id, binding.session_id),
                  _equals(WebAuthnChallenge.staff_session_id, binding.staff_session_id),
                  _equals(WebAuthnChallenge.binding_hash, binding.hash())]
    if user_id is not None:
        conditions.append(WebAuthnChallenge.user_id == user_id)
    if staff_id is not None:
        conditions.append(WebAuthnChallenge.staff_id == staff_id)
    claimed = db.execute(update(WebAuthnChallenge).where(*conditions).values(used_at=now))
    return base64url_to_bytes(challenge) if claimed.rowcount == 1 else None


def answers_live_challenge(db: Session, *, purpose: str, binding: Binding, response: dict, now: datetime) -> bool:
    """Whether a parsed response answers a live, unspent challenge of this purpose and
    binding (read only: ``check_assertion`` spends it). Before a guess is counted: an answer
    to no challenge of this browser is no guess."""
    challenge = _challenge_of(response)
    if not challenge or len(challenge) > 100:
        return False
    return db.exec(select(WebAuthnChallenge.id).where(
        WebAuthnChallenge.challenge == challenge, WebAuthnChallenge.purpose == purpose,
        WebAuthnChallenge.used_at.is_(None), WebAuthnChallenge.expires_at > now,
        _equals(WebAuthnChallenge.session_id, binding.session_id),
        _equals(WebAuthnChallenge.staff_session_id, binding.staff_session_id),
        _equals(WebAuthnChallenge.binding_hash, binding.hash())).limit(1)).first() is not None


def names_its_owner(response: dict, owner: Owner) -> bool:
    """Whether the response's user handle is ``owner``'s (a discoverable sign-in must say whose)."""
    from webauthn.helpers import base64url_to_bytes

    handle = response.get("response", {}).get("userHandle")
    try:
        return isinstance(handle, str) and base64url_to_bytes(handle) == user_handle(owner)
    except Exception:  # noqa: BLE001 - not base64url
        return False


def has_live_challenge(db: Session, *, purpose: str, binding: Binding, now: datetime) -> bool:
    """Whether an unspent challenge of this purpose and binding is still live."""
    conditions = [WebAuthnChallenge.purpose == purpose, WebAuthnChallenge.used_at.is_(None),
                  WebAuthnChallenge.expires_at > now]
    if binding.session_id is not None:
        conditions.append(WebAuthnChallenge.session_id == binding.session_id)
    if binding.staff_session_id is not None:
        conditions.append(WebAuthnChallenge.staff_session_id == binding.staff_session_id)
    if binding.binding_key:
        conditions.append(WebAuthnChallenge.binding_hash == binding.hash())
    return db.exec(select(WebAuthnChallenge.id).where(*conditions).limit(1)).first() is not None


def clean_up(db: Session, now: datetime) -> int:
    """Challenges are worth nothing once expired: delete them (a periodic task)."""
    return db.execute(delete(WebAuthnChallenge).where(WebAuthnChallenge.expires_at < now)).rowcount


# --- registration -----------------------------------------------------------------------


@dataclass(frozen=True)
class Registered:
    ok: bool
    credential: WebAuthnCredential | None = None
    reason: str | None = None
    error_key: str | None = None


def clean_name(name: object) -> str | None:
    """A passkey's name: 1 to 60 printable characters (spaces collapsed), else None."""
    if not isinstance(name, str):
        return None
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > NAME_MAX_LENGTH or not cleaned.isprintable():
        return None
    return cleaned


def finish_registration(db: Session, *, owner: Owner, binding: Binding, response: object, name: str,
                        now: datetime) -> Registered:
    """Verify the browser's answer to ``registration_options`` and store the credential.
    ``name`` must already be clean (``clean_name``)."""
    from webauthn import verify_registration_response
    from webauthn.helpers import bytes_to_base64url
    from webauthn.helpers.structs import CredentialDeviceType

    parsed = parse_response(response)
    if parsed is None:
        return Registered(ok=False, reason=REASON_MALFORMED, error_key=ERROR_MALFORMED)
    purpose = PURPOSE_REGISTER if owner.user_id is not None else PURPOSE_STAFF_REGISTER
    expected = _claim_challenge(db, challenge=_challenge_of(parsed), purposes=frozenset({purpose}), binding=binding,
                                now=now, user_id=owner.user_id, staff_id=owner.staff_id)
    if expected is None:
        return Registered(ok=False, reason=REASON_NO_CHALLENGE, error_key=ERROR_EXPIRED)
    # The owner's row is locked (PostgreSQL) so that two registrations at once count each other.
    owner_table = User if owner.user_id is not None else StaffUser
    db.exec(select(owner_table.id).where(owner_table.id == (owner.user_id or owner.staff_id)).with_for_update())
    if len(credentials_of(db, owner)) >= MAX_CREDENTIALS:
        return Registered(ok=False, reason="too_many", error_key=ERROR_TOO_MANY)
    rp_id, origin = relying_party()
    try:
        verified = verify_registration_response(credential=parsed, expected_challenge=expected, expected_rp_id=rp_id,
                                                expected_origin=origin, require_user_verification=True)
    except Exception as error:  # noqa: BLE001 - py_webauthn raises several types for a bad answer
        return Registered(ok=False, reason=_reason_of(error), error_key=ERROR_INVALID)
    credential_id = bytes_to_base64url(verified.credential_id)
    # The id stored is the one in the signed authenticator data: it must be the response's (the
    # one assertions name) and no longer than WebAuthn allows (py_webauthn checks neither).
    if credential_id != parsed["id"] or len(verified.credential_id) > MAX_CREDENTIAL_ID_BYTES:
        return Registered(ok=False, reason=REASON_INVALID, error_key=ERROR_INVALID)
    if db.exec(select(WebAuthnCredential.id).where(WebAuthnCredential.credential_id == credential_id)).first():
        return Registered(ok=False, reason="duplicate", error_key=ERROR_DUPLICATE)
    transports = parsed["response"].get("transports")
    transports = [t for t in transports if isinstance(t, str) and t.isalnum() and len(t) <= 20][:8] \
        if isinstance(transports, list) else []
    row = WebAuthnCredential(
        user_id=owner.user_id, staff_id=owner.staff_id, credential_id=credential_id,
        public_key=verified.credential_public_key, sign_count=verified.sign_count, transports=",".join(transports),
        aaguid=str(verified.aaguid)[:36], synced=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        backed_up=bool(verified.credential_backed_up), name=name, created_at=now)
    db.add(row)
    db.flush()
    return Registered(ok=True, credential=row)


# --- assertions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Asserted:
    ok: bool
    credential: WebAuthnCredential | None = None
    reason: str | None = None
    error_key: str | None = None
    cloned: bool = False  # the counter went back: the caller announces it

    @property
    def user_id(self) -> int | None:
        return self.credential.user_id if self.credential is not None else None

    @property
    def staff_id(self) -> int | None:
        return self.credential.staff_id if self.credential is not None else None


def check_assertion(db: Session, *, purpose: str, binding: Binding, response: object, now: datetime,
                    owner: Owner | None = None, staff: bool = False) -> Asserted:
    """Verify an answer to ``authentication_options`` of ``purpose``. With ``owner`` the
    credential must be theirs; without, it is a discoverable sign-in (of a customer, or of
    staff with ``staff``) and the user handle must be the credential owner's. The challenge is
    spent either way. On success the counter and last use are stored."""
    from webauthn import verify_authentication_response
    from webauthn.helpers import base64url_to_bytes

    if purpose in _REGISTER_PURPOSES:
        raise ValueError("not an assertion purpose")
    parsed = parse_response(response)
    if parsed is None:
        return Asserted(ok=False, reason=REASON_MALFORMED, error_key=ERROR_MALFORMED)
    expected = _claim_challenge(db, challenge=_challenge_of(parsed), purposes=frozenset({purpose}), binding=binding,
                                now=now, user_id=owner.user_id if owner else None,
                                staff_id=owner.staff_id if owner else None)
    if expected is None:
        return Asserted(ok=False, reason=REASON_NO_CHALLENGE, error_key=ERROR_EXPIRED)
    conditions = [WebAuthnCredential.credential_id == parsed["id"]]
    if owner is not None:
        conditions.append(owner.condition())
    else:
        conditions.append(WebAuthnCredential.staff_id.is_not(None) if staff else WebAuthnCredential.user_id.is_not(None))
    row = db.exec(select(WebAuthnCredential).where(*conditions)).first()
    if row is None:
        return Asserted(ok=False, reason=REASON_UNKNOWN_CREDENTIAL, error_key=ERROR_UNKNOWN)
    row_owner = Owner(user_id=row.user_id) if row.user_id is not None else Owner(staff_id=row.staff_id)
    handle = parsed["response"].get("userHandle")
    if handle is not None or owner is None:
        try:
            handle_ok = isinstance(handle, str) and base64url_to_bytes(handle) == user_handle(row_owner)
        except Exception:  # noqa: BLE001 - not base64url
            handle_ok = False
        if not handle_ok:
            return Asserted(ok=False, reason=REASON_UNKNOWN_CREDENTIAL, error_key=ERROR_UNKNOWN)
    rp_id, origin = relying_party()
    stored_count = row.sign_count
    try:
        # The counter is compared below, after the signature: only a verified answer may say
        # "cloned" (and so alarm the owner).
        verified = verify_authentication_response(
            credential=parsed, expected_challenge=expected, expected_rp_id=rp_id, expected_origin=origin,
            credential_public_key=row.public_key, credential_current_sign_count=0, require_user_verification=True)
    except Exception as error:  # noqa: BLE001 - py_webauthn raises several types for a bad answer
        return Asserted(ok=False, credential=row, reason=_reason_of(error), error_key=ERROR_INVALID)
    new_count = verified.new_sign_count
    if (new_count > 0 or stored_count > 0) and new_count <= stored_count:
        return Asserted(ok=False, credential=row, reason=REASON_COUNTER, error_key=ERROR_COUNTER, cloned=True)
    claimed = db.execute(update(WebAuthnCredential)
                         .where(WebAuthnCredential.id == row.id, WebAuthnCredential.sign_count == stored_count)
                         .values(sign_count=new_count, last_used_at=now, backed_up=bool(verified.credential_backed_up)))
    if claimed.rowcount != 1:  # another answer with a counter was accepted meanwhile
        return Asserted(ok=False, credential=row, reason=REASON_COUNTER, error_key=ERROR_COUNTER, cloned=True)
    db.refresh(row)
    return Asserted(ok=True, credential=row)


# --- managing ---------------------------------------------------------------------------


def find(db: Session, owner: Owner, credential_pk: object) -> WebAuthnCredential | None:
    """The owner's credential with this row id (any client input), or None."""
    credential_pk = parse_row_id(credential_pk)  # bounded: a huge int would crash the query
    if credential_pk is None:
        return None
    return db.exec(select(WebAuthnCredential).where(WebAuthnCredential.id == credential_pk, owner.condition())).first()


def rename(db: Session, row: WebAuthnCredential, name: str) -> None:
    row.name = name
    db.add(row)
    db.flush()


def delete_credential(db: Session, row: WebAuthnCredential) -> bool:
    """Delete one credential (one conditional DELETE: twice at once removes it once)."""
    return db.execute(delete(WebAuthnCredential).where(WebAuthnCredential.id == row.id)).rowcount == 1


def forget_all(db: Session, owner: Owner) -> None:
    db.execute(delete(WebAuthnCredential).where(owner.condition()))
