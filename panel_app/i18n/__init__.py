"""Translations. Every user-facing string goes through ``t`` (server side) or
``components.i18n.tr`` (a reactive text that follows the user's language).

The catalogs are gettext files, one per language: ``locale/<lang>/LC_MESSAGES/messages.po``
(what translators edit) compiled to ``messages.mo`` (what is read here, once, at import).
Message ids are keys (``gate.intro``); the English catalog holds the English text. A plural
entry has ``msgid_plural`` = the placeholder that holds its count (``"{tries}"``), so ``t``
picks the form with ``ngettext`` from that value. A test proves every language has the same
ids and placeholders, and that the ``.mo`` files match the ``.po`` files (README: Translations).

Placeholders named after the security policy (``{stepup_minutes}``, ``{code_digits}``, ...)
are filled from ``security.policy`` at call time, so a text states the number in force.
"""

from __future__ import annotations

import gettext
import string
from pathlib import Path

from babel import Locale
from babel.messages.mofile import read_mo

from panel_app.security.policy import POLICY

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
DEFAULT_LANGUAGE = "en"
# Every folder under locale/ is a language; English first (it is the fallback).
LANGUAGES = (DEFAULT_LANGUAGE,) + tuple(sorted(
    p.name for p in LOCALE_DIR.iterdir() if (p / "LC_MESSAGES" / f"{DOMAIN}.mo").is_file() and p.name != DEFAULT_LANGUAGE))
LANGUAGE_NAMES = {lang: Locale.parse(lang).get_display_name(lang).capitalize() for lang in LANGUAGES}


def _mo_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"


def _load_catalogs() -> tuple[dict[str, dict[str, str]], dict[str, dict[str, tuple[str, ...]]], dict[str, str],
                              dict[str, str]]:
    """Per language: every id's text (the last plural form for a plural), every plural's forms,
    the plural expression; and each plural id's count placeholder."""
    texts: dict[str, dict[str, str]] = {}
    forms: dict[str, dict[str, tuple[str, ...]]] = {}
    expressions: dict[str, str] = {}
    counts: dict[str, str] = {}
    for lang in LANGUAGES:
        with _mo_path(lang).open("rb") as handle:
            catalog = read_mo(handle)
        texts[lang], forms[lang], expressions[lang] = {}, {}, catalog.plural_expr
        for message in catalog:
            if not message.id:
                continue
            if isinstance(message.id, (list, tuple)):
                key, count = message.id[0], message.id[1]
                forms[lang][key] = tuple(message.string)
                texts[lang][key] = message.string[-1]
                counts.setdefault(key, count.strip("{}"))
            else:
                texts[lang][message.id] = message.string
    return texts, forms, expressions, counts


CATALOGS, PLURAL_FORMS, PLURAL_EXPRESSIONS, PLURAL_COUNTS = _load_catalogs()
# Each language's plural rule (the catalog's C expression) as a function of the count.
_PLURAL_INDEX = {lang: gettext.c2py(PLURAL_EXPRESSIONS[lang]) for lang in LANGUAGES}


def normalize_language(lang: object) -> str:
    return lang if isinstance(lang, str) and lang in LANGUAGES else DEFAULT_LANGUAGE


def browser_language(accept_language: object) -> str:
    """The first of the browser's languages (``Accept-Language``) that the catalogs have,
    else English. Only the primary subtag counts (``de-AT`` is German)."""
    if not isinstance(accept_language, str):
        return DEFAULT_LANGUAGE
    for part in accept_language[:1000].split(","):
        code = part.split(";")[0].strip().lower().split("-")[0]
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


def effective_language(chosen: object, tab_language: object) -> str:
    """The one language rule, the same before and after sign-in: the account's saved
    language when the user chose one (``User.language``, empty until then), else the tab's
    (picked on a page before sign-in, or the browser's ``Accept-Language``)."""
    if isinstance(chosen, str) and chosen in LANGUAGES:
        return chosen
    return normalize_language(tab_language)


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


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _count(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.lstrip("-").isdigit():
        return int(value)
    return None


def t(key: str, lang: str = DEFAULT_LANGUAGE, **params: object) -> str:
    """The text of ``key`` in ``lang`` (English when the language lacks it), filled in.
    A plural entry takes its form from its count placeholder's value (the plural form when
    the count is not given, with the placeholder left in)."""
    lang = normalize_language(lang)
    if key not in CATALOGS[lang] and key not in CATALOGS[DEFAULT_LANGUAGE]:
        raise KeyError(f"missing translation key {key!r}")
    if key not in CATALOGS[lang]:
        lang = DEFAULT_LANGUAGE
    count_name = PLURAL_COUNTS.get(key)
    if count_name is None:
        text = CATALOGS[lang][key]
    else:
        value = params[count_name] if count_name in params else policy_values().get(count_name)
        count = _count(value)
        text = PLURAL_FORMS[lang][key][_PLURAL_INDEX[lang](2 if count is None else count)]
    return fill(text, params)


def nt(key: str, count: int, lang: str = DEFAULT_LANGUAGE, **params: object) -> str:
    """``t`` for a plural entry, with its count given explicitly."""
    return t(key, lang, **{PLURAL_COUNTS[key]: count}, **params)
