"""The verification gate and the grant, through the Reflex states and the real guard."""

from __future__ import annotations

import json
import re

from sqlmodel import select

from panel_app import tasks
from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.models import LoginSession, OutboxMessage, Ticket, VerificationCode
from panel_app.security import sessions
from panel_app.state.billing import InvoicesState
from panel_app.state.security import SecurityState
from panel_app.state.stepup import GrantState, StepUpState
from panel_app.state.tab_check import TabCheck
from reflex.istate.data import RouterData
from tests.state_harness import login_token, tab_state


def frontend(state) -> str:
    root = state
    while root.parent_state is not None:
        root = root.parent_state
    return json.dumps(root.dict(), default=str)


def outbox_texts(to: str) -> list[str]:
    with transaction() as db:
        return [m.subject + "\n" + m.text for m in db.exec(select(OutboxMessage).where(OutboxMessage.recipient == to))]


async def test_gate_offers_the_users_methods_with_the_preferred_one_first(make_user):
    user = make_user()
    gate = tab_state(StepUpState, login_token(user), "/invoices")
    gate.prepare()
    assert gate.methods == ["email", "whatsapp"] and gate.method == "email"
    assert gate.masked_destination == "o•••@test.example"
    gate.choose_method("whatsapp")
    assert gate.masked_destination == "+49 ••• ••• 12"
    gate.choose_method("totp")  # not set up: ignored
    assert gate.method == "whatsapp"


async def test_email_code_is_sent_in_the_background_and_never_reaches_the_browser(make_user):
    user = make_user()
    gate = tab_state(StepUpState, login_token(user), "/invoices")
    gate.prepare()
    gate.send_code()
    await tasks.wait_all()
    [mail] = outbox_texts("owner@test.example")
    code = re.search(r"\b(\d{6})\b", mail).group(1)
    assert code not in frontend(gate)
    with transaction() as db:
        row = db.exec(select(VerificationCode)).one()
        assert code not in row.code_hash and row.delivery_status == "sent"
    gate.poll()
    assert gate.delivery_status == "sent" and gate.resend_in > 0
    gate.verify({"code": code})
    assert gate.grant_active and 590 <= gate.grant_seconds_left <= 600 and gate.error == ""


async def test_five_failures_lock_with_a_wait_and_mail_the_user(make_user):
    user = make_user()
    gate = tab_state(StepUpState, login_token(user), "/invoices")
    gate.prepare()
    gate.send_code()
    await tasks.wait_all()
    code = re.search(r"\b(\d{6})\b", outbox_texts("owner@test.example")[0]).group(1)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        gate.verify({"code": wrong})
    await tasks.wait_all()
    assert "30 seconds" in gate.error
    assert any("Someone has your password" in text for text in outbox_texts("owner@test.example"))
    gate.verify({"code": code})  # even the right code waits now
    assert not gate.grant_active


async def test_bad_code_input_is_refused_with_a_message(make_user):
    user = make_user()
    gate = tab_state(StepUpState, login_token(user), "/invoices")
    gate.prepare()
    for junk in ["", "abcdef", "１２３４５６", "12345", "9" * 10_000, None, {"x": 1}]:
        gate.verify({"code": junk})
        assert gate.error and not gate.grant_active
    gate.verify("not a dict")
    assert not gate.grant_active


async def test_contact_update_ticket_without_a_code(make_user):
    user = make_user()
    gate = tab_state(StepUpState, login_token(user), "/invoices")
    gate.prepare()
    gate.request_contact_update()
    gate.request_contact_update()
    with transaction() as db:
        assert len(db.exec(select(Ticket).where(Ticket.kind == "contact_update")).all()) == 1
    assert "ticket #" in gate.ticket_message


async def test_gate_handlers_need_a_login(make_user):
    gate = tab_state(StepUpState, None, "/invoices")
    outcome = gate.send_code()
    assert "/login" in json.dumps(outcome.args, default=str)
    with transaction() as db:
        assert db.exec(select(VerificationCode)).all() == []


async def test_end_of_the_grant_wipes_every_page_of_the_tab(make_user):
    user = make_user()
    token = login_token(user, grant_method="email")
    invoices = tab_state(InvoicesState, token, "/invoices")
    invoices.load()
    assert invoices.loaded
    root = invoices.parent_state.parent_state
    security = root.get_substate(SecurityState.get_full_name().split(".")[1:])
    security.load()
    assert security.loaded and security.sessions
    ender = root.get_substate(GrantState.get_full_name().split(".")[1:])
    ender.end_now()
    # What runs in front of the tab's next event, and in the push loop:
    await TabCheck.check(root)
    assert not invoices.loaded and not security.loaded and security.sessions == []


async def test_a_grant_runs_out_on_the_server_clock(make_user, clock):
    user = make_user()
    security = tab_state(SecurityState, login_token(user, grant_method="totp"), "/security")
    security.load()
    assert security.loaded
    later = clock.advance(seconds=601)
    security.tick()
    assert not security.loaded and security.sessions == [] and not security.grant_active
    with transaction() as db:
        row = db.exec(select(LoginSession)).one()
        assert not sessions.grant_is_valid(row, later)


async def test_a_code_from_another_session_shows_its_cooldown_in_this_one(make_user):
    user = make_user()
    first = tab_state(StepUpState, login_token(user), "/invoices")
    first.prepare()
    first.send_code()
    await tasks.wait_all()
    second = tab_state(StepUpState, login_token(user), "/invoices")
    second.prepare()
    assert not second.code_sent and 55 <= second.resend_in <= 60
    second.send_code()
    assert "wait" in second.error


async def test_the_login_page_forgets_a_signed_out_tab_but_keeps_its_message(make_user):
    from panel_app.state.login import LoginState

    user = make_user(language="de")
    token = login_token(user, grant_method="email")
    security = tab_state(SecurityState, token, "/security")
    security.load()
    assert security.loaded and security.sessions
    with transaction() as db:
        sessions.revoke_session(db, sessions.find_by_token(db, token), reason="logout", now=utcnow())
    root = security.parent_state.parent_state
    login_page = root.get_substate(LoginState.get_full_name().split(".")[1:])
    root.router = RouterData.from_router_data({"headers": {"cookie": f"panel_session={token}"},
                                               "pathname": "/login", "asPath": "/login?signed_out=1",
                                               "query": {"signed_out": "1"}})
    await TabCheck.check(root)  # in front of the login page's on_load
    assert not security.loaded and security.sessions == []
    login_page.open_login()
    assert login_page.message == "Sie wurden abgemeldet." and login_page.next_path == "/dashboard"


async def test_a_refused_area_is_logged_once_a_minute_not_per_call(make_user):
    """An administrator scripting calls to a forbidden page must not flood the activity log."""
    from panel_app.models import AuditEvent, User

    owner = make_user()
    with transaction() as db:
        admin = User(account_id=owner.account_id, email="admin@test.example", password_hash="x", role="admin",
                     areas="domains")
        db.add(admin)
    with transaction() as db:
        admin = db.exec(select(User).where(User.email == "admin@test.example")).one()
    invoices = tab_state(InvoicesState, login_token(admin, grant_method="email"), "/invoices")
    for _ in range(20):
        outcome = invoices.load()
        assert "denied=1" in json.dumps(outcome.args if hasattr(outcome, "args") else str(outcome), default=str)
    assert not invoices.loaded
    with transaction() as db:
        denied = db.exec(select(AuditEvent).where(AuditEvent.action == "permission_denied")).all()
    assert len(denied) == 1 and denied[0].area == "invoices"
