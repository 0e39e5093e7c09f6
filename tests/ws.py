"""Reflex's event protocol without a browser, shared by every test that speaks it.

In process: ``event`` builds the ``Event`` the tab check and Reflex's event processor
receive. Over the wire: ``RawClient`` is a socket.io client on a running server's event
socket (``/_event``), as any script could open one; ``login_token`` signs in over HTTP;
``run_async`` runs a scenario beside Playwright's loop.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Callable

import httpx
import socketio
from reflex_base.event import Event

from sqlmodel import Session, select

from panel_app.models import OutboxMessage
from panel_app.security import sessions
# Imported here, not where used: those helpers also run in threads of their own, where
# Reflex's state registration context is not set.
from panel_app.state.stepup import StepUpState

# Reflex's own events, by full name.
HYDRATE = "reflex___state____state.hydrate"
HYDRATE_AND_LOAD = "reflex___state____state.hydrate_and_load"
FRONTEND_EXCEPTION = ("reflex___state____state.reflex___state____frontend_event_exception_state"
                      ".handle_frontend_exception")
# In an answer: a page state that loaded (its data was sent).
LOADED = re.compile(r'"loaded_rx_state_"\s*:\s*true')


def handler_name(state_cls, handler: str) -> str:
    """The name a client calls ``state_cls.handler`` by."""
    return f"{state_cls.get_full_name()}.{handler}"


def router_data(pathname: str = "/dashboard", **extra) -> dict:
    """The router data a browser sends with an event on ``pathname``."""
    return {"pathname": pathname, "query": {}, "asPath": pathname, **extra}


def event(state_cls, handler: str, payload: dict | None = None, *, router: dict | None = None) -> Event:
    """An event for ``state_cls.handler``; ``router`` as the browser would send it ({} for
    one the server raised itself)."""
    return Event(name=handler_name(state_cls, handler), payload=payload or {},
                 router_data=router_data() if router is None else router)


def run_async(coroutine):
    """Run in a fresh thread: Playwright's sync API keeps a loop running on this one."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def login_token(base_url: str, email: str, password: str) -> str:
    """Sign in through the login form's endpoint; the session cookie's value."""
    response = httpx.post(base_url + "/api/session/login", data={"email": email, "password": password},
                          headers={"Origin": base_url}, follow_redirects=False, timeout=30)
    assert response.status_code == 303, response.text
    return response.cookies[sessions.COOKIE_NAME]


class RawClient:
    """A websocket client speaking Reflex's event protocol, no browser involved.

    ``token`` is the tab's client token (a fresh one unless given: pass a closed tab's to
    reconnect as it); ``origin`` the Origin header (the server's own unless given, e.g. a
    load balancer's public address)."""

    def __init__(self, base_url: str, cookie: str | None, *, origin: str | None = None,
                 token: str | None = None):
        self.base_url = base_url
        self.cookie = cookie
        self.origin = origin or base_url
        self.token = token or str(uuid.uuid4())
        self.sio = socketio.AsyncClient()
        self.received: list[str] = []
        self.sio.on("event", self._on_event, namespace="/_event")

    async def _on_event(self, data):
        self.received.append(data if isinstance(data, str) else json.dumps(data))

    async def connect(self, **options) -> None:
        headers = {"Cookie": f"{sessions.COOKIE_NAME}={self.cookie}"} if self.cookie else {}
        headers["Origin"] = self.origin
        await self.sio.connect(f"{self.base_url}?token={self.token}", socketio_path="/_event",
                               namespaces=["/_event"], headers=headers, transports=["websocket"], **options)

    async def __aenter__(self):
        await self.connect()
        return self

    async def __aexit__(self, *exc):
        await self.sio.disconnect()

    async def send(self, data) -> None:
        """Emit ``data`` as it is, well-formed or not; no waiting for an answer."""
        await self.sio.emit("event", data, namespace="/_event")

    async def call(self, full_name: str, payload: dict, pathname: str = "/dashboard") -> str:
        """Call a handler by its full name; every answer it caused, one per line."""
        start = len(self.received)
        await self.send({"name": full_name, "payload": payload, "router_data": router_data(pathname)})
        # Wait for the first answer (at most 3 s), then until 0.4 s pass without more.
        seen, quiet, waited = start, 0.0, 0.0
        while waited < 3.0 and (seen == start or quiet < 0.4):
            await asyncio.sleep(0.1)
            waited += 0.1
            quiet = 0.0 if len(self.received) != seen else quiet + 0.1
            seen = len(self.received)
        return "\n".join(self.received[start:])

    async def verify_with_app(self, code: str, pathname: str = "/profile") -> str:
        """The gate's steps for an authenticator code: prepare, choose the app, verify."""
        gate = StepUpState.get_full_name()
        await self.call(f"{gate}.prepare", {}, pathname)
        await self.call(f"{gate}.choose_method", {"method": "totp"}, pathname)
        return await self.call(f"{gate}.verify", {"form_data": {"code": code}}, pathname)

    async def verify_with_sent_code(self, read_code: Callable[[], str], pathname: str = "/profile") -> str:
        """The gate's steps for a code it sends (the default method): prepare, send, verify
        with the code ``read_code`` finds where it was delivered."""
        gate = StepUpState.get_full_name()
        await self.call(f"{gate}.prepare", {}, pathname)
        await self.call(f"{gate}.send_code", {}, pathname)
        return await self.call(f"{gate}.verify", {"form_data": {"code": read_code()}}, pathname)


def latest_code(engine, email: str, tries: int = 50) -> str:
    """The six digits of the newest outbox message to ``email``, waiting for it to arrive."""
    for _ in range(tries):
        with Session(engine) as db:
            message = db.exec(select(OutboxMessage).where(OutboxMessage.recipient == email)
                              .order_by(OutboxMessage.id.desc())).first()
        if message is not None and (found := re.search(r"\b(\d{6})\b", message.text)):
            return found.group(1)
        time.sleep(0.2)
    raise AssertionError("no code arrived")
