"""Demo outbox, demo fault injection, production without transports, status bookkeeping."""

from __future__ import annotations

import re
import string
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from panel_app.db import get_engine, transaction
from panel_app.delivery import (
    CodeMessage,
    DeliveryResult,
    apply_status_update,
    deliver_code,
    demo_fault_choices,
    error_key_for,
    get_demo_faults,
    outbox_messages,
    record_delivery,
    send_email_notice,
    set_demo_fault,
)
from panel_app.delivery.base import _ERROR_KEYS
from panel_app.delivery.outbox import DEMO_FAULTS, take_demo_fault
from panel_app.i18n import CATALOGS
from panel_app.i18n.catalog import delivery as delivery_catalog
from panel_app.models import DemoSetting, OutboxMessage, VerificationCode
from panel_app.services.validation import ValidationError
from tests.fakes import settings_env

CODE = "482913"


@pytest.fixture
def demo():
    with settings_env(PANEL_ENV="demo"):
        yield


@pytest.fixture
def production():
    with settings_env(PANEL_ENV="production"):
        yield


def _outbox() -> list[OutboxMessage]:
    with Session(get_engine()) as s:
        return list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def _arm(channel: str, error_code: str | None) -> None:
    with transaction() as db:
        set_demo_fault(db, channel, error_code)


# --- demo outbox ---------------------------------------------------------------------


async def test_demo_email_code_lands_in_outbox_with_text_and_html(demo, now):
    result = await deliver_code(
        CodeMessage("email", "owner@test.example", CODE, "en", "stepup", code_id=None), now=now
    )

    assert result.ok and result.status == "sent" and result.transport == "outbox"
    [mail] = _outbox()
    assert result.provider_message_id == f"outbox-{mail.id}"
    assert mail.channel == "email" and mail.recipient == "owner@test.example"
    assert mail.subject == "Your verification code for the control panel"
    assert CODE in mail.text and CODE in mail.html
    assert "10 minutes" in mail.text and "Never share this code" in mail.text
    assert "protected area" in mail.text  # says what the code is for


async def test_demo_whatsapp_code_lands_in_outbox_in_german(demo, now):
    result = await deliver_code(CodeMessage("whatsapp", "+4915112345612", CODE, "de", "stepup"), now=now)

    assert result.ok and result.transport == "outbox"
    [message] = _outbox()
    assert message.channel == "whatsapp" and message.recipient == "+4915112345612"
    assert message.text.startswith(f"{CODE} ist Ihr Bestätigungscode")
    assert "10 Minuten" in message.text


async def test_demo_notice_lands_in_outbox_and_html_is_escaped(demo):
    result = await send_email_notice(
        "owner@test.example", "en", "New sign-in", "A new sign-in from <script>alert(1)</script>.\n\nBye"
    )

    assert result.ok
    [mail] = _outbox()
    assert mail.subject == "New sign-in"
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    assert mail.text.startswith("A new sign-in from <script>")


# --- demo faults ---------------------------------------------------------------------


@pytest.mark.parametrize("error_code", DEMO_FAULTS["whatsapp"])
async def test_whatsapp_demo_fault_fails_next_send_once(demo, error_code):
    _arm("whatsapp", error_code)
    message = CodeMessage("whatsapp", "+4915112345612", CODE, "en")

    failed = await deliver_code(message)
    assert not failed.ok and failed.status == "failed"
    assert failed.error_code == error_code
    assert failed.error_key == error_key_for("whatsapp", error_code)
    assert "by email" in CATALOGS["en"][failed.error_key]  # the way out
    assert failed.suggest_other_channel
    assert _outbox() == []  # nothing was "sent"

    again = await deliver_code(message)
    assert again.ok  # applied once, then gone
    assert len(_outbox()) == 1
    with Session(get_engine()) as s:
        assert s.get(DemoSetting, "fail_next_whatsapp") is None


@pytest.mark.parametrize("error_code,key", [("smtp_refused", "delivery.error.email_refused"),
                                            ("smtp_unreachable", "delivery.error.email_unreachable")])
async def test_email_demo_fault_fails_next_code_only_on_email(demo, error_code, key):
    _arm("email", error_code)

    whatsapp = await deliver_code(CodeMessage("whatsapp", "+4915112345612", CODE, "en"))
    assert whatsapp.ok  # the other channel is not affected

    email = await deliver_code(CodeMessage("email", "owner@test.example", CODE, "en"))
    assert (email.ok, email.error_code, email.error_key) == (False, error_code, key)
    assert "WhatsApp" in CATALOGS["en"][key]

    assert (await deliver_code(CodeMessage("email", "owner@test.example", CODE, "en"))).ok


async def test_notice_does_not_use_up_a_demo_fault(demo):
    _arm("email", "smtp_refused")

    assert (await send_email_notice("owner@test.example", "en", "Notice", "Text")).ok
    assert not (await deliver_code(CodeMessage("email", "owner@test.example", CODE, "en"))).ok


def test_set_demo_fault_validates_and_disarms(demo, db):
    with pytest.raises(ValidationError):
        set_demo_fault(db, "email", "131026")  # a WhatsApp error on the email channel
    with pytest.raises(ValidationError):
        set_demo_fault(db, "sms", "100")
    with pytest.raises(ValidationError):
        set_demo_fault(db, "whatsapp", "999")

    set_demo_fault(db, "whatsapp", "130429")
    set_demo_fault(db, "whatsapp", "131056")  # replaces, not adds
    assert get_demo_faults(db) == {"email": None, "whatsapp": "131056"}
    set_demo_fault(db, "whatsapp", None)
    assert get_demo_faults(db) == {"email": None, "whatsapp": None}
    db.commit()


