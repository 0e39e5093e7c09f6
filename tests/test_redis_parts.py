"""A page's parts on Reflex's Redis state manager (several workers), through the real event
processor: an event loads only the state it names, its parents and their dependants, so a
part may sit in Redis unloaded when its page is wiped. It must empty all the same, and
nothing a part held may come back with ``hydrate``. Needs ``redis-server`` (skipped without)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import subprocess
import time

import pytest
import redis.asyncio as aioredis
from reflex.istate.manager.redis import StateManagerRedis
from reflex.istate.manager.token import BaseStateToken
from reflex_base.event import Event
from reflex_base.event.processor.base_state_processor import BaseStateEventProcessor
from sqlmodel import select

import panel_app.panel_app as panel  # registers every state and installs TabCheck
from panel_app.db import transaction
from panel_app.models import DnsRecord, LoginSession
from panel_app.security import sessions
from panel_app.state import push
from panel_app.state.redis_states import PanelStateManagerRedis
from panel_app.state.billing import InvoicesState
from panel_app.state.dns import DnsState
from panel_app.state.dns_parts import DnsAuthCodeState, DnsRecordFormState
from tests.state_harness import login_token
from tests.test_states_dns_mail import ZONE, domain_id, owner  # noqa: F401  (fixtures)
from tests.ws import HYDRATE, event, router_data

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")

CLIENT_TOKEN = "redis-parts-tab-0001"
EDITED_VALUE = "192.0.2.2"  # the record the form holds (the page's own list shows it too)


@pytest.fixture
def redis_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(params=["reflex", "panel", "panel-holding"])
def redis_manager(request, redis_port):
    """Reflex's Redis state manager, and the panel's (two round trips per event, or the tab
    held in the worker between events and written by the sweep): the same guarantees on all."""
    if request.param == "reflex":
        return StateManagerRedis(redis=aioredis.Redis(port=redis_port))
    manager = PanelStateManagerRedis(redis=aioredis.Redis(port=redis_port))
    if request.param == "panel-holding":
        manager.hold_seconds, manager.socket_here = 30, lambda ident: True
    return manager


class _Socket:
    def __init__(self):
        self.updates = []

    async def emit_update(self, update, token):
        self.updates.append(update)


class _Tab:
    """One browser tab on the Redis state manager: events by name, answers as text."""

    def __init__(self, processor, manager, sock, cookie: str | None, path: str):
        self.processor, self.manager, self.sock, self.cookie, self.path = processor, manager, sock, cookie, path

    async def send(self, name: str, payload: dict | None = None) -> str:
        headers = {"user-agent": "pytest", **({"cookie": self.cookie} if self.cookie else {})}
        router = router_data(self.path, headers=headers, ip="192.0.2.9", token=CLIENT_TOKEN, sid="sid-1")
        start = len(self.sock.updates)
        await self.processor.enqueue(CLIENT_TOKEN, Event(name=name, payload=payload or {}, router_data=router))
        await asyncio.sleep(0.05)
        await self.processor.join(timeout=10)
        await asyncio.sleep(0.05)
        return json.dumps([repr(update) for update in self.sock.updates[start:]])

    async def call(self, cls, handler: str, payload: dict | None = None) -> str:
        return await self.send(event(cls, handler).name, payload)

    async def stored_form(self) -> tuple[str, str]:
        """What the record form holds in Redis right now (after the sweep when the tab is held)."""
        if isinstance(self.manager, PanelStateManagerRedis):
            await self.manager.sweep()
        root = await self.manager.get_state(BaseStateToken(ident=CLIENT_TOKEN, cls=DnsRecordFormState))
        form = root.get_substate(DnsRecordFormState.get_full_name().split(".")[1:])
        return form.editing_id, form.form_value


def _mail_record_id() -> int:
    with transaction() as db:
        return db.exec(select(DnsRecord).where(DnsRecord.name == "mail")).one().id


@contextlib.asynccontextmanager
async def _editing_tab(user, clock, manager):
    """The owner's tab, verified, on the DNS page with the record form holding a record
    being edited (checked in Redis: the positive control of every test here)."""
    token = login_token(user, clock.now, grant_method="totp")
    sock = _Socket()
    processor = BaseStateEventProcessor(middleware=panel.app, backend_exception_handler=None)
    async with processor.configure(state_manager=manager, event_namespace=sock):
        tab = _Tab(processor, manager, sock, f"{sessions.COOKIE_NAME}={token}", f"/domains/{ZONE}")
        await tab.call(DnsState, "load")
        await tab.call(DnsRecordFormState, "start_edit", {"record_id": str(_mail_record_id())})
        assert await tab.stored_form() == (str(_mail_record_id()), EDITED_VALUE), "positive control"
        yield tab


@pytest.mark.parametrize("ended_by", ["other_part", "other_page", "hydrate"])
async def test_a_part_unloaded_when_the_grant_ends_is_empty_in_redis(owner, domain_id, redis_manager, clock,  # noqa: F811
                                                                      ended_by):
    """The form holds a record being edited; the grant runs out; the next event names only
    the auth code part (the form stays in Redis), another page, or is Reflex's hydrate."""
    async with _editing_tab(owner, clock, redis_manager) as tab:

        clock.advance(601)
        if ended_by == "other_part":
            await tab.call(DnsAuthCodeState, "hide_auth_code")
        elif ended_by == "other_page":
            tab.path = "/invoices"
            await tab.call(InvoicesState, "load")
        answer = await tab.send(HYDRATE)
        assert EDITED_VALUE not in answer
        assert await tab.stored_form() == ("", "")
        with transaction() as db:  # nothing of this changed the session
            assert db.exec(select(LoginSession)).one().revoked_at is None


async def test_a_token_without_the_cookie_hydrates_an_empty_tab(owner, domain_id, redis_manager, clock):  # noqa: F811
    """Someone holding only the client token (another worker, no cookie) while the grant is
    still running: the tab check signs the tab out before Reflex answers."""
    async with _editing_tab(owner, clock, redis_manager) as tab:
        tab.cookie = None
        answer = await tab.send(HYDRATE)
        assert EDITED_VALUE not in answer and "mail.example.com" not in answer
        assert await tab.stored_form() == ("", "")


class _TokenManager:
    def __init__(self):
        self.token_to_socket = {}


class _Namespace:
    def __init__(self):
        self._token_manager = _TokenManager()


class _App:
    def __init__(self, manager):
        self.event_namespace = _Namespace()
        self.state_manager = manager


async def test_a_closed_tab_leaves_no_part_in_redis(owner, domain_id, redis_manager, clock):  # noqa: F811
    """The socket closes while the grant still runs (the push loop's disconnect hook, as
    another worker would run it): page and every part are empty in Redis."""
    async with _editing_tab(owner, clock, redis_manager) as tab:
        await push._forget_on_disconnect(_App(tab.manager), CLIENT_TOKEN, "sid-1")
        assert await tab.stored_form() == ("", "")
        root = await tab.manager.get_state(BaseStateToken(ident=CLIENT_TOKEN, cls=DnsState))
        page = root.get_substate(DnsState.get_full_name().split(".")[1:])
        assert not page.loaded and page.records == [] and page.parent_state._bound_session_id is None
