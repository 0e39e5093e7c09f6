"""Numbers, money and dates in the user's language, by Babel (CLDR data).

Two deliberate departures from Babel's defaults, so screens, invoices and mails read as
they always have: the space Babel puts between amount and symbol (``1.234,56\\xa0€``) is a
plain space, and English dates are ISO (``2026-12-01``), the form customers of a German
provider read unambiguously. Every other language takes its CLDR medium date.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal

# Per-language date patterns that differ from CLDR's medium date.
DATE_PATTERNS = {"en": "yyyy-MM-dd"}
_NARROW_SPACES = str.maketrans({"\xa0": " ", "\u202f": " "})
# CLDR's currency spacing: a letter symbol ("CHF") and a digit are kept apart.
_LETTER_SYMBOL_THEN_DIGIT = re.compile(r"(?<=[A-Za-z])(?=\d)")


def _locale(lang: str) -> str:
    return lang if isinstance(lang, str) and lang else "en"


def money(cents: int, currency: str = "EUR", lang: str = "en") -> str:
    """``€1,234.56`` (en) or ``1.234,56 €`` (de); the same on screen and on invoices."""
    text = format_currency(int(cents) / 100, currency, locale=_locale(lang), currency_digits=False,
                           format_type="standard", decimal_quantization=True, group_separator=True)
    return _LETTER_SYMBOL_THEN_DIGIT.sub(" ", text.translate(_NARROW_SPACES))


def _as_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).date()
    return value


def day(value: date | datetime | None, lang: str = "en") -> str:
    if value is None:
        return ""
    return format_date(_as_date(value), DATE_PATTERNS.get(lang, "medium"), locale=_locale(lang))


def moment(value: datetime | None, lang: str = "en") -> str:
    """Date and time in UTC, e.g. ``2026-12-01 09:05 UTC`` or ``01.12.2026 09:05 UTC``."""
    if value is None:
        return ""
    utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return f"{day(utc, lang)} {format_time(utc, 'HH:mm', tzinfo=UTC, locale=_locale(lang))} UTC"


def megabytes(mb: int, lang: str = "en") -> str:
    if mb >= 1024:
        return f"{format_decimal(mb / 1024, '0.0', locale=_locale(lang))} GB"
    return f"{format_decimal(mb, '0', locale=_locale(lang))} MB"
