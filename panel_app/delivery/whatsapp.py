"""Codes via the WhatsApp Cloud API (httpx).

One request per code: ``POST {api_base}/{phone_number_id}/messages`` with a Bearer
token, sending the approved *authentication* template ``settings.whatsapp_template``
in the user's language. Authentication templates with a copy-code button take the
code twice: as the body parameter and as the parameter of the button (which Meta
creates as type ``otp`` and stores as a ``url`` button, index 0).

Graph API errors arrive as ``{"error": {"message", "type", "code", "error_data",
"fbtrace_id"}}``; we act on ``code`` only, as Meta recommends. The token and the code
are never logged (httpx logs the URL, which holds neither).
"""

from __future__ import annotations

import logging

import httpx

from panel_app.delivery.base import (
    CHANNEL_WHATSAPP,
    ERROR_BAD_RESPONSE,
    ERROR_NOT_CONFIGURED,
    ERROR_TIMEOUT,
    ERROR_UNREACHABLE,
    CodeMessage,
    DeliveryResult,
    mask_destination,
)
from panel_app.settings import Settings

log = logging.getLogger(__name__)

WHATSAPP_TIMEOUT_SECONDS = 10.0
TRANSPORT = "cloud"
# Template languages as registered with Meta for our two UI languages.
TEMPLATE_LANGUAGES = {"en": "en", "de": "de"}


def build_template_payload(message: CodeMessage, template_name: str) -> dict:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.destination,
        "type": "template",
        "template": {
            "name": template_name,
            "language": {"code": TEMPLATE_LANGUAGES.get(message.language, "en")},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": message.code}]},
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": "0",
                    "parameters": [{"type": "text", "text": message.code}],
                },
            ],
        },
    }


def messages_url(settings: Settings) -> str:
    return f"{settings.whatsapp_api_base}/{settings.whatsapp_phone_number_id}/messages"


def _graph_error_code(response: httpx.Response) -> str:
    """Meta's numeric error code as a string, or ``http_<status>`` when there is none."""
    try:
        error = response.json().get("error")
        code = error.get("code") if isinstance(error, dict) else None
    except (ValueError, AttributeError):
        code = None
    if isinstance(code, (int, str)) and str(code).strip().isdigit():
        return str(code).strip()
    return f"http_{response.status_code}"


def build_notice_payload(to: str, language: str, text: str, template_name: str) -> dict:
    """A security notice: an approved *utility* template whose body is one text parameter."""
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "template": {
            "name": template_name,
            "language": {"code": TEMPLATE_LANGUAGES.get(language, "en")},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": text[:1000]}]}],
        },
    }


async def send_code(settings: Settings, message: CodeMessage) -> DeliveryResult:
    """Send the code template; every failure becomes a ``failed`` result, never an exception."""
    return await _post(settings, build_template_payload(message, settings.whatsapp_template),
                       mask_destination(CHANNEL_WHATSAPP, message.destination, for_log=True), "code")


async def send_notice(settings: Settings, to: str, language: str, text: str) -> DeliveryResult:
    """Send a security notice (``settings.whatsapp_notice_template``); never raises."""
    return await _post(settings, build_notice_payload(to, language, text, settings.whatsapp_notice_template),
                       mask_destination(CHANNEL_WHATSAPP, to, for_log=True), "notice")


async def _post(settings: Settings, payload: dict, masked: str, what: str) -> DeliveryResult:
    if not (settings.whatsapp_token and settings.whatsapp_phone_number_id):
        return DeliveryResult.failed(CHANNEL_WHATSAPP, ERROR_NOT_CONFIGURED, TRANSPORT)
    headers = {"Authorization": f"Bearer {settings.whatsapp_token}", "Content-Type": "application/json"}
    try:
        async with httpx.AsyncClient(timeout=WHATSAPP_TIMEOUT_SECONDS, follow_redirects=False) as client:
            response = await client.post(messages_url(settings), json=payload, headers=headers)
    except httpx.TimeoutException:
        log.warning("whatsapp %s to %s not sent: timeout", what, masked)
        return DeliveryResult.failed(CHANNEL_WHATSAPP, ERROR_TIMEOUT, TRANSPORT)
    except httpx.HTTPError as exc:
        log.warning("whatsapp %s to %s not sent: %s", what, masked, type(exc).__name__)
        return DeliveryResult.failed(CHANNEL_WHATSAPP, ERROR_UNREACHABLE, TRANSPORT)

    if response.is_success:
        try:
            message_id = response.json()["messages"][0]["id"]
        except (ValueError, KeyError, IndexError, TypeError):
            message_id = None
        if not isinstance(message_id, str) or not message_id:
            log.warning("whatsapp %s to %s: success without a message id (HTTP %s)", what, masked,
                        response.status_code)
            return DeliveryResult.failed(CHANNEL_WHATSAPP, ERROR_BAD_RESPONSE, TRANSPORT)
        return DeliveryResult.sent(message_id[:200], TRANSPORT)

    error_code = _graph_error_code(response)
    log.warning("whatsapp %s to %s not sent: HTTP %s, error %s", what, masked, response.status_code, error_code)
    return DeliveryResult.failed(CHANNEL_WHATSAPP, error_code, TRANSPORT)
