"""One policy object: every number of the security rules, and the texts that state them."""

import re

import pytest

from panel_app import settings
from panel_app.i18n import CATALOGS, t
from panel_app.security import codes, devices, passwords, recovery, staff, throttle, totp
from panel_app.security.policy import POLICY
from panel_app.services import password_reset, staff_support, stepup, team


@pytest.fixture
def stepup_ttl(monkeypatch):
    def _set(seconds: int) -> None:
        monkeypatch.setenv("PANEL_STEPUP_TTL_SECONDS", str(seconds))
        settings.get_settings.cache_clear()

    yield _set
    monkeypatch.delenv("PANEL_STEPUP_TTL_SECONDS", raising=False)
    settings.get_settings.cache_clear()


def test_the_old_constant_names_are_the_policy_values():
    assert (codes.CODE_DIGITS, codes.CODE_VALID_SECONDS, codes.MAX_TRIES_PER_CODE) == (
        POLICY.code_digits, POLICY.code_valid_seconds, POLICY.code_tries)
    assert (codes.RESEND_COOLDOWN_SECONDS, codes.MAX_SENDS_PER_HOUR, codes.SEND_WINDOW_SECONDS) == (
        POLICY.code_resend_cooldown_seconds, POLICY.code_sends_per_window, POLICY.code_send_window_seconds)
    assert stepup.STEPUP_POLICY is POLICY.stepup_backoff
    assert (stepup.FAILURES_PER_WINDOW, stepup.WINDOW_SECONDS) == (25, 24 * 3600)
    assert throttle.LOGIN_ACCOUNT_POLICY is POLICY.login_account_backoff
    assert throttle.LOGIN_IP_POLICY is POLICY.login_ip_backoff
    assert password_reset.LINK_VALID_SECONDS == POLICY.reset_link_valid_seconds
    assert team.INVITATION_TTL == POLICY.invitation_valid
    assert devices.MAX_DEVICES_PER_USER == POLICY.devices_per_user
    assert staff_support.EVIDENCE_NEEDED == POLICY.evidence_needed
    assert staff.GRANT_SECONDS == POLICY.staff_grant_seconds
    assert recovery.CODE_COUNT == POLICY.recovery_code_count
    assert passwords.MIN_PASSWORD_LENGTH == POLICY.password_min_length
    assert totp.DIGITS == POLICY.totp_digits


def test_settings_numbers_are_read_at_call_time(stepup_ttl):
    stepup_ttl(300)
    assert POLICY.stepup_ttl_seconds == 300
    stepup_ttl(900)
    assert POLICY.stepup_ttl_seconds == 900


def test_the_gate_text_follows_the_stepup_lifetime_setting(stepup_ttl):
    assert "10 minutes" in t("gate.intro", "en")
    stepup_ttl(300)
    assert "5 minutes" in t("gate.intro", "en") and "10 minutes" not in t("gate.intro", "en")
    assert "5 Minuten" in t("gate.intro", "de")
    assert "5 minutes" in t("help.a.how_long", "en")
    assert "5 Minuten" in t("dashboard.protected_hint", "de")


def test_the_reactive_text_follows_the_setting_too(stepup_ttl):
    from panel_app.components.i18n import tr

    stepup_ttl(300)
    compiled = str(tr("gate.intro"))
    assert "5 minutes" in compiled and "5 Minuten" in compiled and "10 min" not in compiled


def test_texts_fill_the_policy_numbers_and_keep_the_callers_placeholders():
    text = t("gate.send_hint", "en", destination="o•••@example.com")
    assert text == "We send a 6-digit code to o•••@example.com. It is valid for 10 minutes."
    assert t("gate.send_hint", "de").startswith("Wir senden einen 6-stelligen Code an {destination}.")


# Numbers the policy holds, as they would read in a text that copied them.
_COPIED = re.compile(r"\b(?:10|30) (?:minutes|Minuten)\b|\b6-(?:digit|stellig)|\b7 (?:days|Tage)\b"
                     r"|\b3 (?:of|von) 4\b|\b24 (?:hours|Stunden)\b|\b1[02] (?:characters|Zeichen|letters|Buchstaben)\b")


def test_no_catalog_text_copies_a_policy_number():
    copies = [f"{lang}:{key}" for lang, catalog in CATALOGS.items() for key, text in catalog.items()
              if _COPIED.search(text)]
    assert not copies, copies
