"""The attacker's view: call every handler of every gated state by name over a
raw websocket, without a step-up grant, and see each one refuse.

A positive control (the same calls with a grant) proves the harness would notice
a handler that answers: sensitive text appears, or the database changes.
"""

from __future__ import annotations

import inspect

import pytest
import socketio

import panel_app.panel_app  # noqa: F401  (registers every state)
from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.security import sessions
from panel_app.security.permissions import Area
from panel_app.state.gated import gated_page_classes
from panel_app.state.guard import GUARD_MARKER
from tests import state_harness
from tests.ws import LOADED, RawClient, login_token, run_async

pytestmark = pytest.mark.browser

# Text that only a granted page may ever send: demo DNS data, invoice numbers,
# mailbox names, card digits, the owner's street and VAT ID, recovery codes label.
SENSITIVE_MARKERS = ["203.0.113.10", "2026-000203", "rechnungen", "4242", "Lindenstra", "DE123456789",
                     "mx1.panel-hosting.example"]
# Tables that legitimately change while handlers are refused (sessions touched,
# refusals logged); everything else must stay byte-identical.
# (The outbox gets the asynchronous "new sign-in" notice of the attacker's own login;
# no code can be sent without a verificationcode row, which is compared.)
VOLATILE_TABLES = {"loginsession", "auditevent", "throttle", "knownbrowser", "outboxmessage"}


def gated_states() -> list[type]:
    return gated_page_classes()


def handlers_of(state_cls) -> dict[str, object]:
    return {name: h for name, h in state_cls.event_handlers.items() if name != "setvar"}


def dummy_payload(fn) -> dict:
    """Plausible arguments for each parameter, so only the guard can stop the call."""
    payload = {}
    for name, param in list(inspect.signature(fn).parameters.items())[1:]:
        annotation = str(param.annotation)
        if "dict" in annotation:
            payload[name] = {
                "code": "123456", "name": "www", "rtype": "A", "ttl": "3600", "value": "198.51.100.7",
                "local_part": "attacker", "password": "Correct-Horse-Battery-9", "quota_mb": "1024",
                "email": "attacker@example.net", "phone": "+4915199999999", "number": "4111111111111111",
                "exp_month": "12", "exp_year": "2031", "holder": "Eve", "iban": "DE89370400440532013000",
                "confirm": "info@schmidt-webdesign.example", "destination": "attacker@example.net",
                "areas": "domains,email,invoices", "street": "Evil Street 1", "subject": "x" * 10,
                "body": "hello", "kind": "general",
            }
        elif "bool" in annotation:
            payload[name] = False
        elif "int" in annotation:
            payload[name] = 1
        else:
            payload[name] = "1"
    return payload


def db_fingerprint() -> dict[str, str]:
    return state_harness.db_fingerprint(VOLATILE_TABLES)


def test_every_gated_handler_carries_the_stepup_guard():
    states = gated_states()
    assert len(states) >= 1
    for state_cls in states:
        assert isinstance(state_cls.__dict__.get("area"), Area), f"{state_cls.__name__}: area: ClassVar[Area] = ..."
        for name, handler in handlers_of(state_cls).items():
            marker = getattr(handler.fn, GUARD_MARKER, None)
            assert marker is not None and marker[1] is True, f"{state_cls.__name__}.{name} is not step-up guarded"


def test_no_gated_handler_answers_without_a_grant(panel_url):
    async def attack() -> list[str]:
        token = login_token(panel_url, "owner@example.com", "panel-demo-owner")
        before = db_fingerprint()
        leaks = []
        async with RawClient(panel_url, token) as client:
            for state_cls in gated_states():
                for name, handler in handlers_of(state_cls).items():
                    answer = await client.call(f"{state_cls.get_full_name()}.{name}", dummy_payload(handler.fn))
                    leaked = [m for m in SENSITIVE_MARKERS if m in answer]
                    if "An error occurred" in answer:  # a crash is not a refusal
                        leaked.append("server error")
                    if leaked or LOADED.search(answer):
                        leaks.append(f"{state_cls.__name__}.{name}: {leaked or 'loaded'}")
        assert db_fingerprint() == before, "a refused handler changed the database"
        return leaks

    assert run_async(attack()) == []


def test_positive_control_with_a_grant_the_same_call_answers(panel_url):
    """Grant the session directly in the database, then the security page loads."""
    from panel_app.state.security import SecurityState

    async def control() -> str:
        token = login_token(panel_url, "owner@example.com", "panel-demo-owner")
        with transaction() as db:
            row = sessions.find_by_token(db, token)
            sessions.start_grant(db, row, method="email", now=utcnow(), ttl_seconds=600)
        async with RawClient(panel_url, token) as client:
            return await client.call(f"{SecurityState.get_full_name()}.load", {}, pathname="/security")

    answer = run_async(control())
    assert LOADED.search(answer)
    assert any(marker in answer for marker in ("Chrome", "python-httpx"))  # the sessions table


def test_without_a_session_cookie_nothing_answers(panel_url):
    async def anonymous() -> list[str]:
        leaks = []
        async with RawClient(panel_url, None) as client:
            for state_cls in gated_states():
                answer = await client.call(f"{state_cls.get_full_name()}.load", {})
                if any(m in answer for m in SENSITIVE_MARKERS) or "/login" not in answer:
                    leaks.append(state_cls.__name__)
        return leaks

    assert run_async(anonymous()) == []


def test_another_site_cannot_open_the_event_socket(panel_url):
    async def connect_from_elsewhere() -> bool:
        client = RawClient(panel_url, None, origin="https://evil.example")
        try:
            await client.connect(wait_timeout=5)
        except socketio.exceptions.ConnectionError:
            return False
        await client.sio.disconnect()
        return True

    assert run_async(connect_from_elsewhere()) is False
