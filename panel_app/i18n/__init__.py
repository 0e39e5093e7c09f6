"""Translations. Every user-facing string goes through ``t`` (server side) or
``components.i18n.tr`` (a reactive text that follows the user's language).

Catalogs live in ``catalog/<area>.py`` as ``EN`` and ``DE`` dicts; they are merged
here. A test proves both languages have the same keys and placeholders.
"""

from __future__ import annotations

import importlib
import pkgutil

from panel_app.i18n import catalog as _catalog_pkg
from panel_app.security.policy import POLICY

LANGUAGES = ("en", "de")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch"}


def _load() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    for info in sorted(pkgutil.iter_modules(_catalog_pkg.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{_catalog_pkg.__name__}.{info.name}")
        for lang in LANGUAGES:
            part = getattr(module, lang.upper())
            duplicate = set(part) & set(merged[lang])
            if duplicate:
                raise RuntimeError(f"duplicate i18n keys in {info.name}: {sorted(duplicate)}")
            merged[lang].update(part)
    return merged


CATALOGS = _load()


def normalize_language(lang: object) -> str:
    return lang if isinstance(lang, str) and lang in LANGUAGES else DEFAULT_LANGUAGE


class _Values(dict):
    """The caller's values over the policy's; an unknown ``{name}`` stays as it is."""

    def __missing__(self, name: str) -> str:
        return "{" + name + "}"


def policy_values() -> dict[str, object]:
    """The numbers of the security policy that texts state (``{stepup_minutes}``, ...),
    read now, so a text follows the settings."""
    return POLICY.text_values()


def fill(text: str, params: dict[str, object]) -> str:
    """``text`` with its placeholders filled from ``params`` and the policy's numbers."""
    if "{" not in text:
        return text
    return text.format_map(_Values(policy_values(), **params))


def t(key: str, lang: str = DEFAULT_LANGUAGE, **params: object) -> str:
    catalog = CATALOGS[normalize_language(lang)]
    text = catalog.get(key) or CATALOGS[DEFAULT_LANGUAGE].get(key)
    if text is None:
        raise KeyError(f"missing translation key {key!r}")
    return fill(text, params)
