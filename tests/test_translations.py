"""The gettext catalogs: compiled files match their sources, plurals, Babel formats, and no
English in a German mail or notice."""

import re
from datetime import UTC, date, datetime, timedelta
from functools import partial

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from panel_app.delivery.base import CodeMessage
from panel_app.delivery.templates import html_from_text, render_code_email, render_whatsapp_text
from panel_app.i18n import (CATALOGS, DOMAIN, LANGUAGES, LOCALE_DIR, PLURAL_COUNTS, PLURAL_FORMS, formatting,
                            nt, placeholders, t)
from panel_app.services import invitations, notifications
from panel_app.services.user_agents import describe_user_agent


def _read(path, reader, lang=None):
    with path.open("rb") as handle:
        return reader(handle, locale=lang) if lang else reader(handle)


def _entries(catalog) -> dict:
    return {(m.id if isinstance(m.id, str) else tuple(m.id)): (m.string if isinstance(m.string, str) else tuple(m.string))
            for m in catalog if m.id}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_compiled_catalog_matches_its_source(lang):
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    source = _entries(_read(folder / f"{DOMAIN}.po", read_po, lang))
    compiled = _entries(_read(folder / f"{DOMAIN}.mo", read_mo))
    assert compiled == source, "run: pybabel compile -d panel_app/i18n/locale -D messages"


def test_the_template_lists_every_id_of_the_english_catalog():
    template = {m.id if isinstance(m.id, str) else m.id[0] for m in _read(LOCALE_DIR / f"{DOMAIN}.pot", read_po) if m.id}
    assert template == set(CATALOGS["en"])


def test_every_plural_form_has_the_same_placeholders_in_every_language():
    assert set(PLURAL_FORMS["en"]) == set(PLURAL_FORMS["de"]) == set(PLURAL_COUNTS)
    for key, count in PLURAL_COUNTS.items():
        expected = placeholders(PLURAL_FORMS["en"][key][-1])
        assert count in expected, key
        for lang in LANGUAGES:
            for form in PLURAL_FORMS[lang][key]:
                assert placeholders(form) == expected, (lang, key, form)


def test_a_count_of_one_reads_as_one():
    assert t("gate.tries_left", "en", tries=1) == "1 try left for this code."
    assert t("gate.tries_left", "en", tries=3) == "3 tries left for this code."
    assert t("gate.tries_left", "de", tries=1) == "Noch 1 Versuch für diesen Code."
    assert nt("gate.wait_seconds", 1, "en") == "Please wait 1 second."
    assert nt("login.error.throttled", 1, "de").startswith("Zu viele Versuche. Bitte warten Sie 1 Sekunde ")
    assert nt("security.recovery_left", 1, "de") == "Noch 1 Wiederherstellungscode"
    assert nt("team.sessions_ended", 2, "en") == "Signed out everywhere (2 sessions ended)."


# A number in a text followed by a counted noun: such a text must be a plural entry.
_COUNTED_NOUN = re.compile(r"\{(\w+)\} (?:\w+ )?(codes|tries|minutes|seconds|hours|days|sessions|messages|"
                           r"Codes|Versuche|Minuten|Sekunden|Stunden|Tage|Sitzungen|Wiederherstellungscodes)\b")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_counted_number_in_a_text_has_its_plural(lang):
    """A count known only at run time ("1 recovery codes are left", the notice after a
    recovery code was used, is what a missing plural looks like). The policy's fixed numbers
    (``{reset_link_minutes}``, ...) are left out: they are never 1."""
    from panel_app.security.policy import POLICY

    fixed = set(POLICY.text_values())
    counted = sorted(key for key, text in CATALOGS[lang].items()
                     if key not in PLURAL_COUNTS
                     and any(match.group(1) not in fixed for match in _COUNTED_NOUN.finditer(text)))
    assert counted == []


def test_the_last_recovery_code_notice_reads_as_one():
    assert "1 recovery code is left." in t("notice.recovery_code_used.body", "en", when="today", remaining=1)
    assert "0 recovery codes are left." in t("notice.recovery_code_used.body", "en", when="today", remaining=0)
    assert "Es bleibt 1 Wiederherstellungscode." in t("notice.recovery_code_used.body", "de", when="heute",
                                                      remaining=1)


def test_the_stepup_lifetime_text_is_singular_for_one_minute(monkeypatch):
    from panel_app import settings

    monkeypatch.setenv("PANEL_STEPUP_TTL_SECONDS", "60")
    settings.get_settings.cache_clear()
    try:
        assert "stays open for 1 minute in all" in t("gate.intro", "en")
        assert "1 Minute lang" in t("gate.intro", "de")
    finally:
        monkeypatch.delenv("PANEL_STEPUP_TTL_SECONDS")
        settings.get_settings.cache_clear()


def test_reactive_text_holds_every_language_and_chooses_plurals_in_the_browser():
    from panel_app.components.i18n import page_title, tr, tr_format
    from panel_app.state.security import SecurityState

    compiled = str(tr("security.title"))
    for lang in LANGUAGES:
        assert f'["{lang}"]' in compiled
    plural = str(tr_format("security.recovery_left", count=SecurityState.recovery_left))
    assert "Noch {count} Wiederherstellungscode\"" in plural and "{count} recovery code left" in plural
    assert "(n != 1)" in plural
    assert '"Hilfe"' in str(page_title("route.help"))


