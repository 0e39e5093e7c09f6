"""Personal data of the contract holder, and changing a user's email address or phone.

Name, company and address live on the ``Account`` (they are printed on invoices) and are
the owner's alone: a technical administrator's /profile shows only their own person
(``get_contact``). Email and phone belong to the ``User`` who logs in, each user their own. Changing either contact goes
through a separate, confirmed flow: ``start_contact_change`` checks the new value,
the caller sends a code to it, and ``apply_contact_change`` sets it once the code
is confirmed, ends every step-up grant of the user and tells the old address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from sqlmodel import Session, select

from panel_app.models import Account, User
from panel_app.security.permissions import ROLE_OWNER, Area
from panel_app.security.sessions import end_user_grants
from panel_app.services import audit
from panel_app.services.audit import Actor
from panel_app.services.validation import ValidationError, clean_text, normalize_email, normalize_phone

PROFILE_FIELDS = ("name", "company", "street", "postal_code", "city", "country", "vat_id")
CONTACT_KINDS = ("email", "phone")

COUNTRY_CODES = frozenset(r for r in phonenumbers.SUPPORTED_REGIONS if len(r) == 2 and r.isalpha())

_POSTAL_CODE_PATTERNS = {
    "DE": r"\d{5}",
    "AT": r"\d{4}",
    "CH": r"\d{4}",
    "BE": r"\d{4}",
    "DK": r"\d{4}",
    "LU": r"\d{4}",
    "NO": r"\d{4}",
    "NL": r"\d{4} ?[A-Z]{2}",
    "FR": r"\d{5}",
    "IT": r"\d{5}",
    "ES": r"\d{5}",
    "PL": r"\d{2}-\d{3}",
}
_POSTAL_CODE_GENERIC = r"[A-Z0-9][A-Z0-9 \-]{1,9}"

# VAT identification number prefixes of the EU member states (Greece: EL; XI: Northern Ireland).
EU_VAT_PREFIXES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "XI",
})
# Exact formats where they are simple and certain; other prefixes get the light check only.
_VAT_ID_PATTERNS = {
    "AT": r"ATU\d{8}",
    "BE": r"BE[01]\d{9}",
    "DE": r"DE\d{9}",
    "DK": r"DK\d{8}",
    "EL": r"EL\d{9}",
    "FI": r"FI\d{8}",
    "FR": r"FR[0-9A-HJ-NP-Z]{2}\d{9}",
    "IT": r"IT\d{11}",
    "LU": r"LU\d{8}",
    "NL": r"NL\d{9}B\d{2}",
    "PL": r"PL\d{10}",
    "PT": r"PT\d{9}",
    "SE": r"SE\d{10}01",
}
_VAT_ID_LIGHT = r"[A-Z]{2}[0-9A-Z]{2,12}"


@dataclass(frozen=True)
class ProfileRecord:
    name: str
    company: str
    street: str
    postal_code: str
    city: str
    country: str
    vat_id: str
    email: str
    phone: str  # E.164, "" if none


@dataclass(frozen=True)
class ContactRecord:
    """The signed-in user's own contact details (every user, the owner or a technician)."""

    email: str
    phone: str  # E.164, "" if none


@dataclass(frozen=True)
class ProfileUpdate:
    profile: ProfileRecord
    changed: tuple[str, ...]  # field names; empty when nothing changed (then nothing is audited)


def _account(db: Session, user: User) -> Account:
    account = db.get(Account, user.account_id)
    if account is None:  # pragma: no cover - a user always has an account (foreign key)
        raise ValidationError("profile", "error.generic")
    return account


def manages_account_data(user: User) -> bool:
    """Only the owner, the contract holder, sees and changes the account's contract data
    (no area a technical administrator can be granted covers it)."""
    return user.role == ROLE_OWNER and user.is_active


def get_contact(user: User) -> ContactRecord:
    return ContactRecord(email=user.email, phone=user.phone or "")


def get_profile(db: Session, user: User) -> ProfileRecord:
    """The contract data and the owner's contact details: the owner only."""
    if not manages_account_data(user):
        raise ValidationError("profile", "profile.error.owner_only")
    account = _account(db, user)
    return ProfileRecord(
        name=account.name,
        company=account.company,
        street=account.street,
        postal_code=account.postal_code,
        city=account.city,
        country=account.country,
        vat_id=account.vat_id,
        email=user.email,
        phone=user.phone or "",
    )


# --- field rules ---------------------------------------------------------------------


def normalize_country(value: object) -> str:
    text = clean_text(value, "country", max_length=2, required=True).upper()
    if text not in COUNTRY_CODES:
        raise ValidationError("country", "profile.error.country_invalid")
    return text


def normalize_postal_code(value: object, country: str) -> str:
    text = " ".join(clean_text(value, "postal_code", max_length=20, required=True).upper().split())
    pattern = _POSTAL_CODE_PATTERNS.get(country, _POSTAL_CODE_GENERIC)
    if not re.fullmatch(pattern, text):
        raise ValidationError("postal_code", "profile.error.postal_code_invalid", country=country)
    return text


def normalize_vat_id(value: object) -> str:
    """Upper case without spaces, dots or hyphens; "" when empty (the VAT ID is optional)."""
    text = clean_text(value, "vat_id", max_length=30)
    text = re.sub(r"[\s.\-]", "", text).upper()
    if not text:
        return ""
    if not re.fullmatch(_VAT_ID_LIGHT, text):
        raise ValidationError("vat_id", "profile.error.vat_id_invalid")
    if text[:2] not in EU_VAT_PREFIXES:
        raise ValidationError("vat_id", "profile.error.vat_id_prefix")
    exact = _VAT_ID_PATTERNS.get(text[:2])
    if exact and not re.fullmatch(exact, text):
        raise ValidationError("vat_id", "profile.error.vat_id_invalid")
    return text


