"""An outsider's second look at the tab check and the push loop (issue 8), over a raw
websocket: a token shared by two sockets, a stranger racing the owner's reconnect, an
open tab of a session that another session or the owner ends, and hostile payloads to
Reflex's own handlers that would make it write tracebacks into the log."""

from __future__ import annotations

import asyncio
import os
import time

import pytest
from sqlmodel import select

from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.models import User
from panel_app.services import team
from panel_app.services.audit import Actor
from panel_app.state.billing import InvoicesState
from panel_app.state.dns import DnsState
from panel_app.state.security import SecurityState
from tests.browser.test_closed_tab import DOMAIN, HYDRATE, HYDRATE_AND_LOAD, PAGE_MARKERS, _grant, _leaks
from tests.browser.test_websocket_guard import RawClient, login_token, run_async

pytestmark = pytest.mark.browser

DNS_MARKER = "203.0.113.10"
REPORT = "reflex___state____state.reflex___state____frontend_event_exception_state.handle_frontend_exception"
UPDATE_VARS = "reflex___state____state.reflex___state____update_vars_internal_state.update_vars_internal"


async def _wait_for(client: RawClient, text: str, start: int, seconds: float = 2.5) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(text in message for message in client.received[start:]):
            return True
        await asyncio.sleep(0.1)
    return False


async def _open_invoices(tab: RawClient) -> str:
    await tab.call(HYDRATE_AND_LOAD, {}, pathname="/invoices")  # its on_load loads the page
    await tab.call(f"{InvoicesState.get_full_name()}.load", {}, pathname="/invoices")
    return "\n".join(tab.received)


def test_a_second_socket_on_a_connected_tabs_token_hears_nothing(panel_url):
    """Two sockets, one token: Reflex gives the second its own token; the owner's tab,
    still open and holding invoices, stays out of its reach."""

    async def scenario():
        owner = login_token(panel_url, "owner@example.com", "panel-demo-owner")
        _grant(owner, "email")
        async with RawClient(panel_url, owner) as tab:
            assert "2026-000203" in await _open_invoices(tab)  # positive control
            stranger = RawClient(panel_url, None)
            stranger.token = tab.token
            async with stranger:
                answers = [await stranger.call(HYDRATE_AND_LOAD, {}, pathname="/invoices"),
                           await stranger.call(HYDRATE, {}, pathname="/invoices"),
                           await stranger.call(f"{InvoicesState.get_full_name()}.load", {}, pathname="/invoices")]
            # The owner's tab is untouched by the stranger: its data is still there.
            still = await tab.call(HYDRATE, {}, pathname="/invoices")
        return _leaks("\n".join(answers + stranger.received), PAGE_MARKERS), "2026-000203" in still

    assert run_async(scenario()) == ([], True)


def test_a_stranger_racing_the_owners_closing_tab_gets_nothing(panel_url):
    """The stranger connects with the token the moment the owner's socket closes, before
    the disconnect has emptied the tab, and asks again and again."""

    async def scenario():
        owner = login_token(panel_url, "owner@example.com", "panel-demo-owner")
        _grant(owner, "email")
        tab = RawClient(panel_url, owner)
        async with tab:
            assert "2026-000203" in await _open_invoices(tab)
        stranger = RawClient(panel_url, None)
        stranger.token = tab.token
        async with stranger:
            for _ in range(5):
                await stranger.sio.emit("event", {"name": HYDRATE, "payload": {},
                                                  "router_data": {"pathname": "/invoices", "query": {},
                                                                  "asPath": "/invoices"}}, namespace="/_event")
            await asyncio.sleep(1.5)
            heard = "\n".join(stranger.received)
        return _leaks(heard, PAGE_MARKERS + ["owner@example.com", "Jana Schmidt"])

    assert run_async(scenario()) == []


def test_signing_out_another_session_empties_its_open_tab_by_push(panel_url):
    """Session B's tab is open on the invoices; session A signs out every other session
    (security page). B's tab is sent to the login page within 2 s, its data goes, and its
    token (with B's now dead cookie) gets nothing back."""

    async def scenario():
        first = login_token(panel_url, "owner@example.com", "panel-demo-owner")
        second = login_token(panel_url, "owner@example.com", "panel-demo-owner")
        _grant(first, "email")
        _grant(second, "email")
        async with RawClient(panel_url, second) as other:
            assert "2026-000203" in await _open_invoices(other)
            start = len(other.received)
            async with RawClient(panel_url, first) as tab:
                await tab.call(HYDRATE_AND_LOAD, {}, pathname="/security")
                await tab.call(f"{SecurityState.get_full_name()}.load", {}, pathname="/security")
                await tab.call(f"{SecurityState.get_full_name()}.sign_out_others", {}, pathname="/security")
            pushed = await _wait_for(other, "/login", start)
            token = other.token
        again = RawClient(panel_url, second)
        again.token = token
        async with again:
            answer = await again.call(HYDRATE, {}, pathname="/invoices")
        return pushed, _leaks(answer, PAGE_MARKERS)

    assert run_async(scenario()) == (True, [])


