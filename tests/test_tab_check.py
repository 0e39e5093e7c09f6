"""The check in front of every event (the app middleware), on the states of one tab:
what it empties, what it refuses, and which events extend the login session."""

from __future__ import annotations

from datetime import date, timedelta

from reflex_base.event import Event
from sqlmodel import select

from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.models import DnsRecord, Domain, LoginSession
from panel_app.security import sessions
from panel_app.state import guard
from panel_app.state.auth import AuthState
from panel_app.state.billing import InvoicesState
from panel_app.state.dns import DnsState
from panel_app.state.dns_parts import DnsAuthCodeState, DnsRecordFormState
from panel_app.state.reset import ForgotState
from panel_app.state.security import SecurityState
from panel_app.state.stepup import StepUpState
from panel_app.state.tab_check import TabCheck, _ReportBudget, is_user_action, one_line
from tests.state_harness import login_token, tab_state
from tests.ws import FRONTEND_EXCEPTION, HYDRATE_AND_LOAD, event, router_data

ROUTER = router_data("/invoices")


def _event(state_cls, handler: str, payload=None, from_browser=True) -> Event:
    return event(state_cls, handler, payload, router=dict(ROUTER) if from_browser else {})


def _root(state):
    while state.parent_state is not None:
        state = state.parent_state
    return state


def _opened_pages(user, token):
    invoices = tab_state(InvoicesState, token, "/invoices")
    invoices.load()
    security = _root(invoices).get_substate(SecurityState.get_full_name().split(".")[1:])
    security.load()
    assert invoices.loaded and security.loaded and security.sessions
    return invoices, security


async def _run(state, event):
    return await TabCheck().preprocess(None, _root(state), event)


async def test_a_token_with_another_cookie_gets_an_empty_tab(make_user):
    owner = make_user()
    invoices, security = _opened_pages(owner, login_token(owner, grant_method="email"))
    stranger = make_user(email="stranger@test.example", phone="+4915100000001")
    _root(invoices).router = type(_root(invoices).router).from_router_data(
        {"headers": {"cookie": f"panel_session={login_token(stranger)}"}, **ROUTER})
    assert await _run(invoices, _event(AuthState, "hydrate_and_load")) is None
    auth = _root(invoices).get_substate(AuthState.get_full_name().split(".")[1:])
    assert not invoices.loaded and invoices.totals == [] and security.sessions == []
    assert auth.user_email == "" and auth._bound_session_id is None


async def test_a_signed_out_cookie_empties_the_tab_and_forgets_its_row(make_user):
    owner = make_user()
    token = login_token(owner, grant_method="email")
    invoices, security = _opened_pages(owner, token)
    with transaction() as db:
        sessions.revoke_session(db, sessions.find_by_token(db, token), reason="logout", now=utcnow())
    await _run(invoices, _event(AuthState, "hydrate_and_load"))
    assert not invoices.loaded and invoices.totals == [] and security.sessions == []


async def test_an_ended_grant_empties_the_sensitive_pages_only(make_user):
    owner = make_user()
    token = login_token(owner, grant_method="email")
    invoices, security = _opened_pages(owner, token)
    with transaction() as db:
        sessions.end_grant(db, sessions.find_by_token(db, token), now=utcnow())
    await _run(invoices, _event(StepUpState, "prepare"))
    auth = _root(invoices).get_substate(AuthState.get_full_name().split(".")[1:])
    assert not invoices.loaded and not security.loaded and not auth.grant_active
    assert auth.user_email == owner.email  # the shell stays: the gate shows


async def test_a_live_tab_keeps_its_pages(make_user):
    owner = make_user()
    invoices, security = _opened_pages(owner, login_token(owner, grant_method="email"))
    await _run(invoices, _event(AuthState, "hydrate_and_load"))
    assert invoices.loaded and security.loaded


async def test_only_user_actions_extend_the_session(make_user):
    owner = make_user()
    token = login_token(owner, grant_method="email")
    invoices, _security = _opened_pages(owner, token)
    an_hour_ago = utcnow() - timedelta(minutes=20)
    with transaction() as db:
        row = sessions.find_by_token(db, token)
        row.last_seen_at = an_hour_ago
        db.add(row)

    def last_seen():
        with transaction() as db:
            return db.exec(select(LoginSession.last_seen_at)).one()

    for automatic in (_event(AuthState, "hydrate_and_load"), _event(AuthState, "tick"),
                      _event(StepUpState, "poll"), _event(StepUpState, "prepare"),
                      _event(InvoicesState, "load"), _event(InvoicesState, "download_invoice", from_browser=False)):
        assert not is_user_action(automatic)
        await _run(invoices, automatic)
        assert last_seen() == an_hour_ago, automatic.name
    click = _event(InvoicesState, "download_invoice", {"number": "x"})
    assert is_user_action(click)
    await _run(invoices, click)
    assert last_seen() > an_hour_ago