def _check_owner(actor: Actor, user: User) -> None:
    """Only the owner, acting as themselves, changes the contract holder's data."""
    if actor.user_id != user.id or actor.account_id != user.account_id or user.role != ROLE_OWNER:
        raise ValidationError("profile", "profile.error.owner_only")


def update_profile(
    db: Session,
    actor: Actor,
    user: User,
    *,
    now: datetime,
    name: object = None,
    company: object = None,
    street: object = None,
    postal_code: object = None,
    city: object = None,
    country: object = None,
    vat_id: object = None,
) -> ProfileUpdate:
    """Change the contract holder's name, company, address and VAT ID (owner only).

    A field passed as ``None`` keeps its value. The audit entry ``profile_updated``
    lists the names of the changed fields only.
    """
    _check_owner(actor, user)
    account = _account(db, user)
    wanted: dict[str, str] = {}
    if name is not None:
        wanted["name"] = clean_text(name, "name", max_length=200, required=True)
    if company is not None:
        wanted["company"] = clean_text(company, "company", max_length=200)
    if street is not None:
        wanted["street"] = clean_text(street, "street", max_length=200, required=True)
    if city is not None:
        wanted["city"] = clean_text(city, "city", max_length=100, required=True)
    if country is not None:
        wanted["country"] = normalize_country(country)
    if postal_code is not None:
        wanted["postal_code"] = normalize_postal_code(postal_code, wanted.get("country", account.country))
    elif wanted.get("country", account.country) != account.country and account.postal_code:
        # The postal code kept from before must fit the new country as well.
        normalize_postal_code(account.postal_code, wanted["country"])
    if vat_id is not None:
        wanted["vat_id"] = normalize_vat_id(vat_id)

    changed = tuple(f for f in PROFILE_FIELDS if f in wanted and getattr(account, f) != wanted[f])
    if changed:
        for field in changed:
            setattr(account, field, wanted[field])
        db.add(account)
        if "name" in changed:  # the owner is the contract holder: keep their user name in step
            user.name = wanted["name"]
            db.add(user)
        db.flush()
        audit.record(db, actor, Area.PROFILE, "profile_updated", now=now, target=account.customer_number,
                     fields=list(changed))
    return ProfileUpdate(get_profile(db, user), changed)


# --- email / phone change -------------------------------------------------------------


def _check_kind(kind: object) -> str:
    if kind not in CONTACT_KINDS:
        raise ValidationError("kind", "validation.invalid")
    return kind


def _check_self(actor: Actor, user: User) -> None:
    if actor.user_id != user.id or actor.account_id != user.account_id:
        raise ValidationError("kind", "profile.error.not_allowed")


def _normalized_new_contact(db: Session, user: User, kind: str, new_value: object, *, check_taken: bool) -> str:
    if kind == "email":
        value = normalize_email(new_value, "email")
        current = user.email
    else:
        account = db.get(Account, user.account_id)
        region = account.country if account and account.country in COUNTRY_CODES else "DE"
        value = normalize_phone(new_value, "phone", default_region=region)
        current = user.phone or ""
    if value == current:
        raise ValidationError(kind, "profile.error.contact_unchanged")
    if not check_taken:
        return value
    column = User.email if kind == "email" else User.phone
    taken = db.exec(select(User.id).where(column == value, User.id != user.id)).first()
    if taken is not None:
        key = "validation.email_taken" if kind == "email" else "profile.error.phone_taken"
        raise ValidationError(kind, key)
    return value


def normalized_contact(db: Session, user: User, kind: str, new_value: object) -> str:
    """The new email (lower case) or phone (E.164), checked; raises ``ValidationError``."""
    return _normalized_new_contact(db, user, _check_kind(kind), new_value, check_taken=False)


def start_contact_change(
    db: Session, actor: Actor, user: User, kind: object, new_value: object, now: datetime
) -> str:
    """Check a new email address or phone number; return it normalized (E.164 for phones).

    Writes nothing: the caller sends a confirmation code to the returned value and
    calls ``apply_contact_change`` after the code is confirmed. Whether another user
    has the address is checked only then: before, it would let any customer probe
    which addresses are registered.
    """
    kind = _check_kind(kind)
    _check_self(actor, user)
    return _normalized_new_contact(db, user, kind, new_value, check_taken=False)


def apply_contact_change(
    db: Session, actor: Actor, user: User, kind: object, new_value: object, now: datetime
) -> str:
    """Set the confirmed new email/phone; return the old value (for the notice to it).

    Audited as ``contact_changed`` (detail: the kind only) and ends every step-up
    grant of the user, so sensitive areas need a fresh verification afterwards.
    """
    kind = _check_kind(kind)
    _check_self(actor, user)
    return set_contact(db, actor, user, kind, new_value, now)


def set_contact(db: Session, actor: Actor, user: User, kind: str, new_value: object, now: datetime) -> str:
    """Set the email/phone (checked again, including that nobody else has it), audit it and
    end every grant of the user; returns the old value. The caller decides who may."""
    value = _normalized_new_contact(db, user, kind, new_value, check_taken=True)
    if kind == "email":
        old_value, user.email, user.email_changed_at = user.email, value, now
    else:
        old_value, user.phone, user.phone_changed_at = user.phone or "", value, now
    db.add(user)
    db.flush()
    audit.record(db, actor, Area.PROFILE, "contact_changed", now=now, target=str(user.id), kind=kind)
    end_user_grants(db, user.id, now=now)
    return old_value