def test_money_dates_and_sizes_come_from_babel_and_read_as_before():
    assert formatting.money(123456, "EUR", "de") == "1.234,56 €"
    assert formatting.money(123456, "EUR", "en") == "€1,234.56"
    assert formatting.money(-1999, "CHF", "en") == "-CHF 19.99"
    assert formatting.money(123456, "EUR", "fr") == "1 234,56 €"  # any CLDR language
    assert formatting.day(date(2026, 1, 5), "de") == "05.01.2026"
    assert formatting.day(date(2026, 1, 5), "en") == "2026-01-05"
    assert formatting.moment(datetime(2026, 1, 5, 9, 5, tzinfo=UTC), "de") == "05.01.2026 09:05 UTC"
    assert formatting.moment(datetime(2026, 1, 5, 9, 5, tzinfo=UTC), "en") == "2026-01-05 09:05 UTC"
    assert formatting.megabytes(1536, "de") == "1,5 GB" and formatting.megabytes(512, "en") == "512 MB"


def test_browser_descriptions_are_in_the_readers_language():
    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
    assert describe_user_agent(firefox, "de") == "Firefox unter Linux"
    assert describe_user_agent(firefox) == "Firefox on Linux"
    assert describe_user_agent("", "de") == "Unbekannter Browser"


# --- no English in a German mail ----------------------------------------------------------------

_ISO_MOMENT = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def _english_only_fragments() -> set[str]:
    """The literal parts (between placeholders) of every English text that differs from German,
    long enough to be a sentence part rather than a shared word."""
    fragments = set()
    for key, english in CATALOGS["en"].items():
        if english == CATALOGS["de"][key]:
            continue
        for part in re.split(r"\{[a-z_]+\}", english):
            for line in part.split("\n"):
                line = line.strip(" .,:;()")
                if len(line) >= 12 and line not in CATALOGS["de"][key]:
                    fragments.add(line)
    return fragments


ENGLISH = _english_only_fragments()


def _assert_german(text: str, what: str) -> None:
    leaks = sorted(fragment for fragment in ENGLISH if fragment in text)
    assert not leaks, (what, leaks)
    assert not _ISO_MOMENT.search(text), (what, "an English date")


def _params(lang: str) -> dict:
    """What the callers pass: translated values in the reader's language."""
    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
    return {"browser": partial(describe_user_agent, firefox), "ip": "198.51.100.7", "remaining": 9,
            "field": t("profile.kind.email", lang), "new_value": "n•••@example.com", "domain": "example.com",
            "actor": "tech@example.com", "admin": "tech@example.com",
            "areas": t("activity.area.domains", lang), "count": 5, "hours": 72,
            "effective": partial(formatting.moment, datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),
            "cancel_url": "http://localhost:3000/profile?cancel_change=1", "ticket": 7,
            "url": "http://localhost:3000/support"}


@pytest.mark.parametrize("kind", notifications.KINDS)
def test_every_notice_in_german_has_no_english(kind):
    subject, body = notifications.render(kind, "de", **_params("de"))
    _assert_german(subject + "\n" + body, kind)
    _assert_german(html_from_text(body, "de", subject), kind)
    english_subject, _ = notifications.render(kind, "en", **_params("en"))
    assert english_subject != subject  # a German notice is not the English one


@pytest.mark.parametrize("purpose", ["stepup", "confirm_email", "confirm_phone", "something_else"])
def test_code_mails_and_whatsapp_texts_in_german_have_no_english(purpose):
    message = CodeMessage("email", "a@b.example", "123456", "de", purpose=purpose)
    mail = render_code_email(message)
    for part in (mail.subject, mail.text, mail.html):
        _assert_german(part, purpose)
    _assert_german(render_whatsapp_text(CodeMessage("whatsapp", "+4915112345678", "123456", "de")), "whatsapp")
    assert "1 Minute ab" in render_whatsapp_text(CodeMessage("whatsapp", "+4915112345678", "1", "de",
                                                             valid_minutes=1))


def test_the_invitation_mail_in_german_has_no_english(now):
    invite = invitations.SentInvitation(invitation_id=1, email="neu@example.com", name="Neu",
                                        areas=("domains", "email"), expires_at=now + timedelta(days=7),
                                        language="de", inviter_name="Olga", account_name="Beispiel GmbH",
                                        link="http://localhost:3000/invite?token=x")
    subject, text = invitations.render_invitation_email(invite)
    _assert_german(subject + "\n" + text, "invitation")
    assert "02.12.2026 12:00 UTC" in text


async def test_the_reset_link_mail_in_german_has_no_english(smtp_settings, make_user):
    user = make_user(language="de")
    assert await notifications.send_reset_link(user.id, "t" * 40)
    [(_recipients, mail)] = smtp_settings.messages
    _assert_german(mail["Subject"] + "\n" + mail.get_body(preferencelist=("plain",)).get_content(), "reset link")


async def test_a_german_sign_in_notice_describes_the_browser_in_german(smtp_settings, make_user):
    user = make_user(language="de")
    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
    assert await notifications.notify_new_sign_in(user.id, ip="203.0.113.9", user_agent=firefox)
    [(_recipients, mail)] = smtp_settings.messages
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Firefox unter Linux" in body
    _assert_german(mail["Subject"] + "\n" + body, "new sign-in")