async def test_setvar_without_a_setter_is_refused_before_reflex_sees_it(make_user):
    owner = make_user()
    invoices, _security = _opened_pages(owner, login_token(owner, grant_method="email"))
    for payload in ({"var_name": "loaded", "value": True}, {"var_name": "__class__", "value": 1},
                    {"var_name": ["x"], "value": 1}, "not a dict"):
        update = await _run(invoices, _event(InvoicesState, "setvar", payload))
        assert update is not None and not update.delta


async def test_frontend_error_reports_need_strings_and_a_budget(make_user):
    gate = tab_state(StepUpState, None, "/login")
    report = Event(name=FRONTEND_EXCEPTION, router_data=dict(ROUTER),
                   payload={"info": {"x": 1}, "component_stack": ""})
    assert await TabCheck().preprocess(None, _root(gate), report) is not None


def test_report_budget_is_five_per_tab_per_minute():
    budget = _ReportBudget(size=3)
    assert [budget.allow("a") for _ in range(7)] == [True] * 5 + [False] * 2
    assert budget.allow("b")
    for token in "cdefg":  # bounded memory: old tabs are forgotten
        budget.allow(token)
    assert budget.allow("a")


def test_client_text_becomes_one_short_escaped_line():
    line = one_line("ok\n2026-11-28 INFO login ok\r\x1b[31m" + "A" * 5000)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert line.startswith("ok\\n2026") and len(line) <= 301
    assert one_line({"not": "text"}) == "<class 'dict'>"


def test_only_events_for_real_handlers_with_fitting_payloads_reach_reflex():
    from panel_app.state.profile import ProfileState
    from panel_app.state.push import _plausible_event

    begin = f"{ProfileState.get_full_name()}.begin_change"
    assert _plausible_event({"name": begin, "payload": {"kind": "email"}, "router_data": {"pathname": "/profile"}})
    assert _plausible_event({"name": HYDRATE_AND_LOAD, "payload": {"hashes": []}})
    for junk in ({"name": begin, "payload": {}}, {"name": begin, "payload": {"kind": "x", "extra": 1}},
                 {"name": "a.b"}, {"name": f"{ProfileState.get_full_name()}._schedule"},
                 {"name": begin, "payload": "x"}, {"name": begin, "router_data": "x"}, "text", ["list"],
                 {"name": "D" * 400}, {"name": begin, "payload": {"kind": "email"}, "router_data": {"a": 1}}):
        assert not _plausible_event(junk), junk


async def test_the_guard_adopts_only_the_check_of_its_own_event_and_cookie(make_user):
    """One database read per event: the guard takes the tab check's answer, but only for
    the same cookie, only while that event runs and only for a moment."""
    owner = make_user()
    token = login_token(owner, grant_method="email")
    invoices, _security = _opened_pages(owner, token)
    await _run(invoices, _event(ForgotState, "choose_language", {"lang": "en"}))
    assert guard._this_event.get() is None  # not a guarded handler: nothing kept
    await _run(invoices, _event(InvoicesState, "download_invoice", {"number": "x"}))
    with transaction() as db:  # signed out between the check and the handler of one event
        sessions.revoke_session(db, sessions.find_by_token(db, token), reason="logout", now=utcnow())
    invoices.load()
    assert invoices.loaded  # the event's own check said live: one read per event

    invoices.load()  # the answer is taken once: a second call reads again
    assert not invoices.loaded and invoices.totals == []


async def test_an_answer_for_another_cookie_or_too_old_is_not_adopted(make_user):
    owner = make_user()
    live = login_token(owner, grant_method="email")
    invoices, _security = _opened_pages(owner, live)
    revoked = login_token(owner, grant_method="email")
    with transaction() as db:
        view = sessions.peek_session(db.connection(), live, now=utcnow(), idle_seconds=3600)
        sessions.revoke_session(db, sessions.find_by_token(db, revoked), reason="logout", now=utcnow())
    try:
        guard.remember_resolution(live, view, utcnow())  # an answer for another cookie
        _root(invoices).router = type(_root(invoices).router).from_router_data(
            {"headers": {"cookie": f"panel_session={revoked}"}, **ROUTER})
        invoices.load()
        assert not invoices.loaded

        invoices, _security = _opened_pages(owner, live)
        with transaction() as db:
            sessions.revoke_session(db, sessions.find_by_token(db, live), reason="logout", now=utcnow())
        guard.remember_resolution(live, view, utcnow() - guard.ADOPT_WITHIN)  # too old
        invoices.load()
        assert not invoices.loaded
    finally:
        guard.forget_resolution()


