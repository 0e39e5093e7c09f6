import re
import string

from panel_app.i18n import CATALOGS, t


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_catalogs_have_the_same_keys():
    assert set(CATALOGS["en"]) == set(CATALOGS["de"])


def test_placeholders_match_between_languages():
    for key, english in CATALOGS["en"].items():
        assert _placeholders(english) == _placeholders(CATALOGS["de"][key]), key


def test_no_empty_or_untranslated_placeholder_text():
    for lang, catalog in CATALOGS.items():
        for key, text in catalog.items():
            assert text.strip(), f"{lang}:{key} is empty"


def test_every_tr_key_used_in_the_ui_exists():
    """Keys written literally in components and pages must be in the catalog."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "panel_app"
    used = set()
    for path in list((root / "pages").glob("*.py")) + list((root / "components").glob("*.py")):
        used |= set(re.findall(r"""\btr\(\s*["']([a-z0-9_.]+)["']""", path.read_text()))
    missing = sorted(k for k in used if k not in CATALOGS["en"])
    assert not missing, missing


def test_t_formats_and_falls_back_to_english_for_unknown_languages():
    assert t("login.error.throttled", "de", seconds=5).startswith("Zu viele Versuche")
    assert t("login.submit", "xx") == "Sign in"
