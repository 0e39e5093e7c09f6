"""Validation shared by every form. Errors carry a field and an i18n key."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email


class ValidationError(ValueError):
    def __init__(self, field: str, message_key: str, **params: object):
        super().__init__(f"{field}: {message_key}")
        self.field = field
        self.message_key = message_key
        self.params = params


class FormErrors(ValidationError):
    """Several fields of one form are wrong: each error at once, not one per attempt. It is
    the first error too (``field``, ``message_key``) for code that expects a single one."""

    def __init__(self, errors: list[ValidationError]):
        first = errors[0]
        super().__init__(first.field, first.message_key, **first.params)
        self.errors = list(errors)


def collect_errors(*checks):
    """Run each check (a callable without arguments); their results in order, or
    ``FormErrors`` naming every check that raised ``ValidationError``."""
    results, errors = [], []
    for check in checks:
        try:
            results.append(check())
        except ValidationError as exc:
            errors.extend(exc.errors if isinstance(exc, FormErrors) else [exc])
            results.append(None)
    if errors:
        raise FormErrors(errors)
    return results


class NotFound(ValidationError):
    """The record does not exist or belongs to another account: the two look the same on
    purpose, so nobody learns what other accounts hold."""


class Unreadable(ValidationError):
    """Stored data the panel cannot parse (a zone written by another tool, or before the
    rules were strict): the request may be fine, the data it meets is not. Raised by a
    service in place of a parsing library's own exception."""


def clean_text(value: object, field: str, *, max_length: int, required: bool = False) -> str:
    """A single-line text: a string, trimmed, no control characters, bounded."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(field, "validation.invalid")
    value = value.strip()
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValidationError(field, "validation.invalid")
    if len(value) > max_length:
        raise ValidationError(field, "validation.too_long", max=max_length)
    if required and not value:
        raise ValidationError(field, "validation.required")
    return value


def normalize_email(value: object, field: str = "email") -> str:
    text = clean_text(value, field, max_length=254, required=True)
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(field, "validation.email_invalid") from exc
    return result.normalized.lower()


def normalize_phone(value: object, field: str = "phone", default_region: str = "DE") -> str:
    text = clean_text(value, field, max_length=32, required=True)
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(field, "validation.phone_invalid") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(field, "validation.phone_invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


MAX_ROW_ID = 2_147_483_647  # INTEGER primary keys in PostgreSQL


def parse_row_id(value: object) -> int | None:
    """A row id sent by a page (digit string or int); None for anything else, so a
    crafted payload can neither crash a query nor reach past the column's range."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ROW_ID:
        return None
    return value
