"""A local stand-in for the WhatsApp Cloud API ``/messages`` endpoint.

A small Starlette app served by uvicorn on 127.0.0.1 in a thread. It answers as Meta
documents it: on success ``{"messaging_product": "whatsapp", "contacts": [...],
"messages": [{"id": "wamid..."}]}``; on failure the Graph API error object
``{"error": {"message", "type", "code", "error_data", "fbtrace_id"}}`` with Meta's
HTTP status. Some errors arise from the request itself (a wrong Bearer token gives
190, an unknown template/language gives 132001, a malformed body gives 100); any
error can also be forced for the next request with ``fail_next``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

API_VERSION = "v21.0"

# code -> (HTTP status, message, details or None); texts follow Meta's error code reference.
META_ERRORS: dict[str, tuple[int, str, str | None]] = {
    "131026": (400, "(#131026) Message Undeliverable.",
               "Message Undeliverable: the recipient may not be a WhatsApp user or may need to "
               "update the app."),
    "100": (400, "(#100) Invalid parameter", "Parameter value is not valid"),
    "132001": (404, "(#132001) Template name does not exist in the translation", None),
    "130429": (400, "(#130429) Rate limit hit", "Cloud API message throughput has been reached."),
    "131056": (400, "(#131056) (Business Account, Consumer Account) pair rate limit hit",
               "Message failed to send because there were too many messages sent from this phone "
               "number to the same phone number in a short period of time."),
    "190": (401, "Error validating access token: Session has expired.", None),
}


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: bytes
    json: object


@dataclass
class FakeResponse:
    status: int
    body: dict | str


@dataclass
class FakeWhatsAppCloud:
    token: str = "test-access-token"
    phone_number_id: str = "109876543210"
    # (template name, language code) pairs that are "approved"
    templates: set[tuple[str, str]] = field(
        default_factory=lambda: {("panel_verification_code", "en"), ("panel_verification_code", "de")}
    )
    requests: list[RecordedRequest] = field(default_factory=list)
    responses: list[FakeResponse] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._forced: list[str] = []
        self._raw: list[tuple[int, str]] = []
        self._hang = False
        self._release: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.app = Starlette(routes=[Route("/{version}/{phone_number_id}/messages", self._messages,
                                           methods=["POST"])])
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None
        self.port = 0

    # --- control -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The value for ``PANEL_WHATSAPP_API_BASE``."""
        return f"http://127.0.0.1:{self.port}/{API_VERSION}"

    def fail_next(self, code: str) -> None:
        self._forced.append(code)

    def respond_raw_next(self, status: int, text: str) -> None:
        """Answer the next request with a non-Graph body (a proxy error page, say)."""
        self._raw.append((status, text))

    def hang(self, on: bool = True) -> None:
        """Accept requests but never answer (until released by ``reset``/``stop``)."""
        self._hang = on

    def reset(self) -> None:
        self.requests.clear()
        self.responses.clear()
        self._forced.clear()
        self._raw.clear()
        self._hang = False
        self._release_hung()

    def _release_hung(self) -> None:
        if self._loop is not None and self._release is not None:
            self._loop.call_soon_threadsafe(self._release.set)

    # --- the endpoint ------------------------------------------------------------------

    def _error(self, code: str) -> FakeResponse:
        status, message, details = META_ERRORS[code]
        error: dict = {
            "message": message,
            "type": "OAuthException",
            "code": int(code),
            "fbtrace_id": "A" + secrets.token_urlsafe(16),
        }
        if code == "190":
            error["error_subcode"] = 463
        if details is not None:
            error["error_data"] = {"messaging_product": "whatsapp", "details": details}
        return FakeResponse(status, {"error": error})

    def _decide(self, request: Request, payload: object, version: str, phone_number_id: str) -> FakeResponse:
        if self._raw:
            status, text = self._raw.pop(0)
            return FakeResponse(status, text)
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return self._error("190")
        if self._forced:
            return self._error(self._forced.pop(0))
        if version != API_VERSION or phone_number_id != self.phone_number_id:
            return self._error("100")
        if not isinstance(payload, dict) or payload.get("messaging_product") != "whatsapp":
            return self._error("100")
        template = payload.get("template")
        to = payload.get("to")
        if payload.get("type") != "template" or not isinstance(template, dict) or not isinstance(to, str):
            return self._error("100")
        language = (template.get("language") or {}).get("code")
        if (template.get("name"), language) not in self.templates:
            return self._error("132001")
        wa_id = to.lstrip("+")
        message_id = "wamid." + secrets.token_urlsafe(24)
        return FakeResponse(200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": wa_id}],
            "messages": [{"id": message_id, "message_status": "accepted"}],
        })

    async def _messages(self, request: Request) -> Response:
        body = await request.body()
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        self.requests.append(RecordedRequest(
            path=request.url.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            json=payload,
        ))
        if self._hang:
            self._release = asyncio.Event()
            await self._release.wait()
        response = self._decide(request, payload, request.path_params["version"],
                                request.path_params["phone_number_id"])
        self.responses.append(response)
        if isinstance(response.body, str):
            return Response(response.body, status_code=response.status, media_type="text/html")
        return JSONResponse(response.body, status_code=response.status)

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeWhatsAppCloud:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False)
        self.server = uvicorn.Server(config)

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self.server.serve(sockets=[sock]))

        self.thread = threading.Thread(target=run, name="fake-whatsapp-cloud", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:  # start-up only, not part of any test's timing
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("fake WhatsApp Cloud API did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._hang = False
        self._release_hung()
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)
