"""One area's entries of the gettext catalogs, as read-only ``EN``/``DE``/... mappings.

Every entry of ``locale/<lang>/LC_MESSAGES/messages.po`` names its area in its location
comment (``#: delivery``). ``catalog.delivery.EN`` is the English text of that area's ids
(the plural form of a plural), read from the ``.po`` files: for checks of one area's
completeness; ``t`` itself reads the compiled ``.mo`` files.
"""

from __future__ import annotations

import functools
from types import MappingProxyType, SimpleNamespace

from babel.messages.pofile import read_po

from panel_app.i18n import DOMAIN, LANGUAGES, LOCALE_DIR


@functools.cache
def _areas() -> dict[str, SimpleNamespace]:
    texts: dict[str, dict[str, dict[str, str]]] = {}
    for lang in LANGUAGES:
        with (LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as handle:
            catalog = read_po(handle, locale=lang, domain=DOMAIN)
        for message in catalog:
            if not message.id:
                continue
            key = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
            text = message.string[-1] if isinstance(message.string, (list, tuple)) else message.string
            for area, _line in message.locations:
                texts.setdefault(area, {lang: {} for lang in LANGUAGES})[lang][key] = text
    return {area: SimpleNamespace(**{lang.upper(): MappingProxyType(by_lang[lang]) for lang in LANGUAGES})
            for area, by_lang in texts.items()}


def __getattr__(area: str) -> SimpleNamespace:
    try:
        return _areas()[area]
    except KeyError:
        raise AttributeError(area) from None
