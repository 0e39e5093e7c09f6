"""Plain HTTP routes that own the session cookie.

Login and logout are ordinary HTML form posts, so the cookie can be HttpOnly and
SameSite=Strict and no JavaScript ever sees it. The Reflex states read the
cookie from the websocket's request headers and resolve it on every event.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.security.sessions import COOKIE_NAME, safe_next_path
from panel_app.services import auth
from panel_app.services.notifications import notify_new_sign_in
from panel_app.tasks import spawn
from panel_app.settings import get_settings

MAX_FORM_BYTES = 16 * 1024


def _frontend_url(path: str) -> str:
    """Relative by default (frontend and backend share one origin in production);
    absolute when PANEL_FRONTEND_URL says the pages are served elsewhere (make dev)."""
    return get_settings().frontend_url + path


def _same_origin(request: Request) -> bool:
    """Refuse cross-site form posts (login CSRF); browsers send Origin on POST."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    allowed = {get_settings().public_url, f"{request.url.scheme}://{request.url.netloc}"}
    return origin.rstrip("/") in allowed


def _next_from_referer(request: Request) -> str | None:
    """The ``next`` of the login page the form came from: a form submitted before the
    page finished loading has no ``next`` field value yet."""
    referer = request.headers.get("referer", "")
    parts = urlsplit(referer)
    if not referer or f"{parts.scheme}://{parts.netloc}" != f"{request.url.scheme}://{request.url.netloc}":
        return None
    values = parse_qs(parts.query).get("next")
    return values[0] if values else None


def _client(request: Request) -> tuple[str, str]:
    ip = request.client.host if request.client else ""
    return ip, request.headers.get("user-agent", "")[:300]


def _to_login(**params: str) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v})
    return RedirectResponse(_frontend_url("/login" + (f"?{query}" if query else "")), status_code=303)


async def login(request: Request) -> Response:
    if not _same_origin(request):
        return PlainTextResponse("Cross-site request refused.", status_code=403)
    length = request.headers.get("content-length")
    if length is None or not length.isdigit() or int(length) > MAX_FORM_BYTES:
        return _to_login(error="invalid")
    form = await request.form(max_files=0, max_fields=5, max_part_size=MAX_FORM_BYTES)
    next_path = safe_next_path(form.get("next") or _next_from_referer(request) or "/dashboard")
    ip, user_agent = _client(request)
    settings = get_settings()
    previous_token = request.cookies.get(COOKIE_NAME)

    def _work():
        with transaction() as db:
            result = auth.login(db, email=form.get("email"), password=form.get("password"), ip=ip,
                                user_agent=user_agent, now=utcnow(),
                                absolute_seconds=settings.session_absolute_seconds)
            if result.outcome is auth.LoginOutcome.OK and previous_token:
                # Signing in again replaces the session this browser had: no orphan keeps
                # other tabs acting as the previous user.
                auth.logout(db, previous_token, now=utcnow(), ip=ip, user_agent=user_agent)
            return result

    result = await run_in_threadpool(_work)
    if result.outcome is auth.LoginOutcome.THROTTLED:
        return _to_login(error="throttled", wait=str(result.retry_after_seconds),
                         next=next_path if next_path != "/dashboard" else "")
    if result.outcome is not auth.LoginOutcome.OK:
        return _to_login(error="invalid", next=next_path if next_path != "/dashboard" else "")
    if result.new_browser:
        spawn(notify_new_sign_in(result.user_id, ip=ip, user_agent=user_agent))
    response = RedirectResponse(_frontend_url(next_path), status_code=303)
    response.set_cookie(
        COOKIE_NAME, result.token, max_age=settings.session_absolute_seconds, path="/",
        httponly=True, samesite="strict", secure=settings.cookie_secure,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def logout(request: Request) -> Response:
    if not _same_origin(request):
        return PlainTextResponse("Cross-site request refused.", status_code=403)
    token = request.cookies.get(COOKIE_NAME)
    ip, user_agent = _client(request)

    def _work():
        with transaction() as db:
            auth.logout(db, token, now=utcnow(), ip=ip, user_agent=user_agent)

    await run_in_threadpool(_work)
    response = _to_login(signed_out="1")
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict",
                           secure=get_settings().cookie_secure)
    return response


async def health(_request: Request) -> Response:
    return PlainTextResponse("ok")


routes = [
    Route("/api/session/login", login, methods=["POST"]),
    Route("/api/session/logout", logout, methods=["POST"]),
    Route("/api/health", health, methods=["GET"]),
]