def test_narrowing_a_technicians_areas_reaches_the_open_tab(panel_url):
    """The technician's tab shows a zone; the owner takes the domains area away. The tab
    is sent to the login page by push and no longer holds the zone."""

    def set_areas(areas: list[str]) -> None:
        with transaction() as db:
            owner = db.exec(select(User).where(User.email == "owner@example.com")).one()
            tech = db.exec(select(User).where(User.email == "tech@example.com")).one()
            team.change_areas(db, Actor.for_user(owner, ip="127.0.0.1", user_agent="test"), tech.id, areas,
                              now=utcnow())

    async def scenario():
        tech = login_token(panel_url, "tech@example.com", "panel-demo-tech")
        _grant(tech, "email")
        try:
            async with RawClient(panel_url, tech) as tab:
                await tab.call(HYDRATE_AND_LOAD, {}, pathname=f"/domains/{DOMAIN}")
                await tab.call(f"{DnsState.get_full_name()}.load", {}, pathname=f"/domains/{DOMAIN}")
                assert DNS_MARKER in "\n".join(tab.received)  # positive control
                start = len(tab.received)
                set_areas(["email"])
                pushed = await _wait_for(tab, "/login", start)
                after = await tab.call(HYDRATE, {}, pathname=f"/domains/{DOMAIN}")
        finally:
            set_areas(["domains", "email"])
        return pushed, DNS_MARKER in after

    assert run_async(scenario()) == (True, False)


def test_junk_for_reflexs_own_storage_handlers_writes_no_traceback(panel_url, server_log):
    async def probe():
        async with RawClient(panel_url, None) as tab:
            for name, payload in ((UPDATE_VARS, {"vars": {"nosuch.state.x": 1}}), (UPDATE_VARS, {"vars": ["a"]}),
                                  (UPDATE_VARS, {"vars": {"x": 1}}), (HYDRATE_AND_LOAD, {"vars": {"zz.q": 1}}),
                                  (HYDRATE_AND_LOAD, {"hashes": 5}), (HYDRATE_AND_LOAD, {"vars": "s"})):
                for _ in range(3):
                    await tab.sio.emit("event", {"name": name, "payload": payload,
                                                 "router_data": {"pathname": "/login", "query": {}}},
                                       namespace="/_event")
            await asyncio.sleep(1)
            return await tab.call(HYDRATE_AND_LOAD, {}, pathname="/login")  # the page still works

    before = server_log.read_text(errors="replace")
    answer = run_async(probe())
    time.sleep(0.5)
    added = server_log.read_text(errors="replace")[len(before):]
    assert "Traceback" not in added and "Invalid path" not in added
    assert "is_hydrated" in answer


@pytest.mark.skipif(bool(os.environ.get("PANEL_TEST_REDIS_URL")),
                    reason="with Redis several workers run, each with its own budget (tests/test_tab_check.py)")
def test_new_tokens_buy_no_new_budget_for_error_reports(panel_url, server_log):
    async def flood():
        for n in range(15):
            async with RawClient(panel_url, None) as tab:
                for _ in range(5):
                    await tab.sio.emit("event", {"name": REPORT, "payload": {"info": f"flood {n}",
                                                                            "component_stack": ""},
                                                 "router_data": {"pathname": "/login", "query": {}}},
                                       namespace="/_event")
                await asyncio.sleep(0.2)

    before = server_log.read_text(errors="replace")
    run_async(flood())
    time.sleep(0.5)
    added = server_log.read_text(errors="replace")[len(before):]
    reports = [line for line in added.splitlines() if "browser reported an error" in line]
    assert len(reports) <= 60

    # The budget is per minute: once the minute is over, reports are logged again (and the
    # tests after this one meet the budget a fresh server has).
    time.sleep(61)

    async def one_report():
        async with RawClient(panel_url, None) as tab:
            await tab.call(REPORT, {"info": "after the minute", "component_stack": ""}, pathname="/login")

    before = server_log.read_text(errors="replace")
    run_async(one_report())
    time.sleep(0.5)
    added = server_log.read_text(errors="replace")[len(before):]
    assert any("browser reported an error" in line and "after the minute" in line for line in added.splitlines())
