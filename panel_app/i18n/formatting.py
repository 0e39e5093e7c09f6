"""Numbers, money and dates in the user's language."""

from __future__ import annotations

from datetime import date, datetime


CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF"}


def money(cents: int, currency: str = "EUR", lang: str = "en") -> str:
    """``€1,234.56`` (en) or ``1.234,56 €`` (de); the same on screen and on invoices."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(int(cents)), 100)
    grouped = f"{whole:,}"
    symbol = CURRENCY_SYMBOLS.get(currency, currency)
    if lang == "de":
        return f"{sign}{grouped.replace(',', '.')},{rest:02d} {symbol}"
    if len(symbol) > 1:
        return f"{sign}{symbol} {grouped}.{rest:02d}"
    return f"{sign}{symbol}{grouped}.{rest:02d}"


def day(value: date | datetime | None, lang: str = "en") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    return value.strftime("%d.%m.%Y") if lang == "de" else value.strftime("%Y-%m-%d")


def moment(value: datetime | None, lang: str = "en") -> str:
    if value is None:
        return ""
    return value.strftime("%d.%m.%Y %H:%M UTC") if lang == "de" else value.strftime("%Y-%m-%d %H:%M UTC")


def megabytes(mb: int, lang: str = "en") -> str:
    if mb >= 1024:
        text = f"{mb / 1024:.1f} GB"
    else:
        text = f"{mb} MB"
    return text.replace(".", ",") if lang == "de" else text
