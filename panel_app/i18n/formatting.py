"""Numbers, money and dates in the user's language, by Babel (CLDR data).

Two deliberate departures from Babel's defaults, so screens, invoices and mails read as
they always have: the space Babel puts between amount and symbol (``1.234,56\\xa0€``) is a
plain space, and English dates are ISO (``2026-12-01``), the form customers of a German
provider read unambiguously. Every other language takes its CLDR medium date.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, available_timezones

from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal

# Per-language date patterns that differ from CLDR's medium date.
DATE_PATTERNS = {"en": "yyyy-MM-dd"}
_NARROW_SPACES = str.maketrans({"\xa0": " ", "\u202f": " "})
# CLDR's currency spacing: a letter symbol ("CHF") and a digit are kept apart.
_LETTER_SYMBOL_THEN_DIGIT = re.compile(r"(?<=[A-Za-z])(?=\d)")


def _locale(lang: str) -> str:
    """``lang``, or English for none (an account that chose no language: ``""``)."""
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
    return format_date(_as_date(value), DATE_PATTERNS.get(_locale(lang), "medium"), locale=_locale(lang))


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def valid_time_zone(name: object) -> str | None:
    """``name`` if it is an IANA time zone this server knows (``Europe/Berlin``), else None.
    What the browser reports is untrusted: only a name from the zoneinfo database passes."""
    if isinstance(name, str) and 0 < len(name) <= 64 and name in _zone_names():
        return name
    return None


def moment(value: datetime | None, lang: str = "en", tz: str | None = None) -> str:
    """Date and time in the user's time zone ``tz`` (the browser's), e.g. ``01.12.2026 10:05``;
    without a known zone in UTC, saying so: ``2026-12-01 09:05 UTC`` (mails, the first
    answer before the browser told its zone)."""
    if value is None:
        return ""
    utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    zone_name = valid_time_zone(tz)
    if zone_name is None or zone_name in ("UTC", "Etc/UTC"):
        return f"{day(utc, lang)} {format_time(utc, 'HH:mm', tzinfo=UTC, locale=_locale(lang))} UTC"
    local = utc.astimezone(ZoneInfo(zone_name))
    return f"{day(local.date(), lang)} {format_time(local, 'HH:mm', tzinfo=local.tzinfo, locale=_locale(lang))}"


def megabytes(mb: int, lang: str = "en") -> str:
    if mb >= 1024:
        return f"{format_decimal(mb / 1024, '0.0', locale=_locale(lang))} GB"
    return f"{format_decimal(mb, '0', locale=_locale(lang))} MB"
