"""Plain HTTP routes that own the session cookie.

Login and logout are ordinary HTML form posts, so the cookie can be HttpOnly and
SameSite=Strict and no JavaScript ever sees it. The Reflex states read the
cookie from the websocket's request headers and resolve it on every event.
"""

from __future__ import annotations

from functools import partial
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.api.paths import DEVICE_ROUTE
from panel_app.security import devices, sessions
from panel_app.security.sessions import COOKIE_NAME, safe_next_path
from panel_app.services import auth, password_reset
from panel_app.services.audit import Actor, record
from panel_app.security.permissions import Area
from panel_app.services.notifications import notify_everywhere, notify_new_sign_in, send_reset_link
from panel_app.services.user_agents import describe_user_agent
from panel_app.tasks import spawn
from panel_app.settings import get_settings

MAX_FORM_BYTES = 16 * 1024


def _frontend_url(path: str) -> str:
    """Relative by default (frontend and backend share one origin in production);
    absolute when PANEL_FRONTEND_URL says the pages are served elsewhere (make dev)."""
    return get_settings().frontend_url + path


def _same_origin(request: Request) -> bool:
    """Refuse cross-site and unattributed form posts (login CSRF and the like). Every
    state-changing route asks this first. Browsers send ``Origin`` on every POST; a request
    without it passes only when the browser itself vouches for it (``Sec-Fetch-Site:
    same-origin``). ``Origin: null`` (sandboxed frames, some redirects) never passes."""
    origin = request.headers.get("origin")
    if origin is None:
        return request.headers.get("sec-fetch-site") == "same-origin"
    # Only the configured address: the request's own Host is the client's to choose (a page
    # on a rebinding domain would name itself in both).
    return origin.rstrip("/") == get_settings().public_url


def _param_from_referer(request: Request, name: str) -> str | None:
    """A query parameter of the (same-origin) page the form came from."""
    referer = request.headers.get("referer", "")
    parts = urlsplit(referer)
    if not referer or f"{parts.scheme}://{parts.netloc}" != f"{request.url.scheme}://{request.url.netloc}":
        return None
    values = parse_qs(parts.query).get(name)
    return values[0] if values else None


def _next_from_referer(request: Request) -> str | None:
    """The ``next`` of the login page the form came from: a form submitted before the
    page finished loading has no ``next`` field value yet."""
    return _param_from_referer(request, "next")


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
    device_token = request.cookies.get(devices.COOKIE_NAME)

    def _work():
        with transaction() as db:
            result = auth.login(db, email=form.get("email"), password=form.get("password"), ip=ip,
                                user_agent=user_agent, now=utcnow(),
                                absolute_seconds=settings.session_absolute_seconds, device_token=device_token)
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


# A device is remembered only right after the step-up that earned it.
DEVICE_AFTER_GRANT_SECONDS = 120


async def remember_device(request: Request) -> Response:
    """Called by the page right after a successful step-up: this browser becomes (or
    stays) a known device of the user, with its own budgets. Needs the session cookie
    and a grant started moments ago; answers 204 either way and shows nothing."""
    if not _same_origin(request):
        return PlainTextResponse("Cross-site request refused.", status_code=403)
    token = request.cookies.get(COOKIE_NAME)
    device_token = request.cookies.get(devices.COOKIE_NAME)
    ip, user_agent = _client(request)
    settings = get_settings()

    def _work() -> str | None:
        now = utcnow()
        with transaction() as db:
            resolved = sessions.resolve_session(db, token, now=now, idle_seconds=settings.session_idle_seconds,
                                                touch=False)
            if resolved is None:
                return None
            row, user = resolved.login_session, resolved.user
            if (not sessions.grant_is_valid(row, now) or row.grant_verified_at is None
                    or (now - row.grant_verified_at).total_seconds() > DEVICE_AFTER_GRANT_SECONDS):
                return None
            known = devices.find(db, device_token, user_id=user.id)
            if known is not None:
                row.device_id = known.id
                db.add(row)
                devices.touch(db, known, now=now, ip=ip)
                return None
            if row.device_id is not None:
                return None
            made = devices.remember(db, row, user_agent=user_agent, ip=ip, now=now)
            record(db, Actor.for_user(user, ip=ip, user_agent=user_agent, session_id=row.id), Area.AUTH,
                   "device_remembered" if made else "device_limit_reached", now=now)
            return (user.id, made[1]) if made else None

    found = await run_in_threadpool(_work)
    new_token = found[1] if found else None
    if found:  # on every channel: a browser the owner does not know is worth a look
        spawn(notify_everywhere(found[0], "device_remembered", browser=partial(describe_user_agent, user_agent),
                                ip=ip or "?"))
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    if new_token:
        response.set_cookie(devices.COOKIE_NAME, new_token, max_age=devices.LIFETIME_SECONDS, path="/",
                            httponly=True, samesite="strict", secure=settings.cookie_secure)
    return response


async def forgot_password(request: Request) -> Response:
    """"Forgot password?": the same answer whether or not the address exists; the link
    is mailed in the background (no timing difference either)."""
    if not _same_origin(request):
        return PlainTextResponse("Cross-site request refused.", status_code=403)
    length = request.headers.get("content-length")
    if length is None or not length.isdigit() or int(length) > MAX_FORM_BYTES:
        return RedirectResponse(_frontend_url("/forgot"), status_code=303)
    form = await request.form(max_files=0, max_fields=3, max_part_size=MAX_FORM_BYTES)
    ip, _user_agent = _client(request)

    def _work():
        with transaction() as db:
            return password_reset.request_link(db, email=form.get("email"), ip=ip, now=utcnow())

    found = await run_in_threadpool(_work)
    if found is not None:
        spawn(send_reset_link(found[0], found[1]))
    response = RedirectResponse(_frontend_url("/forgot?sent=1"), status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


routes = [
    Route("/api/session/login", login, methods=["POST"]),
    Route("/api/session/logout", logout, methods=["POST"]),
    Route(DEVICE_ROUTE, remember_device, methods=["POST"]),
    Route("/api/session/forgot", forgot_password, methods=["POST"]),
]
