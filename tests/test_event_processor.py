"""Through Reflex's real event processor (BaseStateEventProcessor with the panel app as
middleware), not the harness's direct handler calls: what happens around a real event."""

from __future__ import annotations

import asyncio

from reflex.istate.manager.memory import StateManagerMemory
from reflex_base.event.processor.base_state_processor import BaseStateEventProcessor

import panel_app.panel_app as panel  # registers every state and installs TabCheck
from panel_app import logs
from panel_app.state import guard
from panel_app.state.auth import AuthState
from tests.state_harness import login_token
from tests.ws import event, router_data

CLIENT_TOKEN = "review-tab-0001"


class _Socket:
    def __init__(self):
        self.updates = []

    async def emit_update(self, update, token):
        self.updates.append((token, update))


async def _run_events(cookie: str, *names: str) -> None:
    processor = BaseStateEventProcessor(middleware=panel.app, backend_exception_handler=None)
    async with processor.configure(state_manager=StateManagerMemory(), event_namespace=_Socket()):
        for name in names:
            router = router_data("/dashboard", headers={"cookie": cookie, "user-agent": "pytest"},
                                 ip="192.0.2.9", token=CLIENT_TOKEN, sid="sid-1")
            await processor.enqueue(CLIENT_TOKEN, event(AuthState, name, router=router))
            await asyncio.sleep(0.05)
            await processor.join(timeout=10)
            await asyncio.sleep(0.05)


async def test_the_resolution_is_cleared_when_a_real_event_ends(make_user, monkeypatch):
    """The tab check's answer is taken by the guard of its own event and gone once the
    handler returned (Reflex 0.10.1 never calls a middleware's postprocess: nothing may
    rely on it)."""
    owner = make_user()
    token = login_token(owner)
    seen = {"remembered": 0, "left_set": []}
    remember = guard.remember_resolution

    def spy_remember(*args):
        seen["remembered"] += 1
        remember(*args)

    from reflex_base.event.processor import base_state_processor

    original_chain = base_state_processor.chain_updates

    async def spy_chain(events, handler_name, root_state=None):
        if handler_name.endswith("AuthState.tick"):  # the handler of this event has returned
            seen["left_set"].append(guard._this_event.get() is not None)
        return await original_chain(events, handler_name, root_state)

    monkeypatch.setattr(guard, "remember_resolution", spy_remember)
    monkeypatch.setattr(base_state_processor, "chain_updates", spy_chain)
    await _run_events(f"panel_session={token}", "check_login", "tick")
    assert seen["remembered"] >= 2
    # (one update from a plain handler; two when it ran off the loop: the outcome, then the end)
    assert seen["left_set"] and not any(seen["left_set"]), "the answer outlives the handler in the event's context"


async def test_every_real_event_reaches_the_event_log(make_user, monkeypatch):
    """The per-event log line (PANEL_LOG_EVENTS, on in production) is written when the
    event's task ends."""
    owner = make_user()
    token = login_token(owner)
    logged = []
    monkeypatch.setattr(logs, "event_done", lambda name, *a, **k: logged.append(name))
    monkeypatch.setattr(logs.log, "isEnabledFor", lambda level: True)
    await _run_events(f"panel_session={token}", "check_login", "tick")
    assert any(name.endswith(".tick") for name in logged), logged