async def test_junk_client_storage_values_are_refused_before_reflex_raises():
    """Reflex's hydrate_and_load and update_vars_internal raise (a traceback in the log per
    event, no login needed) on vars naming no state, a vars or hashes of the wrong type."""
    gate = tab_state(StepUpState, None, "/login")
    hydrate = "reflex___state____state.hydrate_and_load"
    update_vars = "reflex___state____state.reflex___state____update_vars_internal_state.update_vars_internal"
    for name, payload in ((update_vars, {"vars": {"nosuch.state.x": 1}}), (update_vars, {"vars": ["a"]}),
                          (update_vars, {"vars": {"x": 1}}), (hydrate, {"vars": {"zz.q": 1}}),
                          (hydrate, {"vars": "s"}), (hydrate, {"hashes": 5}), (hydrate, {"hashes": [1, 2]}),
                          (hydrate, {"vars": {f"{AuthState.get_full_name()}.user_email": "x"}})):
        update = await TabCheck().preprocess(None, _root(gate), Event(name=name, payload=payload,
                                                                      router_data=dict(ROUTER)))
        assert update is not None and not update.delta, (name, payload)
    for payload in ({}, {"vars": {}, "hashes": []}, {"hashes": ["d41d8cd9"] * 3}):
        assert await TabCheck().preprocess(None, _root(gate), Event(name=hydrate, payload=payload,
                                                                    router_data=dict(ROUTER))) is None


def test_report_budget_holds_for_all_tabs_together():
    """The client token is the client's choice: a new token per socket must not buy a new
    budget each time."""
    budget = _ReportBudget(all_tabs_per_minute=12)
    allowed = [budget.allow(f"tab-{n:04d}") for n in range(40) for _ in range(2)]
    assert allowed.count(True) == 12 and allowed[:12] == [True] * 12


async def test_the_staff_countdown_reaching_zero_does_not_extend_the_staff_session(make_user):
    """The console's grant countdown sends its page's load when it reaches zero (and the
    load is every staff page's on_load): automatic, so the 15 idle minutes hold."""
    from panel_app.models import StaffSession
    from panel_app.security import staff
    from panel_app.state.staff import StaffAdminState, StaffQueueState, StaffSecurityState, StaffTicketState
    from tests.test_staff import _customer, _staff, _staff_token

    _customer(make_user)
    token = _staff_token(_staff())
    page = tab_state(StaffQueueState, None, "/staff/tickets", cookies={staff.COOKIE_NAME: token})
    page.load()
    ten_minutes_ago = utcnow() - timedelta(minutes=10)
    with transaction() as db:
        row = staff.resolve(db, token, now=utcnow(), idle_seconds=900).session
        row.last_seen_at = ten_minutes_ago
        db.add(row)
    for cls in (StaffQueueState, StaffTicketState, StaffAdminState, StaffSecurityState):
        countdown_at_zero = _event(cls, "load")
        assert not is_user_action(countdown_at_zero), cls.__name__
        await _run(page, countdown_at_zero)
    with transaction() as db:
        assert db.get(StaffSession, row.id).last_seen_at == ten_minutes_ago


async def test_an_ended_grant_empties_a_page_and_every_part_of_it(make_user):
    """The DNS page holds its data in parts (the record form, the auth code): when the
    grant ends, every field of the page and of each part is back to its default."""
    owner = make_user()
    with transaction() as db:
        domain = Domain(account_id=owner.account_id, name="parts.example", registered_on=date(2020, 3, 1),
                        expires_on=date(2027, 3, 1))
        db.add(domain)
        db.flush()
        db.add(DnsRecord(domain_id=domain.id, name="www", rtype="A", ttl=3600, value="192.0.2.44"))
    token = login_token(owner, grant_method="email")
    page = tab_state(DnsState, token, "/domains/parts.example")
    page.load()
    form = page.substates[DnsRecordFormState.get_name()]
    auth_code = page.substates[DnsAuthCodeState.get_name()]
    form.save_record({"rtype": "A", "name": "typed", "ttl": "3600", "value": "not-an-address"})
    assert page.records and form.form_value == "not-an-address" and form.value_error
    with transaction() as db:
        sessions.end_grant(db, sessions.find_by_token(db, token), now=utcnow())
    await _run(page, _event(StepUpState, "prepare"))
    for state in (page, form, auth_code):
        cls = type(state)
        for name, field in cls.__fields__.items():
            if field._owner is cls:
                assert getattr(state, name) == field.default_value(), f"{cls.__name__}.{name} was not wiped"
