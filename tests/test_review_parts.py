"""Review of the page parts (issue 12) with a grant but the wrong person: an administrator
without the area, and a tab whose cookie now belongs to someone else. Every handler of the
page and of each part is called directly (the guard decides from the database)."""

from __future__ import annotations

import asyncio
import inspect
import json

import pytest
from sqlmodel import Session, select

from panel_app import tasks
from panel_app.db import get_engine, transaction
from panel_app.models import Mailbox, MailForwarder, OutboxMessage, RecoveryCode
from panel_app.security.passwords import hash_password
from panel_app.state.dns import DnsState
from panel_app.state.mail import MailState
from tests.test_states_dns_mail import (  # noqa: F401  (fixtures)
    AUTH_CODE, STRONG, ZONE, _add_admin, _db_snapshot, _dummy_args, _handlers, _login, _parts, _state,
    _whole_state_text, domain_id, owner,
)

PAGES = [(DnsState, f"/domains/{ZONE}", "email"), (MailState, "/email", "domains")]
SECRETS = (AUTH_CODE, "192.0.2.2", "mail.example.com", f"info@{ZONE}", "sales@elsewhere.example")


def _mail_rows(zone_id: int) -> None:
    with transaction() as db:
        db.add(Mailbox(domain_id=zone_id, local_part="info", password_hash=hash_password(STRONG), quota_mb=1024))
        db.add(MailForwarder(domain_id=zone_id, local_part="sales", destination="sales@elsewhere.example"))


def _call_everything(state) -> None:
    for page in (state, *_parts(state)):
        for name, fn in _handlers(type(page)).items():
            getattr(page, name)(*_dummy_args(fn))


@pytest.mark.parametrize("cls, path, other_area", PAGES)
async def test_an_admin_with_a_grant_but_without_the_area_gets_nothing_from_any_part(
        cls, path, other_area, owner, domain_id, clock):  # noqa: F811
    _mail_rows(domain_id)
    admin = _add_admin(owner, areas=other_area)
    before = _db_snapshot()
    state = _state(cls, _login(admin, clock.now), path)
    _call_everything(state)
    await tasks.wait_all()
    after = _db_snapshot()
    assert {k: v for k, v in after.items() if k != "audit"} == {k: v for k, v in before.items() if k != "audit"}
    assert not state.loaded
    text = _whole_state_text(state)
    for secret in SECRETS:
        assert secret not in text
    with Session(get_engine()) as db:
        assert db.exec(select(OutboxMessage)).all() == []


@pytest.mark.parametrize("cls, path, _area", PAGES)
async def test_a_tab_whose_cookie_changes_hands_keeps_nothing_and_changes_nothing(
        cls, path, _area, owner, domain_id, clock, make_user):  # noqa: F811
    """The owner's tab is loaded; then its connection carries the verified session of
    someone of another account who has no domain (a swapped cookie): no handler of the page
    or a part touches the owner's account, and the intruder sees none of it."""
    _mail_rows(domain_id)
    intruder = make_user(email="intruder@test.example", phone="+4915112345698")
    state = _state(cls, _login(owner, clock.now), path)
    state.load()
    assert state.loaded
    intruder_token = _login(intruder, clock.now)
    state.router = type(state.router).from_router_data({
        "headers": {"cookie": f"panel_session={intruder_token}", "user-agent": "pytest"},
        "pathname": path, "asPath": path, "ip": "192.0.2.51",
    })
    before = _db_snapshot()
    _call_everything(state)
    await tasks.wait_all()
    after = _db_snapshot()
    assert {k: v for k, v in after.items() if k != "audit"} == {k: v for k, v in before.items() if k != "audit"}
    text = _whole_state_text(state)
    for secret in SECRETS:
        assert secret not in text
    with Session(get_engine()) as db:
        assert db.exec(select(OutboxMessage)).all() == []
        assert db.exec(select(RecoveryCode)).all() == []


# --- raw over Reflex's event processor (tab check and guard), no grant ---------------------------


class _Socket:
    def __init__(self):
        self.updates = []

    async def emit_update(self, update, token):
        self.updates.append(update)


@pytest.mark.parametrize("cls, path, _area", PAGES)
async def test_every_part_handler_sent_raw_without_a_grant_does_nothing(
        cls, path, _area, owner, domain_id, clock):  # noqa: F811
    """Each handler of the page and of every part as a websocket event with the payload a
    script would send, from a session that never verified: no row changes, no answer carries
    the domain's data."""
    from reflex.istate.manager.memory import StateManagerMemory
    from reflex_base.event import Event
    from reflex_base.event.processor.base_state_processor import BaseStateEventProcessor

    import panel_app.panel_app as panel
    from tests.ws import handler_name, router_data

    _mail_rows(domain_id)
    cookie = f"panel_session={_login(owner, clock.now, grant=False)}"
    before = _db_snapshot()
    sock = _Socket()
    processor = BaseStateEventProcessor(middleware=panel.app, backend_exception_handler=None)
    sent = 0
    async with processor.configure(state_manager=StateManagerMemory(), event_namespace=sock):
        for state_cls in (cls, *cls.get_substates()):
            for name, fn in _handlers(state_cls).items():
                params = [p.name for p in list(inspect.signature(fn).parameters.values())[1:]]
                payload = dict(zip(params, _dummy_args(fn), strict=True))
                router = router_data(path, headers={"cookie": cookie, "user-agent": "pytest"}, ip="192.0.2.9",
                                     token="raw-parts-tab", sid="sid-1")
                await processor.enqueue("raw-parts-tab", Event(name=handler_name(state_cls, name), payload=payload,
                                                               router_data=router))
                sent += 1
        await asyncio.sleep(0.1)
        await processor.join(timeout=30)
        await asyncio.sleep(0.1)
    await tasks.wait_all()
    assert sent > 10
    after = _db_snapshot()
    assert {k: v for k, v in after.items() if k != "audit"} == {k: v for k, v in before.items() if k != "audit"}
    answers = json.dumps([repr(update) for update in sock.updates])
    assert sock.updates, "positive control: the events were answered"
    for secret in SECRETS:
        assert secret not in answers
    with Session(get_engine()) as db:
        assert db.exec(select(OutboxMessage)).all() == []
