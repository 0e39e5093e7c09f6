"""Signing in with a passkey: two JSON routes beside the login form (``api/session.py``).

``/api/passkey/login/options`` makes authentication options (a single-use challenge bound to
a short-lived HttpOnly pre-login cookie of this browser, ``panel_pk``) and
``/api/passkey/login/verify`` checks the browser's answer against them and, when it holds,
sets the session cookie exactly as the password login does. Both refuse a request that does
not come from the panel's own origin first (a foreign page must neither fetch options nor
sign someone in), read bounded bodies, and answer ``Cache-Control: no-store``. Failures
answer ``{"error": <i18n key>}`` (``passkey.error.*``), which the login page shows.

A challenge row per options request: bounded per client IP and window
(``POLICY.passkey_options_per_ip``); expired ones are deleted by the push loop
(``state/push.py``).
"""

from __future__ import annotations

import json
import secrets

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from panel_app.api.paths import DEVICE_ROUTE, backend_path
from panel_app.api.session import _client, _same_origin
from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.security import devices, throttle
from panel_app.security.policy import POLICY
from panel_app.security.sessions import COOKIE_NAME, safe_next_path
from panel_app.services import auth, passkeys
from panel_app.services.demo import effective_ttl_seconds
from panel_app.services.notifications import notify_everywhere, notify_new_sign_in
from panel_app.settings import get_settings
from panel_app.tasks import spawn

OPTIONS_PATH = "/api/passkey/login/options"
VERIFY_PATH = "/api/passkey/login/verify"
PRELOGIN_COOKIE = "panel_pk"
PRELOGIN_COOKIE_PATH = "/api/passkey/login"  # sent to these two routes only
PRELOGIN_SECONDS = 5 * 60
_PRELOGIN_LENGTH = 43  # secrets.token_urlsafe(32)
MAX_OPTIONS_BODY = 1024
MAX_VERIFY_BODY = passkeys.MAX_RESPONSE_CHARS + 4096  # the response, "next" and the JSON around them
MAX_NEXT_LENGTH = 2000

ERROR_CROSS_SITE = "passkey.error.not_allowed"


def _error(key: str, status: int = 400, retry_after: int = 0) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse({"error": key}, status_code=status, headers=headers)


def _prelogin_key(request: Request) -> str | None:
    """This browser's pre-login cookie if it is one the panel could have set."""
    value = request.cookies.get(PRELOGIN_COOKIE)
    if (isinstance(value, str) and len(value) == _PRELOGIN_LENGTH and value.isascii()
            and all(c.isalnum() or c in "-_" for c in value)):
        return value
    return None


async def _bounded_body(request: Request, limit: int) -> bytes | None:
    """The request body if it says its length and stays within ``limit``; else None (and
    no more is read)."""
    length = request.headers.get("content-length")
    if length is None or not length.isascii() or not length.isdigit() or int(length) > limit:
        return None
    body = bytearray()
    try:
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > limit:
                return None
    except ClientDisconnect:
        return None
    return bytes(body)


def _verify_payload(body: bytes | None) -> tuple[dict, str] | None:
    """(response object, next path) of a well-formed verify body, else None."""
    if not body:
        return None
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep
        return None
    if not isinstance(payload, dict) or not set(payload) <= {"response", "next"}:
        return None
    response, next_path = payload.get("response"), payload.get("next", "")
    if next_path is None:
        next_path = ""
    if not isinstance(response, dict) or not isinstance(next_path, str) or len(next_path) > MAX_NEXT_LENGTH:
        return None
    return response, next_path


async def login_options(request: Request) -> Response:
    if not _same_origin(request):
        return _error(ERROR_CROSS_SITE, 403)
    if await _bounded_body(request, MAX_OPTIONS_BODY) is None:
        return _error(passkeys.ERROR_MALFORMED)
    ip, _user_agent = _client(request)
    binding_key = _prelogin_key(request) or secrets.token_urlsafe(32)

    def _work() -> tuple[str | None, int]:
        now = utcnow()
        with transaction() as db:
            wait = throttle.reserve_in_window(db, f"passkey:options:ip:{ip[:64]}", POLICY.passkey_options_per_ip,
                                              POLICY.passkey_options_window_seconds, now)
            if wait:
                return None, wait
            return passkeys.authentication_options(db, purpose=passkeys.PURPOSE_LOGIN,
                                                   binding=passkeys.Binding(binding_key=binding_key), now=now), 0

    options, wait = await run_in_threadpool(_work)
    if options is None:
        return _error(auth.ERROR_PASSKEY_THROTTLED, 429, retry_after=wait)
    response = Response(options, media_type="application/json", headers={"Cache-Control": "no-store"})
    response.set_cookie(PRELOGIN_COOKIE, binding_key, max_age=PRELOGIN_SECONDS, path=PRELOGIN_COOKIE_PATH,
                        httponly=True, samesite="strict", secure=get_settings().cookie_secure)
    return response


async def login_verify(request: Request) -> Response:
    if not _same_origin(request):
        return _error(ERROR_CROSS_SITE, 403)
    found = _verify_payload(await _bounded_body(request, MAX_VERIFY_BODY))
    if found is None:
        return _error(passkeys.ERROR_MALFORMED)
    answer, next_path = found
    binding_key = _prelogin_key(request)
    if binding_key is None:  # no options were asked for from this browser (or long ago)
        return _error(passkeys.ERROR_EXPIRED)
    ip, user_agent = _client(request)
    settings = get_settings()
    previous_token = request.cookies.get(COOKIE_NAME)
    device_token = request.cookies.get(devices.COOKIE_NAME)

    def _work() -> auth.PasskeyLoginResult:
        with transaction() as db:
            result = auth.sign_in_with_passkey(
                db, binding_key=binding_key, response=answer, ip=ip, user_agent=user_agent, now=utcnow(),
                absolute_seconds=settings.session_absolute_seconds, device_token=device_token,
                ttl_seconds=effective_ttl_seconds(db))
            if result.ok and previous_token:
                # Signing in again replaces the session this browser had (as api/session.login).
                auth.logout(db, previous_token, now=utcnow(), ip=ip, user_agent=user_agent)
            return result

    try:
        result = await run_in_threadpool(_work)
    except RecursionError:  # a response nested too deep for the checks: malformed
        return _error(passkeys.ERROR_MALFORMED)
    if result.alert and result.user_id is not None:
        spawn(notify_everywhere(result.user_id, result.alert))
    if not result.ok:
        return _error(result.error_key or passkeys.ERROR_MALFORMED, result.status, result.retry_after_seconds)
    if result.new_browser:
        spawn(notify_new_sign_in(result.user_id, ip=ip, user_agent=user_agent))
    answer = {"redirect": safe_next_path(next_path or "/dashboard")}
    if not result.known_device:  # as after a verification: the page asks for its known-device cookie
        answer["device"] = backend_path(DEVICE_ROUTE)
    response = JSONResponse(answer, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        COOKIE_NAME, result.token, max_age=settings.session_absolute_seconds, path="/",
        httponly=True, samesite="strict", secure=settings.cookie_secure,
    )
    response.delete_cookie(PRELOGIN_COOKIE, path=PRELOGIN_COOKIE_PATH, httponly=True, samesite="strict",
                           secure=settings.cookie_secure)
    return response


routes = [
    Route(OPTIONS_PATH, login_options, methods=["POST"]),
    Route(VERIFY_PATH, login_verify, methods=["POST"]),
]
