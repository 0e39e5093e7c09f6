"""German done right: one word per concept (the glossary at the top of the German catalog),
and German texts that say everything the English ones say."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from panel_app.i18n import CATALOGS, DOMAIN, LOCALE_DIR, PLURAL_COUNTS, PLURAL_FORMS, placeholders

GERMAN_PO = LOCALE_DIR / "de" / "LC_MESSAGES" / f"{DOMAIN}.po"
PO_SET = Path(__file__).resolve().parents[1] / "scripts" / "po_set.py"
_GLOSSARY_LINE = re.compile(r"^- (?P<concept>.+?) = (?P<use>.+?), not (?P<avoid>.+)$")


def _header_comment(path: Path) -> str:
    with path.open("rb") as handle:
        return read_po(handle, locale="de").header_comment


def glossary(path: Path = GERMAN_PO) -> dict[str, tuple[str, list[str]]]:
    """concept -> (the word to use, the variants to avoid), from the catalog's header comment."""
    found = {}
    for line in _header_comment(path).splitlines():
        match = _GLOSSARY_LINE.match(line.lstrip("#").strip())
        if match:
            found[match["concept"]] = (match["use"], [v.strip() for v in match["avoid"].split("/")])
    return found


def _variant(word: str) -> re.Pattern:
    """The word on its own or inflected (Zahlungsmethoden), also after a hyphen
    (Standard-Zahlungsmethode); never a part of another word (du ≠ durch)."""
    return re.compile(r"(?<![\w])" + re.escape(word) + r"(?:e|en|n|s|es|er|ern)?(?![\w])")


def _german_texts() -> dict[str, list[str]]:
    """Every German text (each plural form), without its placeholders ({due} is no word)."""
    texts = {key: [text] for key, text in CATALOGS["de"].items()}
    for key, forms in PLURAL_FORMS["de"].items():
        texts[key] = list(forms)
    return {key: [_without_placeholders(form) for form in forms] for key, forms in texts.items()}


def test_the_german_catalog_opens_with_its_glossary():
    terms = glossary()
    assert "GLOSSARY" in _header_comment(GERMAN_PO)
    for concept in ("services (booked)", "payment method", "verification",
                    "verification code", "mobile number"):
        assert concept in terms, concept
    assert terms["services (booked)"] == ("Dienste", ["Leistungen"])
    assert terms["payment method"][0] == "Zahlungsart"


def test_no_german_text_uses_a_variant_the_glossary_rules_out():
    offending = []
    for concept, (_use, avoid) in glossary().items():
        patterns = [_variant(word) for word in avoid]
        for key, forms in _german_texts().items():
            for form in forms:
                offending += [(key, concept, p.pattern) for p in patterns if p.search(form)]
    assert not offending, offending


def test_the_check_would_catch_a_variant():
    assert _variant("Zahlungsmethode").search("Standard-Zahlungsmethoden geändert")
    assert _variant("Leistungen").search("Ihre Leistungen")
    assert not _variant("Leistungen").search("Leistungsdatum")
    assert not _variant("du").search("durch die Tür")
    assert _variant("Authentifizierung").search("Die Zwei-Faktor-Authentifizierung")


def test_the_glossary_survives_the_catalog_tool(tmp_path):
    """Texts change through scripts/po_set.py (babel rewrites the file): the glossary stays."""
    root = tmp_path / "root"
    for lang in ("en", "de"):
        target = root / "panel_app/i18n/locale" / lang / "LC_MESSAGES"
        target.mkdir(parents=True)
        shutil.copy(LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po", target)
    change = tmp_path / "change.json"
    change.write_text(json.dumps({"zz.glossary_probe": {"en": "Probe", "de": "Probe"}}), encoding="utf-8")
    subprocess.run([sys.executable, str(PO_SET), str(change), str(root)], check=True, capture_output=True)
    assert glossary(root / "panel_app/i18n/locale/de/LC_MESSAGES" / f"{DOMAIN}.po") == glossary()


# --- German says what English says -------------------------------------------------------


def test_every_text_has_the_same_placeholders_in_german():
    for key, english in CATALOGS["en"].items():
        if key in PLURAL_COUNTS:
            for form in PLURAL_FORMS["de"][key]:
                assert placeholders(form) == placeholders(PLURAL_FORMS["en"][key][-1]), (key, form)
        else:
            assert placeholders(CATALOGS["de"][key]) == placeholders(english), key


def _without_placeholders(text: str) -> str:
    return re.sub(r"\{[a-z_]+\}", "", text)


def test_every_number_written_in_english_is_in_german_too():
    for key, english in CATALOGS["en"].items():
        numbers = sorted(re.findall(r"\d+", _without_placeholders(english)))
        assert numbers == sorted(re.findall(r"\d+", _without_placeholders(CATALOGS["de"][key]))), key


def test_a_button_named_in_a_text_is_named_as_the_german_button():
    """“Lock now” in an English text is „Jetzt sperren“ (the German button's text) in German."""
    keys_by_text: dict[str, list[str]] = {}
    for key, text in CATALOGS["en"].items():
        keys_by_text.setdefault(text, []).append(key)
    checked = 0
    for key, english in CATALOGS["en"].items():
        for label in re.findall(r"“([^”]+)”", english):
            buttons = keys_by_text.get(label, [])
            assert buttons, (key, label, "names no text of the panel")
            assert any(f"„{CATALOGS['de'][b]}“" in CATALOGS["de"][key] for b in buttons), (key, label)
            checked += 1
    assert checked >= 3


# Texts of the profile, security and verification pages that once said less in German:
# (key, what the English says, how the German must say it too).
SAME_CONTENT = [
    ("profile.contact.intro", "to the current", "an die bisherige"),
    ("profile.contact.intro", "one to the new", "an die neue"),
    ("profile.contact.intro", "without the current one it waits", "ohne die bisherige wartet sie"),
    ("profile.contact.no_access_hint", "announced on every channel", "auf allen Kanälen"),
    ("profile.contact.no_access_hint", "or by support", "vom Support"),
    ("profile.contact.no_access_hint", "not the one it replaces", "nicht der, die sie ersetzt"),
    ("profile.contact.waits_grant", "Lock now", "Jetzt sperren"),
    ("profile.contact.waits_grant", "together with a code to the current one", "zusammen mit einem Code an den bisherigen"),
    ("profile.contact.codes_sent", "Enter both", "Geben Sie beide ein"),
    ("profile.scheduled.explain", "change your password", "ändern Sie Ihr Passwort"),
    ("gate.intro", "in all your tabs", "in all Ihren Tabs"),
    ("gate.recovery_hint", "Each works once", "Jeder gilt einmal"),
    ("security.password.hint", "signs out your other sessions", "meldet Ihre anderen Sitzungen ab"),
    ("security.password.hint", "ends the current verification", "beendet die aktuelle Bestätigung"),
    ("security.app_required", "for 5 minutes without it", "5 Minuten lang ohne die App"),
    ("security.passkey.device_required", "is not enough", "reicht nicht"),
    ("security.devices.intro", "Remove any you do not recognise", "Entfernen Sie alle, die Sie nicht kennen"),
    ("security.totp_remove_confirm", "you will be asked again", "Sie werden erneut gefragt"),
]


@pytest.mark.parametrize(("key", "english", "german"), SAME_CONTENT)
def test_the_german_text_says_what_the_english_says(key, english, german):
    assert english in CATALOGS["en"][key], "the English text changed: update this list"
    assert german in CATALOGS["de"][key]
