"""The WhatsApp webhook: subscription check, signed status callbacks, refusals."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from sqlmodel import Session
import httpx
from starlette.applications import Starlette

from panel_app.api.webhooks import MAX_BODY_BYTES, WEBHOOK_PATH, routes
from panel_app.db import get_engine, transaction
from panel_app.models import VerificationCode
from tests.fakes import settings_env

APP_SECRET = "meta-app-secret-for-tests"
VERIFY_TOKEN = "verify-me-please"


def _client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=Starlette(routes=routes), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://panel.test")


@pytest.fixture
async def client():
    with settings_env(PANEL_ENV="production", PANEL_WHATSAPP_APP_SECRET=APP_SECRET,
                      PANEL_WHATSAPP_VERIFY_TOKEN=VERIFY_TOKEN):
        async with _client() as test_client:
            yield test_client


@pytest.fixture
def sent_code(make_user, now):
    """A code whose WhatsApp message Meta accepted as wamid.SENT1."""
    user = make_user()
    with transaction() as db:
        row = VerificationCode(user_id=user.id, purpose="stepup", channel="whatsapp",
                               destination="+4915112345612", code_hash="0" * 64, created_at=now,
                               expires_at=now + timedelta(minutes=10), delivery_status="sent",
                               provider_message_id="wamid.SENT1")
        db.add(row)
        db.flush()
        return row.id


def _status_of(code_id: int) -> tuple[str, str]:
    with Session(get_engine()) as s:
        row = s.get(VerificationCode, code_id)
        return row.delivery_status, row.delivery_error


def _payload(*statuses: dict) -> bytes:
    return json.dumps({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "102290129340398",
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                    "statuses": list(statuses),
                },
            }],
        }],
    }).encode()


def _status(message_id: str, status: str, error_code: int | None = None) -> dict:
    item = {"id": message_id, "status": status, "timestamp": "1750263773", "recipient_id": "4915112345612"}
    if error_code is not None:
        item["errors"] = [{"code": error_code, "title": "Message undeliverable",
                           "message": "Message undeliverable",
                           "error_data": {"details": "Message Undeliverable."}}]
    return item


def _sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def _post(client: httpx.AsyncClient, body: bytes, signature: str | None = "auto"):
    headers = {"Content-Type": "application/json"}
    if signature == "auto":
        signature = _sign(body)
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return await client.post(WEBHOOK_PATH, content=body, headers=headers)


# --- verification (GET) -----------------------------------------------------------------


async def test_verification_answers_the_challenge(client):
    params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    response = await client.get(WEBHOOK_PATH, params=params)
    assert (response.status_code, response.text) == (200, "1158201444")
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize("params", [
    {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
    {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
    {"hub.mode": "subscribe", "hub.challenge": "1"},
    {},
])
async def test_verification_refused(client, params):
    response = await client.get(WEBHOOK_PATH, params=params)
    assert response.status_code == 403 and "1" not in response.text


async def test_verification_refused_when_no_verify_token_is_configured():
    with settings_env(PANEL_ENV="production", PANEL_WHATSAPP_APP_SECRET=APP_SECRET):
        async with _client() as client:
            response = await client.get(WEBHOOK_PATH, params={"hub.mode": "subscribe", "hub.verify_token": "",
                                                        "hub.challenge": "1"})
    assert response.status_code == 403


# --- signed callbacks (POST) ------------------------------------------------------------


async def test_signed_delivered_status_moves_the_code(client, sent_code):
    response = await _post(client, _payload(_status("wamid.SENT1", "delivered")))

    assert (response.status_code, response.text) == (200, "OK")
    assert _status_of(sent_code) == ("delivered", "")


async def test_statuses_only_move_forward(client, sent_code):
    body = _payload(_status("wamid.SENT1", "read"), _status("wamid.SENT1", "delivered"),
                    _status("wamid.SENT1", "sent"))
    assert (await _post(client, body)).status_code == 200
    assert _status_of(sent_code) == ("read", "")


async def test_failed_status_stores_metas_error_code(client, sent_code):
    assert (await _post(client, _payload(_status("wamid.SENT1", "failed", 131026)))).status_code == 200
    assert _status_of(sent_code) == ("failed", "131026")


async def test_unknown_message_and_other_events_are_acknowledged(client, sent_code):
    messages_event = json.dumps({"object": "whatsapp_business_account", "entry": [{"changes": [
        {"field": "messages",
         "value": {"messages": [{"from": "491511", "id": "wamid.IN", "type": "text"}]}}]}]}
    ).encode()
    assert (await _post(client, messages_event)).status_code == 200
    assert (await _post(client, _payload(_status("wamid.OTHER", "read")))).status_code == 200
    assert _status_of(sent_code) == ("sent", "")


@pytest.mark.parametrize("signature", [
    None,                                   # missing
    "",                                     # empty
    "sha256=" + "0" * 64,                   # made up
    "sha1=abcdef",                          # wrong scheme
    "forged-with-another-secret",           # replaced below
])
async def test_unsigned_or_badly_signed_posts_are_refused(client, sent_code, signature):
    body = _payload(_status("wamid.SENT1", "failed", 131026))
    if signature == "forged-with-another-secret":
        signature = _sign(body, "not-the-app-secret")

    response = await _post(client, body, signature)

    assert response.status_code == 403
    assert _status_of(sent_code) == ("sent", "")


async def test_signature_of_another_body_is_refused(client, sent_code):
    signed = _payload(_status("wamid.SENT1", "delivered"))
    tampered = _payload(_status("wamid.SENT1", "failed", 131026))

    assert (await _post(client, tampered, _sign(signed))).status_code == 403
    assert _status_of(sent_code) == ("sent", "")


async def test_uppercase_hex_signature_is_accepted(client, sent_code):
    body = _payload(_status("wamid.SENT1", "delivered"))
    assert (await _post(client, body, _sign(body).upper().replace("SHA256=", "sha256="))).status_code == 200
    assert _status_of(sent_code) == ("delivered", "")


async def test_every_post_is_refused_without_an_app_secret(sent_code):
    body = _payload(_status("wamid.SENT1", "delivered"))
    with settings_env(PANEL_ENV="production", PANEL_WHATSAPP_VERIFY_TOKEN=VERIFY_TOKEN):
        async with _client() as client:
            for signature in (_sign(body, ""), _sign(body), None):
                assert (await _post(client, body, signature)).status_code == 403
    assert _status_of(sent_code) == ("sent", "")


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"[1, 2]", b""])
async def test_malformed_json_is_a_plain_400(client, body):
    response = await _post(client, body)
    assert (response.status_code, response.text) == (400, "Bad request")
    assert "Traceback" not in response.text


async def test_oversized_body_is_refused_before_anything_else(client, sent_code):
    body = _payload(_status("wamid.SENT1", "delivered"), {"padding": "x" * MAX_BODY_BYTES})
    response = await _post(client, body)
    assert response.status_code == 413
    assert _status_of(sent_code) == ("sent", "")


async def test_oversized_chunked_body_is_refused(client):
    async def chunks():
        for _ in range(5):
            yield b"x" * (MAX_BODY_BYTES // 4)

    response = await client.post(WEBHOOK_PATH, content=chunks(), headers={"X-Hub-Signature-256": "sha256=00"})
    assert response.status_code == 413


async def test_storage_failure_is_a_plain_500(client, sent_code, monkeypatch):
    import panel_app.api.webhooks as webhooks

    def broken(*_args, **_kwargs):
        raise RuntimeError("database is gone")

    monkeypatch.setattr(webhooks, "apply_status_update", broken)
    response = await _post(client, _payload(_status("wamid.SENT1", "delivered")))
    assert (response.status_code, response.text) == (500, "Error")
    assert "database is gone" not in response.text