def test_demo_fault_choices_have_labels_in_both_languages(demo):
    for channel in ("email", "whatsapp"):
        choices = demo_fault_choices(channel)
        assert [code for code, _ in choices] == list(DEMO_FAULTS[channel])
        for _, label in choices:
            assert label in CATALOGS["en"] and label in CATALOGS["de"]
    assert {code for code, _ in demo_fault_choices("whatsapp")} == {
        "131026", "100", "132001", "130429", "131056", "190"}


# --- production ----------------------------------------------------------------------


async def test_production_without_transports_fails_loudly_and_writes_nothing(production):
    email = await deliver_code(CodeMessage("email", "owner@test.example", CODE, "en"))
    whatsapp = await deliver_code(CodeMessage("whatsapp", "+4915112345612", CODE, "de"))
    notice = await send_email_notice("owner@test.example", "en", "Notice", "Text")

    assert (email.ok, email.error_code, email.error_key) == (
        False, "not_configured", "delivery.error.email_not_configured")
    assert (whatsapp.ok, whatsapp.error_code, whatsapp.error_key) == (
        False, "not_configured", "delivery.error.whatsapp_not_configured")
    assert not notice.ok and notice.error_code == "not_configured"
    assert _outbox() == []


def test_production_refuses_demo_faults_and_ignores_stale_rows(production, db):
    with pytest.raises(ValidationError):
        set_demo_fault(db, "whatsapp", "131026")
    db.add(DemoSetting(key="fail_next_whatsapp", value="131026"))
    db.commit()

    assert take_demo_fault(db, "whatsapp") is None
    db.commit()
    assert db.get(DemoSetting, "fail_next_whatsapp") is not None


# --- code message, catalog -----------------------------------------------------------


def test_code_message_never_shows_the_code_in_repr():
    message = CodeMessage("email", "owner@test.example", CODE, "de")
    assert CODE not in repr(message)
    with pytest.raises(ValueError):
        CodeMessage("sms", "+4915112345612", CODE)
    assert CodeMessage("email", "a@b.example", CODE, "fr").language == "en"


def test_delivery_catalog_is_complete_in_both_languages():
    assert set(delivery_catalog.EN) == set(delivery_catalog.DE)
    fields = lambda text: sorted(f for _, f, _, _ in string.Formatter().parse(text) if f)  # noqa: E731
    for key, text in delivery_catalog.EN.items():
        assert fields(text) == fields(delivery_catalog.DE[key]), key
    for keys in _ERROR_KEYS.values():
        for key in keys.values():
            assert key in delivery_catalog.EN
    assert error_key_for("whatsapp", "424242") == "delivery.error.whatsapp_failed"


# --- status bookkeeping --------------------------------------------------------------


@pytest.fixture
def code_row(make_user, now):
    user = make_user()
    with transaction() as db:
        row = VerificationCode(user_id=user.id, purpose="stepup", channel="whatsapp",
                               destination="+4915112345612", code_hash="0" * 64,
                               created_at=now, expires_at=now + timedelta(minutes=10))
        db.add(row)
        db.flush()
        return row.id


def _code(code_id: int) -> VerificationCode:
    with Session(get_engine()) as s:
        return s.get(VerificationCode, code_id)


def test_record_delivery_stores_outcome(code_row):
    with transaction() as db:
        record_delivery(db, code_row, DeliveryResult.sent("wamid.ABC", "cloud"))
    row = _code(code_row)
    assert (row.delivery_status, row.delivery_error, row.provider_message_id) == ("sent", "", "wamid.ABC")

    with transaction() as db:
        assert record_delivery(db, 999999, DeliveryResult.sent("x", "cloud")) is None


def test_record_delivery_of_a_failure(code_row):
    with transaction() as db:
        record_delivery(db, code_row, DeliveryResult.failed("whatsapp", "131026", "cloud"))
    row = _code(code_row)
    assert (row.delivery_status, row.delivery_error, row.provider_message_id) == ("failed", "131026", None)


def test_status_updates_only_move_forward(code_row):
    with transaction() as db:
        record_delivery(db, code_row, DeliveryResult.sent("wamid.ABC", "cloud"))

    steps = [
        ("delivered", None, True, "delivered"),
        ("sent", None, False, "delivered"),       # late "sent" does not undo "delivered"
        ("delivered", None, False, "delivered"),  # repeat
        ("failed", "131026", False, "delivered"),  # the phone already has it
        ("read", None, True, "read"),
        ("bogus", None, False, "read"),
    ]
    for status, error_code, changed, expected in steps:
        with transaction() as db:
            assert apply_status_update(db, "wamid.ABC", status, error_code) is changed, status
        assert _code(code_row).delivery_status == expected
    with transaction() as db:
        assert apply_status_update(db, "wamid.UNKNOWN", "read", None) is False


def test_late_failure_after_sent_is_recorded_with_its_code(code_row):
    with transaction() as db:
        record_delivery(db, code_row, DeliveryResult.sent("wamid.XYZ", "cloud"))
        assert apply_status_update(db, "wamid.XYZ", "failed", "131026")
    row = _code(code_row)
    assert (row.delivery_status, row.delivery_error) == ("failed", "131026")
    assert re.search("WhatsApp", CATALOGS["de"][error_key_for("whatsapp", row.delivery_error)])


def test_outbox_messages_lists_newest_first(demo, db, now):
    from panel_app.delivery.outbox import write_outbox

    write_outbox(db, channel="email", recipient="a@test.example", text="one", now=now)
    write_outbox(db, channel="email", recipient="b@test.example", text="two", now=now)
    db.commit()
    assert [m.text for m in outbox_messages(db)] == ["two", "one"]
    assert [m.text for m in outbox_messages(db, recipient="a@test.example")] == ["one"]
