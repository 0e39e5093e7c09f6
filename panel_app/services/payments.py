"""Payment methods: cards and SEPA direct debit mandates.

We keep only what can be shown masked (brand, last four, expiry, holder, IBAN
country) plus an opaque random token standing in for the payment provider's
reference. A full card number or IBAN is validated in memory and then dropped:
it never reaches the database, the audit log or a log line, and no error
message or exception text repeats it.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, func, select

from panel_app.i18n import t
from panel_app.models import PaymentMethod
from panel_app.security.permissions import Area
from panel_app.services import audit
from panel_app.services.audit import Actor
from panel_app.services.billing import coerce_id, has_open_invoice
from panel_app.services.validation import NotFound, ValidationError, clean_text, collect_errors

log = logging.getLogger(__name__)

KIND_CARD = "card"
KIND_SEPA = "sepa"
MAX_METHODS_PER_ACCOUNT = 10
MAX_YEARS_AHEAD = 20
BULLET = "•"

# --- cards ------------------------------------------------------------------------

# (brand, IIN ranges as (low, high) over the first len(str(low)) digits, allowed lengths)
CARD_BRANDS: tuple[tuple[str, tuple[tuple[int, int], ...], tuple[int, ...]], ...] = (
    ("Amex", ((34, 34), (37, 37)), (15,)),
    ("Mastercard", ((51, 55), (2221, 2720)), (16,)),
    ("Visa", ((4, 4),), (13, 16, 19)),
    ("Discover", ((6011, 6011), (644, 649), (65, 65)), (16, 17, 18, 19)),
    ("JCB", ((3528, 3589),), (16, 17, 18, 19)),
    ("Diners Club", ((300, 305), (36, 36), (38, 39)), (14, 15, 16, 17, 18, 19)),
    ("UnionPay", ((62, 62),), (16, 17, 18, 19)),
    ("Maestro", ((50, 50), (56, 58), (6304, 6304), (6759, 6759), (676770, 676774)),
     (12, 13, 14, 15, 16, 17, 18, 19)),
)


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check digit test over a string of digits."""
    if not digits or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def detect_brand(digits: str) -> str | None:
    """The card brand from the issuer prefix and length, or None if unknown."""
    for brand, ranges, lengths in CARD_BRANDS:
        if len(digits) not in lengths:
            continue
        for low, high in ranges:
            width = len(str(low))
            if len(digits) >= width and low <= int(digits[:width]) <= high:
                return brand
    return None


def normalize_card_number(value: object) -> str:
    """Digits only (spaces and hyphens allowed in input); Luhn-checked; known brand."""
    if not isinstance(value, str) or len(value) > 40:
        raise ValidationError("number", "payments.error.card_number_invalid")
    digits = value.replace(" ", "").replace("-", "")
    if not (digits.isascii() and digits.isdigit() and 12 <= len(digits) <= 19):
        raise ValidationError("number", "payments.error.card_number_invalid")
    if not luhn_valid(digits):
        raise ValidationError("number", "payments.error.card_checksum")
    if detect_brand(digits) is None:
        raise ValidationError("number", "payments.error.card_brand_unsupported")
    return digits


def _small_int(value: object, field: str, message_key: str) -> int:
    if isinstance(value, bool):
        raise ValidationError(field, message_key)
    if isinstance(value, int):
        return value
    text = value.strip() if isinstance(value, str) else None
    if text and text.isascii() and text.isdigit() and len(text) <= 4:
        return int(text)
    raise ValidationError(field, message_key)


def normalize_exp_month(exp_month: object) -> int:
    month = _small_int(exp_month, "exp_month", "payments.error.month_invalid")
    if not 1 <= month <= 12:
        raise ValidationError("exp_month", "payments.error.month_invalid")
    return month


def normalize_exp_year(exp_year: object, today: date) -> int:
    """Four digits (two are read as 20xx); not before this year, at most MAX_YEARS_AHEAD on."""
    example = today.year + 3
    try:
        year = _small_int(exp_year, "exp_year", "payments.error.year_invalid")
    except ValidationError:
        raise ValidationError("exp_year", "payments.error.year_invalid", example=example) from None
    if 0 <= year < 100:
        year += 2000
    if 2000 <= year < today.year:
        raise ValidationError("exp_year", "payments.error.year_past")
    if not today.year <= year <= today.year + MAX_YEARS_AHEAD:
        raise ValidationError("exp_year", "payments.error.year_invalid", example=example)
    return year


def normalize_expiry(exp_month: object, exp_year: object, today: date) -> tuple[int, int]:
    """(month, four-digit year). A card is valid through the last day of its expiry month.
    A wrong month and a wrong year are both reported (``FormErrors``)."""
    month, year = collect_errors(lambda: normalize_exp_month(exp_month), lambda: normalize_exp_year(exp_year, today))
    if (year, month) < (today.year, today.month):
        raise ValidationError("exp_month", "payments.error.card_expired")
    return month, year


