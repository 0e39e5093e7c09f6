"""WhatsApp Cloud API webhook: subscription check (GET) and status callbacks (POST).

- GET answers ``hub.challenge`` only when ``hub.mode`` is ``subscribe`` and
  ``hub.verify_token`` equals ``PANEL_WHATSAPP_VERIFY_TOKEN``.
- POST is accepted only with a valid ``X-Hub-Signature-256`` (``sha256=`` + hex
  HMAC-SHA256 of the raw body, keyed with ``PANEL_WHATSAPP_APP_SECRET``). Without a
  configured app secret every POST is refused: an unsigned callback could mark any
  code as delivered.

Only ``entry[].changes[].value.statuses[]`` is read; each status moves the matching
verification code forward in one transaction. Errors answer a short text, never a
stack trace.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from panel_app.db import transaction
from panel_app.delivery.status import apply_status_update, sessions_waiting_for
from panel_app.settings import get_settings
from panel_app.state import push
from panel_app.state.stepup import StepUpState

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/api/webhooks/whatsapp"
MAX_BODY_BYTES = 256 * 1024
SIGNATURE_HEADER = "x-hub-signature-256"
_MAX_CHALLENGE_LENGTH = 256


@dataclass(frozen=True)
class StatusUpdate:
    provider_message_id: str
    status: str
    error_code: str | None = None


def _text(status_code: int, text: str) -> Response:
    return PlainTextResponse(text, status_code=status_code, headers={"Cache-Control": "no-store"})


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def expected_signature(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def parse_status_updates(payload: object) -> list[StatusUpdate]:
    """The status callbacks in a webhook payload; anything of another shape is skipped."""
    updates: list[StatusUpdate] = []
    entries = payload.get("entry") if isinstance(payload, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            statuses = value.get("statuses") if isinstance(value, dict) else None
            for status in statuses if isinstance(statuses, list) else []:
                if not isinstance(status, dict):
                    continue
                message_id, state = status.get("id"), status.get("status")
                if not (isinstance(message_id, str) and message_id and isinstance(state, str)):
                    continue
                error_code = None
                errors = status.get("errors")
                if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                    code = errors[0].get("code")
                    if isinstance(code, (int, str)) and not isinstance(code, bool):
                        error_code = str(code)[:40]
                updates.append(StatusUpdate(message_id[:200], state.lower()[:20], error_code))
    return updates


def _apply_updates(updates: list[StatusUpdate]) -> tuple[int, list[int]]:
    """Store the statuses; returns how many changed and the login sessions to tell."""
    with transaction() as db:
        changed = [update for update in updates
                   if apply_status_update(db, update.provider_message_id, update.status, update.error_code)]
        return len(changed), sessions_waiting_for(db, [update.provider_message_id for update in changed])


async def _read_limited_body(request: Request) -> bytes | None:
    """The raw body, or ``None`` when it is larger than ``MAX_BODY_BYTES``."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > MAX_BODY_BYTES:
                return None
        except ValueError:
            return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def verify_subscription(request: Request) -> Response:
    settings = get_settings()
    params = request.query_params
    mode = params.get("hub.mode")
    token = params.get("hub.verify_token")
    challenge = params.get("hub.challenge")
    expected = settings.whatsapp_verify_token
    if not expected or mode != "subscribe" or token is None or not _same(token, expected):
        log.warning("whatsapp webhook verification refused")
        return _text(403, "Forbidden")
    if not challenge or len(challenge) > _MAX_CHALLENGE_LENGTH:
        return _text(400, "Bad request")
    return _text(200, challenge)


async def receive_events(request: Request) -> Response:
    settings = get_settings()
    app_secret = settings.whatsapp_app_secret
    if not app_secret:
        log.warning("whatsapp webhook refused: PANEL_WHATSAPP_APP_SECRET is not set")
        return _text(403, "Forbidden")
    try:
        body = await _read_limited_body(request)
    except ClientDisconnect:
        return _text(400, "Bad request")
    if body is None:
        return _text(413, "Payload too large")
    signature = (request.headers.get(SIGNATURE_HEADER) or "").strip().lower()
    if not signature or not _same(signature, expected_signature(body, app_secret)):
        log.warning("whatsapp webhook refused: missing or invalid signature")
        return _text(403, "Forbidden")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _text(400, "Bad request")
    if not isinstance(payload, dict):
        return _text(400, "Bad request")
    updates = parse_status_updates(payload)
    if updates:
        try:
            changed, waiting = await run_in_threadpool(_apply_updates, updates)
        except Exception:  # the provider retries on non-200; the log keeps the reason
            log.exception("whatsapp webhook: storing %d status update(s) failed", len(updates))
            return _text(500, "Error")
        log.info("whatsapp webhook: %d status update(s), %d applied", len(updates), changed)
        for login_session_id in waiting:  # the gates showing these codes update without asking
            await push.refresh_tabs_of_session(login_session_id, StepUpState.poll)
    return _text(200, "OK")


async def whatsapp_webhook(request: Request) -> Response:
    if request.method == "POST":
        return await receive_events(request)
    return await verify_subscription(request)


routes: list[Route] = [Route(WEBHOOK_PATH, whatsapp_webhook, methods=["GET", "POST"])]
