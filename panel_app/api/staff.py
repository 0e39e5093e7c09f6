"""Plain HTTP routes of the staff console: sign-in, sign-out and the first password.

Like the customers' (api/session.py): HTML form posts, so the ``panel_staff`` cookie is
HttpOnly and SameSite=Strict and no script sees it. The cookie is scoped to the whole
site but only the staff guard reads it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from panel_app.api.session import MAX_FORM_BYTES, _client, _frontend_url, _param_from_referer, _same_origin
from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.security import staff
from panel_app.services.validation import ValidationError
from panel_app.settings import get_settings


def _to(path: str, **params: str) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v})
    response = RedirectResponse(_frontend_url(path + (f"?{query}" if query else "")), status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


async def _form(request: Request):
    length = request.headers.get("content-length")
    if length is None or not length.isdigit() or int(length) > MAX_FORM_BYTES:
        return None
    return await request.form(max_files=0, max_fields=5, max_part_size=MAX_FORM_BYTES)


async def staff_login(request: Request) -> Response:
    if not _same_origin(request):
        return PlainTextResponse("Cross-site request refused.", status_code=403)
    form = await _form(request)
    if form is None:
        return _to("/staff/login", error="invalid")
    ip, user_agent = _client(request)

    def _work():
        with transaction() as db:
            return staff.login(db, email=form.get("email"), password=form.get("password"), ip=ip,
                               user_agent=user_agent, now=utcnow())

    result = await run_in_threadpool(_work)
    if not result.ok:
        return _to("/staff/login", error="throttled" if result.retry_after_seconds else "invalid",
                   wait=str(result.retry_after_seconds or ""))
    response = _to("/staff/tickets")
    response.set_cookie(staff.COOKIE_NAME, result.token, max_age=int(staff.SESSION_ABSOLUTE.total_seconds()),
                        path="/", httponly=True, samesite="strict", secure=get_settings().cookie_secure)
    return response


async def staff_logout(request: Request) -> Response:
    if not _same_origin(request):
        return PlainTextResponse("Cross-site request refused.", status_code=403)
    token = request.cookies.get(staff.COOKIE_NAME)

    def _work():
        with transaction() as db:
            staff.logout(db, token, now=utcnow())

    await run_in_threadpool(_work)
    response = _to("/staff/login", signed_out="1")
    response.delete_cookie(staff.COOKIE_NAME, path="/", httponly=True, samesite="strict",
                           secure=get_settings().cookie_secure)
    return response


async def staff_setup(request: Request) -> Response:
    """The one-time link from ``create-staff``: choose the first password."""
    if not _same_origin(request):
        return PlainTextResponse("Cross-site request refused.", status_code=403)
    form = await _form(request)
    if form is None:
        return _to("/staff/login", error="invalid")
    # The token stays out of the page's state: the form posts from /staff/setup?token=...
    token = form.get("token") or _param_from_referer(request, "token")

    def _work():
        with transaction() as db:
            try:
                return "ok" if staff.setup_account(db, token, form.get("password"), now=utcnow()) else "link"
            except ValidationError as exc:
                return exc.message_key

    outcome = await run_in_threadpool(_work)
    if outcome == "ok":
        return _to("/staff/login", ready="1")
    if outcome == "link":
        return _to("/staff/login", error="link")
    return _to("/staff/setup", token=token if isinstance(token, str) and len(token) < 100 else "", error=outcome)


routes = [
    Route("/api/staff/login", staff_login, methods=["POST"]),
    Route("/api/staff/logout", staff_logout, methods=["POST"]),
    Route("/api/staff/setup", staff_setup, methods=["POST"]),
]