def card_is_expired(exp_month: int | None, exp_year: int | None, today: date) -> bool:
    if exp_month is None or exp_year is None:
        return False
    return (exp_year, exp_month) < (today.year, today.month)


def format_expiry(exp_month: int | None, exp_year: int | None) -> str:
    if exp_month is None or exp_year is None:
        return ""
    return f"{exp_month:02d}/{exp_year % 100:02d}"


def mask_card(brand: str, last4: str) -> str:
    return f"{brand} {BULLET * 4} {last4}"


# --- IBAN -------------------------------------------------------------------------

# IBAN lengths per country (SWIFT IBAN registry).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

# Countries in the SEPA direct debit scheme.
SEPA_COUNTRIES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",  # EU
    "IS", "LI", "NO",  # EEA
    "AD", "AL", "CH", "GB", "GI", "MC", "MD", "ME", "MK", "SM", "VA",
})


def iban_checksum_valid(iban: str) -> bool:
    """ISO 13616 mod-97: move the first four characters to the end, letters to 10..35."""
    if len(iban) < 5 or not iban.isascii() or not iban.isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    numeric = "".join(str(int(c, 36)) for c in rearranged.upper())
    return int(numeric) % 97 == 1


def normalize_iban(value: object) -> str:
    """Upper case, no spaces; country known, length right, check digits right, SEPA country."""
    if not isinstance(value, str) or len(value) > 64:
        raise ValidationError("iban", "payments.error.iban_invalid")
    iban = "".join(value.split()).upper()
    if not (iban.isascii() and iban.isalnum() and len(iban) >= 5 and iban[:2].isalpha()
            and iban[2:4].isdigit()):
        raise ValidationError("iban", "payments.error.iban_invalid")
    country = iban[:2]
    expected = IBAN_LENGTHS.get(country)
    if expected is None:
        raise ValidationError("iban", "payments.error.iban_country_unknown", country=country)
    if len(iban) != expected:
        raise ValidationError("iban", "payments.error.iban_length", country=country, length=expected)
    if not iban_checksum_valid(iban):
        raise ValidationError("iban", "payments.error.iban_checksum")
    if country not in SEPA_COUNTRIES:
        raise ValidationError("iban", "payments.error.iban_not_sepa", country=country)
    return iban


def mask_iban(country: str, last4: str) -> str:
    """``DE•• •••• •••• •••• ••12 34``: the country, bullets, the last four, in groups of four."""
    length = IBAN_LENGTHS.get(country, 22)
    masked = country + BULLET * (length - len(country) - len(last4)) + last4
    return " ".join(masked[i:i + 4] for i in range(0, len(masked), 4))


# --- display records ------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentMethodRow:
    id: int
    kind: str  # card | sepa
    label: str  # "Visa •••• 4242, expires 08/28" / "SEPA direct debit DE•• •••• … ••12 34"
    masked: str  # "Visa •••• 4242" / "DE•• •••• •••• •••• ••12 34"
    brand: str  # card brand; "" for SEPA
    expiry: str  # "08/28"; "" for SEPA
    holder: str
    is_default: bool
    expired: bool


def _masked(row: PaymentMethod) -> str:
    return mask_card(row.brand, row.last4) if row.kind == KIND_CARD else mask_iban(row.country, row.last4)


def _display(row: PaymentMethod, today: date, lang: str) -> PaymentMethodRow:
    masked = _masked(row)
    expired = row.kind == KIND_CARD and card_is_expired(row.exp_month, row.exp_year, today)
    expiry = format_expiry(row.exp_month, row.exp_year)
    if row.kind == KIND_CARD:
        key = "payments.label.card_expired" if expired else "payments.label.card"
        label = t(key, lang, masked=masked, expiry=expiry)
    else:
        label = t("payments.label.sepa", lang, masked=masked)
    return PaymentMethodRow(
        id=row.id,
        kind=row.kind,
        label=label,
        masked=masked,
        brand=row.brand if row.kind == KIND_CARD else "",
        expiry=expiry,
        holder=row.holder,
        is_default=row.is_default,
        expired=expired,
    )


def _account_methods(db: Session, account_id: int) -> list[PaymentMethod]:
    return list(
        db.exec(
            select(PaymentMethod)
            .where(PaymentMethod.account_id == account_id)
            .order_by(PaymentMethod.created_at, PaymentMethod.id)
        ).all()
    )


def list_payment_methods(
    db: Session, account_id: int, *, today: date, lang: str = "en"
) -> tuple[PaymentMethodRow, ...]:
    """Default first, then in the order they were added."""
    rows = _account_methods(db, account_id)
    rows.sort(key=lambda r: not r.is_default)
    return tuple(_display(r, today, lang) for r in rows)


