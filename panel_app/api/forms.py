"""The route a Reflex form posts to when it is submitted before its page is hydrated.

Every Reflex form of the panel (components/forms.py) is ``method="post"`` with this route
as its ``action``, so a submit the browser makes by itself (Enter pressed before the page's
JavaScript runs) never puts the fields in an address. The route answers without reading
the body (nothing of it is parsed, logged or echoed) and sends the browser back, by a 303,
to the page the form is on, which then loads and works.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from panel_app.api.paths import FORM_NOT_LOADED_ROUTE
from panel_app.api.session import _frontend_url, _same_origin
from panel_app.settings import get_settings

FALLBACK_PATH = "/"
MAX_PATH_LENGTH = 2000


def _site_origins() -> set[str]:
    """Where the panel's pages are served from: the configured address (and, under
    ``make dev``, the frontend's own)."""
    settings = get_settings()
    return {url.rstrip("/") for url in (settings.public_url, settings.frontend_url) if url}


def page_path_from_referer(referer: str | None) -> str:
    """The path (and query) of the panel's page in ``referer``; ``FALLBACK_PATH`` for an
    address of another site, a malformed one or none."""
    if not referer:
        return FALLBACK_PATH
    try:
        parts = urlsplit(referer)
    except ValueError:
        return FALLBACK_PATH
    if f"{parts.scheme}://{parts.netloc}" not in _site_origins():
        return FALLBACK_PATH
    path = urlunsplit(("", "", parts.path, parts.query, ""))
    if (not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > MAX_PATH_LENGTH
            or any(ord(c) < 33 or ord(c) == 127 for c in path) or path.startswith("/api/")):
        return FALLBACK_PATH
    return path


async def form_not_loaded(request: Request) -> Response:
    if not _same_origin(request):
        return PlainTextResponse("Cross-site request refused.", status_code=403)
    path = page_path_from_referer(request.headers.get("referer"))
    response = RedirectResponse(_frontend_url(path), status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


routes = [Route(FORM_NOT_LOADED_ROUTE, form_not_loaded, methods=["POST"])]
