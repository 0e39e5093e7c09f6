"""Production hardening around the whole backend app: security headers on every HTTP
response, and the health and readiness routes for the load balancer.

Content-Security-Policy, as strict as the compiled Reflex frontend allows (measured on
the build, see docs/deploy.md):

* ``script-src 'self'`` plus the SHA-256 of every inline ``<script>`` of the built pages
  (React Router's hydration data, the colour-mode script), computed from the build at
  start, and ``'unsafe-eval'``: Reflex runs ``rx.call_script`` (the panel's one-time
  reveals, the device-cookie request) and dynamic imports through ``eval``.
* ``style-src 'self' 'unsafe-inline'``: Radix Themes and Emotion set inline styles.
* ``img-src 'self' data:`` (the authenticator QR code is a data URI), ``connect-src
  'self'`` plus the websocket origin, ``font-src 'self'``, ``object-src 'none'``,
  ``base-uri 'none'``, ``form-action 'self'``, ``frame-ancestors 'none'``.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from pathlib import Path

from starlette.datastructures import MutableHeaders

from panel_app.asgi import on_response_start

_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL)


def inline_script_hashes(build_dir: Path) -> list[str]:
    """'sha256-…' of every inline script in the built HTML pages."""
    found: set[str] = set()
    for page in sorted(build_dir.rglob("*.html")) if build_dir.is_dir() else []:
        for body in _INLINE_SCRIPT.findall(page.read_bytes()):
            found.add("'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'")
    return sorted(found)


def content_security_policy(public_url: str, script_hashes: list[str]) -> str:
    websocket = re.sub(r"^http", "ws", public_url.rstrip("/"))
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' 'unsafe-eval' " + " ".join(script_hashes),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        f"connect-src 'self' {websocket}",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]).replace("  ", " ")


@cache
def security_headers() -> tuple[tuple[str, str], ...]:
    from panel_app.settings import get_settings

    settings = get_settings()
    build = Path.cwd() / ".web" / "build" / "client"
    headers = [
        ("Content-Security-Policy", content_security_policy(settings.public_url, inline_script_hashes(build))),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        # A page's address (a reset, set-up or invitation token in it) never leaves the site;
        # the site's own form routes read it (api/session.py).
        ("Referrer-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]
    if settings.cookie_secure:  # served over TLS
        headers.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    return tuple(headers)


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP response (websockets untouched)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        await self.app(scope, receive, on_response_start(send, _add_security_headers))


def _add_security_headers(message) -> None:
    headers = MutableHeaders(scope=message)
    for name, value in security_headers():
        if name not in headers:
            headers[name] = value


# --- health and readiness -------------------------------------------------------------


def _check_database() -> str | None:
    from sqlalchemy import text

    from panel_app.db import get_engine

    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure makes the part unhealthy
        return type(exc).__name__
    return None


def _check_redis() -> str | None:
    from panel_app.settings import get_settings

    url = get_settings().redis_url
    if not url:
        return None
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001
        return type(exc).__name__
    return None


def _check_schema() -> str | None:
    """The database is at the migrations' head (migrate before start)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from panel_app.db import get_engine
    from panel_app.migrate import alembic_config

    try:
        with get_engine().connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except Exception as exc:  # noqa: BLE001
        return type(exc).__name__
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return None if current == head else f"at {current}, expected {head}"


def _answer(parts: dict[str, str | None]):
    from starlette.responses import JSONResponse

    failing = {name: problem for name, problem in parts.items() if problem}
    body = {"status": "fail" if failing else "ok",
            **{name: (problem or "ok") for name, problem in parts.items()}}
    return JSONResponse(body, status_code=503 if failing else 200, headers={"Cache-Control": "no-store"})


async def health(_request):
    """Liveness with its dependencies: the database and (when configured) Redis."""
    from starlette.concurrency import run_in_threadpool

    from panel_app.settings import get_settings

    database = await run_in_threadpool(_check_database)
    parts = {"database": database}
    if get_settings().redis_url:
        parts["redis"] = await run_in_threadpool(_check_redis)
    return _answer(parts)


async def ready(_request):
    """For the load balancer: send traffic only when the database answers at the expected
    schema and Redis (when configured) answers."""
    from starlette.concurrency import run_in_threadpool

    from panel_app.settings import get_settings

    parts = {"database": await run_in_threadpool(_check_database)}
    if not parts["database"]:
        parts["schema"] = await run_in_threadpool(_check_schema)
    if get_settings().redis_url:
        parts["redis"] = await run_in_threadpool(_check_redis)
    return _answer(parts)


def routes() -> list:
    from starlette.routing import Route

    return [Route("/api/health", health, methods=["GET"]), Route("/api/ready", ready, methods=["GET"])]


def client_address(app):
    """Behind a reverse proxy: take the client's address from ``X-Forwarded-For`` when the
    connection comes from one of ``PANEL_TRUSTED_PROXIES`` (addresses or networks, comma-
    separated; uvicorn's reviewed implementation). Every throttle per IP, the activity log and
    the demo's loopback check then see the real client, never the proxy. Unset: the peer."""
    from panel_app.settings import get_settings

    trusted = get_settings().trusted_proxies
    if not trusted:
        return app
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    return ProxyHeadersMiddleware(app, trusted_hosts=[h.strip() for h in trusted.split(",") if h.strip()])