# --- changes --------------------------------------------------------------------------


def _count_with_room_for_one_more(db: Session, account_id: int) -> int:
    count = db.exec(
        select(func.count()).select_from(PaymentMethod).where(PaymentMethod.account_id == account_id)
    ).one()
    if count >= MAX_METHODS_PER_ACCOUNT:
        raise ValidationError("payment_method", "payments.error.too_many", max=MAX_METHODS_PER_ACCOUNT)
    return count


def _store(db: Session, actor: Actor, row: PaymentMethod, now: datetime, lang: str) -> PaymentMethodRow:
    db.add(row)
    db.flush()
    audit.record(db, actor, Area.PAYMENTS, "payment_method_added", now=now, target=_masked(row),
                 kind=row.kind, default=row.is_default)
    log.info("payment method %s (%s) added for account %s", row.id, row.kind, row.account_id)
    return _display(row, now.date(), lang)


def add_card(
    db: Session,
    actor: Actor,
    *,
    number: object,
    exp_month: object,
    exp_year: object,
    holder: object,
    now: datetime,
    lang: str = "en",
) -> PaymentMethodRow:
    # Every wrong field at once (FormErrors), each for the field it belongs to.
    digits, expiry, holder = collect_errors(
        lambda: normalize_card_number(number),
        lambda: normalize_expiry(exp_month, exp_year, now.date()),
        lambda: clean_text(holder, "holder", max_length=200, required=True),
    )
    month, year = expiry
    brand = detect_brand(digits)
    last4 = digits[-4:]
    del digits  # nothing below may see the full number
    first = _count_with_room_for_one_more(db, actor.account_id) == 0
    row = PaymentMethod(
        account_id=actor.account_id,
        kind=KIND_CARD,
        brand=brand,
        last4=last4,
        exp_month=month,
        exp_year=year,
        holder=holder,
        token=secrets.token_hex(24),
        is_default=first,
        created_at=now,
    )
    return _store(db, actor, row, now, lang)


def add_sepa(
    db: Session, actor: Actor, *, iban: object, holder: object, now: datetime, lang: str = "en"
) -> PaymentMethodRow:
    holder = clean_text(holder, "holder", max_length=200, required=True)
    normalized = normalize_iban(iban)
    country, last4 = normalized[:2], normalized[-4:]
    del normalized
    first = _count_with_room_for_one_more(db, actor.account_id) == 0
    row = PaymentMethod(
        account_id=actor.account_id,
        kind=KIND_SEPA,
        brand="SEPA",
        last4=last4,
        country=country,
        holder=holder,
        token=secrets.token_hex(24),
        is_default=first,
        created_at=now,
    )
    return _store(db, actor, row, now, lang)


def _get_method(db: Session, account_id: int, method_id: object) -> PaymentMethod:
    row = db.get(PaymentMethod, coerce_id(method_id, "payment_method", "payments.error.not_found"))
    if row is None or row.account_id != account_id:
        raise NotFound("payment_method", "payments.error.not_found")
    return row


def set_default(db: Session, actor: Actor, method_id: object, *, now: datetime) -> None:
    """Make one method the default (the others lose the flag). Expired cards cannot be default."""
    row = _get_method(db, actor.account_id, method_id)
    if row.kind == KIND_CARD and card_is_expired(row.exp_month, row.exp_year, now.date()):
        raise ValidationError("payment_method", "payments.error.card_expired")
    for other in _account_methods(db, actor.account_id):
        wanted = other.id == row.id
        if other.is_default != wanted:
            other.is_default = wanted
            db.add(other)
    db.flush()
    audit.record(db, actor, Area.PAYMENTS, "payment_method_default_set", now=now, target=_masked(row),
                 kind=row.kind)


def remove_payment_method(db: Session, actor: Actor, method_id: object, *, now: datetime) -> None:
    """Remove a method. The last one cannot go while an invoice is open; a removed default
    hands the flag to the oldest remaining method that has not expired (else the oldest)."""
    row = _get_method(db, actor.account_id, method_id)
    others = [m for m in _account_methods(db, actor.account_id) if m.id != row.id]
    if not others and has_open_invoice(db, actor.account_id):
        raise ValidationError("payment_method", "payments.error.last_method_open_invoice")
    masked, kind, was_default = _masked(row), row.kind, row.is_default
    db.delete(row)
    db.flush()
    promoted = None
    if was_default and others:
        today = now.date()
        usable = [m for m in others if not card_is_expired(m.exp_month, m.exp_year, today)]
        promoted = (usable or others)[0]
        promoted.is_default = True
        db.add(promoted)
        db.flush()
    audit.record(db, actor, Area.PAYMENTS, "payment_method_removed", now=now, target=masked, kind=kind,
                 promoted=_masked(promoted) if promoted else "")
