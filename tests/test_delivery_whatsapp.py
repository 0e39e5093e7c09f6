"""Codes via the WhatsApp Cloud API, against a local fake of Meta's endpoint."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from panel_app.db import get_engine, transaction
from panel_app.delivery import CodeMessage, deliver_code, record_delivery
from panel_app.delivery import whatsapp as whatsapp_module
from panel_app.i18n import CATALOGS
from panel_app.models import OutboxMessage, VerificationCode
from tests.fakes import free_port, settings_env
from tests.fakes.whatsapp_cloud import META_ERRORS, FakeWhatsAppCloud

CODE = "318274"
PHONE = "+4915112345612"


@pytest.fixture(scope="module")
def cloud():
    fake = FakeWhatsAppCloud().start()
    yield fake
    fake.stop()


@pytest.fixture
def configured(cloud):
    cloud.reset()
    with settings_env(
        PANEL_ENV="production",
        PANEL_WHATSAPP_TOKEN=cloud.token,
        PANEL_WHATSAPP_PHONE_NUMBER_ID=cloud.phone_number_id,
        PANEL_WHATSAPP_API_BASE=cloud.base_url,
        PANEL_WHATSAPP_TEMPLATE="panel_verification_code",
    ):
        yield cloud
    cloud.reset()


async def test_code_is_sent_as_authentication_template(configured):
    result = await deliver_code(CodeMessage("whatsapp", PHONE, CODE, "de", "stepup", code_id=3))

    assert result.ok and result.status == "sent" and result.transport == "cloud"
    [request] = configured.requests
    [response] = configured.responses
    assert result.provider_message_id == response.body["messages"][0]["id"]
    assert result.provider_message_id.startswith("wamid.")
    assert request.path == f"/v21.0/{configured.phone_number_id}/messages"
    assert request.headers["authorization"] == f"Bearer {configured.token}"
    assert request.headers["content-type"] == "application/json"
    assert request.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": PHONE,
        "type": "template",
        "template": {
            "name": "panel_verification_code",
            "language": {"code": "de"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": CODE}]},
                {"type": "button", "sub_type": "url", "index": "0",
                 "parameters": [{"type": "text", "text": CODE}]},
            ],
        },
    }


async def test_english_user_gets_english_template(configured):
    assert (await deliver_code(CodeMessage("whatsapp", PHONE, CODE, "en"))).ok
    assert configured.requests[0].json["template"]["language"] == {"code": "en"}


async def test_production_never_writes_the_outbox_when_cloud_is_configured(configured):
    assert (await deliver_code(CodeMessage("whatsapp", PHONE, CODE, "en"))).ok
    with Session(get_engine()) as s:
        assert s.exec(select(OutboxMessage)).all() == []


EXPECTED = {
    "131026": ("delivery.error.whatsapp_undeliverable", 400),
    "100": ("delivery.error.whatsapp_rejected", 400),
    "132001": ("delivery.error.whatsapp_setup", 404),
    "130429": ("delivery.error.whatsapp_busy", 400),
    "131056": ("delivery.error.whatsapp_too_many_to_number", 400),
    "190": ("delivery.error.whatsapp_setup", 401),
}


@pytest.mark.parametrize("error_code", sorted(EXPECTED))
async def test_meta_errors_map_to_a_sentence_with_the_way_out(configured, error_code):
    configured.fail_next(error_code)

    result = await deliver_code(CodeMessage("whatsapp", PHONE, CODE, "en"))

    key, http_status = EXPECTED[error_code]
    [response] = configured.responses
    assert response.status == http_status == META_ERRORS[error_code][0]
    assert response.body["error"]["code"] == int(error_code)  # the fake spoke Meta's shape
    assert (result.ok, result.status, result.error_code, result.error_key) == (
        False, "failed", error_code, key)
    assert result.suggest_other_channel and result.provider_message_id is None
    assert "email" in CATALOGS["en"][key] and "E-Mail" in CATALOGS["de"][key]


async def test_wrong_token_is_refused_by_the_api_with_190(configured):
    with settings_env(
        PANEL_ENV="production", PANEL_WHATSAPP_TOKEN="expired-token",
        PANEL_WHATSAPP_PHONE_NUMBER_ID=configured.phone_number_id,
        PANEL_WHATSAPP_API_BASE=configured.base_url,
    ):
        result = await deliver_code(CodeMessage("whatsapp", PHONE, CODE, "en"))

    assert configured.requests[0].headers["authorization"] == "Bearer expired-token"
    assert configured.responses[0].status == 401
    assert (result.error_code, result.error_key) == ("190", "delivery.error.whatsapp_setup")


async def test_template_missing_in_a_language_gives_132001(configured):
    configured.templates.discard(("panel_verification_code", "de"))
    try:
        german = await deliver_code(CodeMessage("whatsapp", PHONE, CODE, "de"))
        english = await deliver_code(CodeMessage("whatsapp", PHONE, CODE, "en"))
    finally:
        configured.templates.add(("panel_verification_code", "de"))

    assert (german.ok, german.error_code) == (False, "132001")
    assert english.ok


async def test_non_graph_error_page_is_reported_as_unavailable(configured):
    configured.respond_raw_next(502, "<html>Bad Gateway</html>")

    result = await deliver_code(CodeMessage("whatsapp", PHONE, CODE, "en"))

    assert (result.ok, result.error_code, result.error_key) == (
        False, "http_502", "delivery.error.whatsapp_unavailable")


async def test_success_without_message_id_is_not_taken_as_sent(configured):
    configured.respond_raw_next(200, "OK")
    result = await deliver_code(CodeMessage("whatsapp", PHONE, CODE, "en"))
    assert (result.ok, result.error_code) == (False, "bad_response")


async def test_unreachable_api():
    with settings_env(
        PANEL_ENV="production", PANEL_WHATSAPP_TOKEN="t", PANEL_WHATSAPP_PHONE_NUMBER_ID="1",
        PANEL_WHATSAPP_API_BASE=f"http://127.0.0.1:{free_port()}/v21.0",
    ):
        result = await deliver_code(CodeMessage("whatsapp", PHONE, CODE, "en"))
    assert (result.ok, result.error_code, result.error_key) == (
        False, "unreachable", "delivery.error.whatsapp_unavailable")


async def test_api_that_does_not_answer_times_out(configured, monkeypatch):
    monkeypatch.setattr(whatsapp_module, "WHATSAPP_TIMEOUT_SECONDS", 0.3)
    configured.hang()

    result = await deliver_code(CodeMessage("whatsapp", PHONE, CODE, "en"))

    assert len(configured.requests) == 1  # the request got there; no answer came back
    assert (result.ok, result.error_code, result.error_key) == (
        False, "timeout", "delivery.error.whatsapp_unavailable")


def test_default_timeout_is_about_ten_seconds():
    assert whatsapp_module.WHATSAPP_TIMEOUT_SECONDS == 10.0


async def test_neither_token_nor_code_is_logged(configured, caplog):
    caplog.set_level(logging.DEBUG)
    await deliver_code(CodeMessage("whatsapp", PHONE, CODE, "en"))
    configured.fail_next("131026")
    await deliver_code(CodeMessage("whatsapp", PHONE, CODE, "en"))

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "131026" in logged  # the failure is visible to operators ...
    assert CODE not in logged and configured.token not in logged  # ... the secrets are not
    assert PHONE not in logged


async def test_sent_code_records_the_message_id(configured, make_user, now):
    user = make_user()
    with transaction() as db:
        row = VerificationCode(user_id=user.id, purpose="stepup", channel="whatsapp", destination=PHONE,
                               code_hash="0" * 64, created_at=now, expires_at=now + timedelta(minutes=10))
        db.add(row)
        db.flush()
        code_id = row.id

    result = await deliver_code(CodeMessage("whatsapp", PHONE, CODE, "en", code_id=code_id))
    with transaction() as db:
        record_delivery(db, code_id, result)

    with Session(get_engine()) as s:
        stored = s.get(VerificationCode, code_id)
        assert (stored.delivery_status, stored.provider_message_id) == ("sent", result.provider_message_id)


def test_a_security_notice_uses_the_notice_template_with_the_text_as_its_body():
    from panel_app.delivery.whatsapp import build_notice_payload

    payload = build_notice_payload("+4915112345612", "de", "Ihre Mobilnummer wird geändert", "panel_security_notice")
    assert payload["template"]["name"] == "panel_security_notice"
    assert payload["template"]["language"] == {"code": "de"}
    assert payload["template"]["components"] == [
        {"type": "body", "parameters": [{"type": "text", "text": "Ihre Mobilnummer wird geändert"}]}]
