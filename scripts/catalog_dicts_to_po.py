"""Convert the old dict catalogs (``panel_app/i18n/catalog/<area>.py`` with ``EN`` and ``DE``)
into the gettext catalogs under ``panel_app/i18n/locale/``, then compile them.

Run once for the conversion; run again (``python scripts/catalog_dicts_to_po.py``) on a branch
that still adds keys to a dict module: its entries are merged into the existing ``.po`` files
(a dict entry wins), and the dict module can then be deleted.

Message ids are the keys. A plural entry (``PLURALS`` below) gets ``msgid_plural`` = the
placeholder that holds the count (``"{tries}"``) and one form per plural form of the language.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LOCALE_DIR = ROOT / "panel_app" / "i18n" / "locale"
DOMAIN = "messages"
LANGUAGES = ("en", "de")

# key -> (count placeholder, {language: (singular-form rewrites of the dict text)}).
# The dict text is the plural form ("other"); the singular is made by replacing each
# (plural wording, singular wording) pair, so both forms keep the same placeholders.
PLURALS: dict[str, tuple[str, dict[str, tuple[tuple[str, str], ...]]]] = {
    "gate.wait_seconds": ("seconds", {"en": (("seconds.", "second."),), "de": (("Sekunden.", "Sekunde."),)}),
    "gate.tries_left": ("tries", {"en": (("tries left", "try left"),), "de": (("Versuche", "Versuch"),)}),
    "security.recovery_left": ("count", {"en": (("codes left", "code left"),),
                                         "de": (("Wiederherstellungscodes", "Wiederherstellungscode"),)}),
    "security.others_ended": ("count", {"en": (("sessions were", "session was"),),
                                        "de": (("andere Sitzungen wurden", "andere Sitzung wurde"),)}),
    "security.password.throttled": ("seconds", {"en": (("seconds.", "second."),),
                                                "de": (("Sekunden", "Sekunde"),)}),
    "login.error.throttled": ("seconds", {"en": (("seconds and", "second and"),),
                                          "de": (("Sekunden und", "Sekunde und"),)}),
    "team.sessions_ended": ("count", {"en": (("sessions ended", "session ended"),),
                                      "de": (("Sitzungen beendet", "Sitzung beendet"),)}),
    "notice.verification_failures.body": ("count", {
        "en": (("There were {count} failed verification attempts", "There was {count} failed verification attempt"),),
        "de": (("fehlgeschlagene Bestätigungsversuche", "fehlgeschlagener Bestätigungsversuch"),)}),
    "notice.password_suspected.body": ("count", {
        "en": (("There were {count} failed verification attempts", "There was {count} failed verification attempt"),),
        "de": (("fehlgeschlagene Bestätigungsversuche", "fehlgeschlagener Bestätigungsversuch"),)}),
    "notice.contact_change_scheduled.subject": ("hours", {"en": (("{hours} hours", "{hours} hour"),),
                                                        "de": (("{hours} Stunden", "{hours} Stunde"),)}),
    "profile.contact.no_access_hint": ("hours", {"en": (("{hours} hours", "{hours} hour"),),
                                                 "de": (("{hours} Stunden", "{hours} Stunde"),)}),
    "demo.ttl_set": ("seconds", {"en": (("seconds.", "second."),), "de": (("Sekunden.", "Sekunde."),)}),
    "delivery.mail.code.validity": ("minutes", {"en": (("{minutes} minutes", "{minutes} minute"),),
                                                "de": (("{minutes} Minuten", "{minutes} Minute"),)}),
    "delivery.whatsapp.code_text": ("minutes", {"en": (("{minutes} minutes", "{minutes} minute"),),
                                                "de": (("{minutes} Minuten", "{minutes} Minute"),)}),
    "notice.password_reset_link.body": ("minutes", {"en": (("{minutes} minutes", "{minutes} minute"),),
                                                    "de": (("{minutes} Minuten", "{minutes} Minute"),)}),
    # The step-up lifetime follows PANEL_STEPUP_TTL_SECONDS (the policy fills it in).
    "gate.intro": ("stepup_minutes", {"en": (("{stepup_minutes} minutes", "{stepup_minutes} minute"),),
                                      "de": (("{stepup_minutes} Minuten", "{stepup_minutes} Minute"),)}),
    "help.intro": ("stepup_minutes", {"en": (("{stepup_minutes} minutes", "{stepup_minutes} minute"),),
                                      "de": (("{stepup_minutes} Minuten", "{stepup_minutes} Minute"),)}),
    "help.a.how_long": ("stepup_minutes", {"en": (("{stepup_minutes} minutes", "{stepup_minutes} minute"),),
                                           "de": (("{stepup_minutes} Minuten", "{stepup_minutes} Minute"),)}),
    "help.a.every_time": ("stepup_minutes", {"en": (("{stepup_minutes} minutes", "{stepup_minutes} minute"),),
                                             "de": (("{stepup_minutes} Minuten", "{stepup_minutes} Minute"),)}),
    "dashboard.protected_hint": ("stepup_minutes", {"en": (("{stepup_minutes} minutes", "{stepup_minutes} minute"),),
                                                    "de": (("{stepup_minutes} Minuten", "{stepup_minutes} Minute"),)}),
}


def _po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _dict_entries() -> dict[str, list[tuple[str, str, str]]]:
    """(module, key, text) per language from whatever dict modules are still there."""
    entries: dict[str, list[tuple[str, str, str]]] = {lang: [] for lang in LANGUAGES}
    try:
        package = importlib.import_module("panel_app.i18n.catalog")
    except ImportError:
        return entries
    if not hasattr(package, "__path__"):  # converted: panel_app/i18n/catalog.py reads the .po files
        return entries
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for lang in LANGUAGES:
            for key, text in getattr(module, lang.upper(), {}).items():
                entries[lang].append((info.name, key, text))
    return entries


def _singular(key: str, lang: str, text: str) -> str:
    for plural, singular in PLURALS[key][1][lang]:
        if plural not in text:
            raise SystemExit(f"{lang}:{key}: {plural!r} not in {text!r}")
        text = text.replace(plural, singular, 1)
    return text


def _existing(lang: str) -> Catalog | None:
    path = _po_path(lang)
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return read_po(handle, locale=lang, domain=DOMAIN)


def _new_catalog(lang: str) -> Catalog:
    return Catalog(locale=lang, domain=DOMAIN, project="Panel", version="1", copyright_holder="Panel",
                   msgid_bugs_address="", fuzzy=False)


def convert() -> None:
    entries = _dict_entries()
    for lang in LANGUAGES:
        old = _existing(lang)
        catalog = _new_catalog(lang)
        if old is not None:
            for message in old:
                if message.id:
                    catalog[message.id] = message
        for area, key, text in entries[lang]:
            if key in PLURALS:
                count = PLURALS[key][0]
                catalog.add((key, "{" + count + "}"), (_singular(key, lang, text), text),
                            locations=[(f"{area}", 0)], flags=("python-brace-format",))
            else:
                catalog.add(key, text, locations=[(f"{area}", 0)],
                            flags=("python-brace-format",) if "{" in text else ())
        write(catalog, lang)
    template = _new_catalog("en")
    for message in _existing("en"):
        if message.id:
            template.add(message.id, "", locations=message.locations, flags=message.flags)
    LOCALE_DIR.mkdir(parents=True, exist_ok=True)
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("wb") as handle:
        write_po(handle, template, omit_header=False, include_lineno=False, sort_output=True)


def write(catalog: Catalog, lang: str) -> None:
    path = _po_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, include_lineno=False, sort_output=True)
    with path.with_suffix(".mo").open("wb") as handle:
        write_mo(handle, catalog)


if __name__ == "__main__":
    convert()
