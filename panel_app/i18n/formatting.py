"""Numbers, money and dates in the user's language."""

from __future__ import annotations

from datetime import date, datetime


def money(cents: int, currency: str = "EUR", lang: str = "en") -> str:
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(int(cents)), 100)
    if lang == "de":
        grouped = f"{whole:,}".replace(",", ".")
        return f"{sign}{grouped},{rest:02d} {'€' if currency == 'EUR' else currency}"
    symbol = "€" if currency == "EUR" else currency + " "
    return f"{sign}{symbol}{whole:,}.{rest:02d}"


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
