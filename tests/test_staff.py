"""The support console (issue 10): staff accounts and sessions, the identity checklist,
scheduling through the self-service mechanism, four-eyes, and the wall between staff
and customer handlers."""

from __future__ import annotations

import dataclasses
import inspect
from datetime import date, timedelta

import pytest
from sqlmodel import select

from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.models import (Account, AuditEvent, FactorChange, Invoice, InvoiceLine, PaymentMethod,
                              StaffAuditEvent, StaffUser, Ticket, TicketMessage, User)
from panel_app.security import staff, totp
from panel_app.services import (authenticator_setup, factor_changes, postal_letters, staff_recovery, staff_support,
                                support)
from panel_app.services.audit import Actor
from panel_app.services.methods import authenticator
from panel_app.services.validation import ValidationError
from panel_app.state import guard
from panel_app.state.gated import gated_page_classes
from panel_app.state.staff import (STAFF_GUARD_MARKER, StaffAdminState, StaffQueueState, StaffSecurityState,
                                   StaffState, StaffTicketState)
from tests.state_harness import login_token, tab_state

import panel_app.pages.registry  # noqa: F401,E402  (every page state exists, as in the app)

SECRET = "ZQUFC3DT4XIU4D2BF7GCXRAZB6DSTZME"
ADMIN_SECRET = "3XCNYJWXPYMCPQBD6B6N6X3GAAXIZ2WF"


def _staff(email="agent@test.example", name="Maria Keller", admin=False, secret=SECRET) -> StaffUser:
    now = utcnow()
    with transaction() as db:
        member, token = staff.create(db, email=email, name=name, admin=admin, now=now)
        assert staff.setup_account(db, token, "a-long-staff-password-1", now=now) is not None
        member.totp_secret_enc, member.totp_enabled_at = totp.encrypt_secret(secret), now
        db.add(member)
        return member


def _staff_token(member: StaffUser, *, grant: bool = True, secret: str = SECRET) -> str:
    now = utcnow()
    with transaction() as db:
        result = staff.login(db, email=member.email, password="a-long-staff-password-1", ip="192.0.2.9",
                             user_agent="pytest", now=now)
        assert result.ok
        if grant:
            resolved = staff.resolve(db, result.token, now=now, idle_seconds=900)
            assert staff.verify(db, resolved, totp.code_at(secret, now), now=now).ok
        return result.token


def _customer(make_user) -> tuple[User, Ticket]:
    """A customer with everything the checklist asks about, and a contact-update ticket."""
    user = make_user()
    now = utcnow()
    with transaction() as db:
        account = db.get(Account, user.account_id)
        # A whole postal address: a letter by post can go there.
        account.street, account.postal_code, account.city = "Oranienstraße 1", "10969", "Berlin"
        db.add(account)
        invoice = Invoice(account_id=account.id, number=f"2026-{777 + account.id - 1:06d}", issue_date=date(2026, 11, 1),
                          supply_date=date(2026, 10, 31), due_date=date(2026, 11, 15))
        db.add(invoice)
        db.flush()
        db.add(InvoiceLine(invoice_id=invoice.id, description="Hosting", quantity=1, unit_net_cents=1000,
                           vat_rate_percent=19))
        db.add(PaymentMethod(account_id=account.id, kind="card", brand="Visa", last4="4242", token="tok"))
        actor = Actor.for_user(db.get(User, user.id))
        request = support.create_contact_update_ticket(db, actor, db.get(User, user.id), channel="whatsapp", now=now)
        return user, db.get(Ticket, request.ticket.id)


def _answers(db, user, **override) -> dict:
    account = db.get(Account, user.account_id)
    invoice = db.exec(select(Invoice).where(Invoice.account_id == account.id)).one()
    answers = {"customer_number": account.customer_number, "invoice_number": invoice.number,
               "invoice_amount": "11,90 €", "payment_last4": "4242", "postal_code": "10969"}
    answers.update(override)
    return answers


def db_customer_number(user: User) -> str:
    with transaction() as db:
        return db.get(Account, user.account_id).customer_number


def _with_app(user: User, now) -> None:
    """The customer has an authenticator app."""
    with transaction() as db:
        fresh = db.get(User, user.id)
        secret, _ = authenticator_setup.begin_totp_enrollment(db, fresh, now)
        assert authenticator_setup.confirm_totp_enrollment(db, fresh, totp.code_at(secret, now), now, Actor.for_user(fresh)).ok


def _actor(member: StaffUser) -> staff_support.StaffActor:
    return staff_support.StaffActor.of(member, "192.0.2.9")


LETTER_CODE = "abcd-efgh-jkmn"


def _letter_sent(db, agent: StaffUser, user: User, ticket: Ticket, now, code: str = LETTER_CODE):
    """A passed screening by ``agent`` and a letter with ``code`` to the customer's address."""
    staff_recovery.check_evidence(db, _actor(agent), ticket.id, _answers(db, user), now=now)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(postal_letters, "_new_code", lambda: code)
        return postal_letters.request_letter(db, _actor(agent), ticket.id, now=now)


def _proven_by_letter(db, agent: StaffUser, user: User, ticket: Ticket, now) -> None:
    """The customer entered the code of a letter of this ticket."""
    _letter_sent(db, agent, user, ticket, now)
    fresh = db.get(User, user.id)
    assert postal_letters.redeem(db, Actor.for_user(fresh), fresh, LETTER_CODE.upper(), now=now).ok


# --- the checklist ---------------------------------------------------------------------


@pytest.mark.parametrize("override, matched", [
    ({}, {"customer_number", "invoice", "payment_last4", "postal_code"}),
    ({"invoice_amount": "11.90"}, {"customer_number", "invoice", "payment_last4", "postal_code"}),
    ({"invoice_amount": "12,90"}, {"customer_number", "payment_last4", "postal_code"}),
    ({"payment_last4": "4243", "postal_code": "10 969 "}, {"customer_number", "invoice", "postal_code"}),
    ({"customer_number": "", "invoice_number": "", "payment_last4": "", "postal_code": ""}, set()),
    ({"postal_code": None, "payment_last4": ["4242"], "customer_number": 12}, {"invoice"}),
])
def test_the_checklist_compares_without_showing_stored_values(make_user, override, matched):
    user, ticket = _customer(make_user)
    member = _staff()
    with transaction() as db:
        found, passed = staff_recovery.check_evidence(db, _actor(member), ticket.id, _answers(db, user, **override),
                                                      now=utcnow())
    assert set(found) == matched and passed == (len(matched) >= 3)


def test_three_failed_checks_close_the_ticket_to_further_checks(make_user):
    user, ticket = _customer(make_user)
    agent = _staff()
    with transaction() as db:
        for guess in ("11111", "22222", "33333"):
            assert not staff_recovery.check_evidence(db, _actor(agent), ticket.id,
                                                     _answers(db, user, postal_code=guess, payment_last4="0000"),
                                                     now=utcnow())[1]
        with pytest.raises(ValidationError):  # even the right answers now
            staff_recovery.check_evidence(db, _actor(agent), ticket.id, _answers(db, user), now=utcnow())


def test_scheduling_needs_a_passed_check_by_this_agent_within_30_minutes(make_user):
    user, ticket = _customer(make_user)
    agent, other = _staff(), _staff(email="other@test.example", name="Olaf Other")
    now = utcnow()
    with transaction() as db:
        with pytest.raises(ValidationError):
            staff_recovery.schedule_contact_change(db, _actor(agent), ticket.id, "phone", "+4917698765434", now=now,
                                                   delay_seconds=3600)
        staff_recovery.check_evidence(db, _actor(agent), ticket.id, _answers(db, user, postal_code="1"), now=now)
        with pytest.raises(ValidationError):
            staff_recovery.schedule_contact_change(db, _actor(other), ticket.id, "phone", "+4917698765434", now=now,
                                                   delay_seconds=3600)
        with pytest.raises(ValidationError):
            staff_recovery.schedule_contact_change(db, _actor(agent), ticket.id, "phone", "+4917698765434",
                                                   now=now + timedelta(minutes=31), delay_seconds=3600)
        change, _user = staff_recovery.schedule_contact_change(db, _actor(agent), ticket.id, "phone",
                                                               "+4917698765434", now=now, delay_seconds=3600)
        assert change.requested_by == "Support (Maria)"
    with transaction() as db:
        assert db.get(User, user.id).phone == "+4915112345612"  # nothing changed yet: it waits
        assert [c.kind for c in factor_changes.pending(db, user.id)] == ["phone"]
        customer_log = [e.actor_label for e in db.exec(select(AuditEvent).where(
            AuditEvent.account_id == user.account_id, AuditEvent.action == "contact_change_scheduled"))]
        assert customer_log == ["Support (Maria)"]
        assert db.exec(select(StaffAuditEvent).where(StaffAuditEvent.action == "contact_change_scheduled")).one()
        assert factor_changes.apply_due(db, now=now + timedelta(hours=1))
        assert db.get(User, user.id).phone == "+4917698765434"


def test_the_customer_cancels_a_change_support_scheduled(make_user):
    user, ticket = _customer(make_user)
    agent = _staff()
    now = utcnow()
    with transaction() as db:
        staff_recovery.check_evidence(db, _actor(agent), ticket.id, _answers(db, user), now=now)
        change, _ = staff_recovery.schedule_contact_change(db, _actor(agent), ticket.id, "email", "new@test.example",
                                                           now=now, delay_seconds=3600)
        customer = db.get(User, user.id)
        with pytest.raises(ValidationError):  # not from the mailbox the change replaces
            factor_changes.cancel(db, Actor.for_user(customer), customer, change.id, now=now, by="email")
        factor_changes.cancel(db, Actor.for_user(customer), customer, change.id, now=now, by="whatsapp")
        assert factor_changes.apply_due(db, now=now + timedelta(hours=2)) == []


def test_refusing_closes_the_ticket_with_the_reason_and_first_name_only(make_user):
    user, ticket = _customer(make_user)
    agent = _staff()
    with transaction() as db:
        staff_recovery.refuse(db, _actor(agent), ticket.id, "We could not confirm your identity.", now=utcnow())
        closed = db.get(Ticket, ticket.id)
        last = db.exec(select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
                       .order_by(TicketMessage.id.desc())).first()
        assert closed.status == "closed" and last.body == "We could not confirm your identity."
        assert last.author_label == "Support (Maria)" and "Keller" not in last.author_label
        assert support.get_ticket(db, support.scope_for(user), ticket.id).messages[-1].from_support


def test_removing_a_customers_app_needs_a_second_staff_admin(make_user):
    user, ticket = _customer(make_user)
    now = utcnow()
    _with_app(user, now)
    agent = _staff()
    admin = _staff(email="admin@test.example", name="Stefan Wolf", admin=True, secret=ADMIN_SECRET)
    with transaction() as db:
        with pytest.raises(ValidationError):  # no identity check yet
            staff_recovery.request_totp_removal(db, _actor(agent), ticket.id, "Lost phone", now=now)
        staff_recovery.check_evidence(db, _actor(agent), ticket.id, _answers(db, user), now=now)
        with pytest.raises(ValidationError):  # the screening is no proof: a letter's code is
            staff_recovery.request_totp_removal(db, _actor(agent), ticket.id, "Lost phone", now=now)
        _proven_by_letter(db, agent, user, ticket, now)
        request = staff_recovery.request_totp_removal(db, _actor(agent), ticket.id, "Lost phone", now=now)
        with pytest.raises(ValidationError):  # an agent cannot decide
            staff_recovery.decide(db, _actor(agent), db.get(StaffUser, agent.id), request.id, approve=True, now=now)
    with transaction() as db:  # an admin cannot approve their own request
        staff_recovery.check_evidence(db, _actor(admin), ticket.id, _answers(db, user), now=now)
        with pytest.raises(ValidationError):
            staff_recovery.request_totp_removal(db, _actor(admin), ticket.id, "again", now=now)  # one at a time
        _row, customer = staff_recovery.decide(db, _actor(admin), db.get(StaffUser, admin.id), request.id,
                                               approve=True, now=now)
        assert not authenticator.is_enrolled(db, db.get(User, customer.id))
        with pytest.raises(ValidationError):  # decided once
            staff_recovery.decide(db, _actor(admin), db.get(StaffUser, admin.id), request.id, approve=False, now=now)


def test_a_staff_admin_cannot_approve_their_own_request(make_user):
    user, ticket = _customer(make_user)
    now = utcnow()
    _with_app(user, now)
    admin = _staff(email="admin@test.example", name="Stefan Wolf", admin=True, secret=ADMIN_SECRET)
    with transaction() as db:
        _proven_by_letter(db, admin, user, ticket, now)
        request = staff_recovery.request_totp_removal(db, _actor(admin), ticket.id, "Lost phone", now=now)
        with pytest.raises(ValidationError):
            staff_recovery.decide(db, _actor(admin), db.get(StaffUser, admin.id), request.id, approve=True, now=now)


def test_no_secret_in_any_staff_view_model(make_user):
    user, ticket = _customer(make_user)
    agent = _staff()
    with transaction() as db:
        view = staff_support.view_ticket(db, _actor(agent), ticket.id, now=utcnow())
        fresh = db.get(User, user.id)
        text = repr(dataclasses.asdict(view)) + repr(staff_support.queue(db, now=utcnow()))
        text += repr(staff_support.staff_audit(db)) + repr(staff_recovery.pending_requests(db))
    customer_number = db_customer_number(user)
    for secret in (fresh.email, fresh.phone, fresh.password_hash, "4242", "10969", customer_number):
        assert secret not in text
    assert view.requester_email.startswith("o•••@") and view.requester_phone.endswith("12")


# --- accounts and sessions -------------------------------------------------------------


def test_a_setup_link_works_once_and_a_weak_password_keeps_it(make_user):
    now = utcnow()
    with transaction() as db:
        _member, token = staff.create(db, email="new@test.example", name="New Agent", admin=False, now=now)
        with pytest.raises(ValidationError):
            staff.setup_account(db, token, "short", now=now)
        assert staff.setup_account(db, token, "a-long-staff-password-1", now=now) is not None
        assert staff.setup_account(db, token, "a-long-staff-password-2", now=now) is None


def test_the_cookies_never_cross(make_user):
    user = make_user()
    member = _staff()
    customer_token = login_token(user, grant_method="email")
    staff_token = _staff_token(member)
    now = utcnow()
    with transaction() as db:
        assert staff.resolve(db, customer_token, now=now, idle_seconds=900) is None
        from panel_app.security import sessions
        assert sessions.resolve_session(db, staff_token, now=now, idle_seconds=900) is None


def test_staff_sessions_time_out_after_15_idle_minutes(make_user):
    member = _staff()
    token = _staff_token(member)
    with transaction() as db:
        assert staff.resolve(db, token, now=utcnow() + timedelta(minutes=16), idle_seconds=900) is None


def test_without_an_app_no_staff_page_opens_until_it_is_set_up(make_user):
    _customer(make_user)
    now = utcnow()
    with transaction() as db:
        member, token = staff.create(db, email="fresh@test.example", name="Fresh Agent", admin=False, now=now)
        staff.setup_account(db, token, "a-long-staff-password-1", now=now)
    token = _staff_token(member, grant=False)
    page = tab_state(StaffQueueState, None, "/staff/tickets", cookies={staff.COOKIE_NAME: token})
    page.load()
    assert page.rows == [] and not page.gate_open and page.needs_app
    page.begin_setup()
    with transaction() as db:
        pending = totp.decrypt_secret(db.get(StaffUser, member.id).totp_pending_secret_enc)
    page.verify({"code": totp.code_at(pending, utcnow())})
    assert page.gate_open and not page.needs_app
    page.load()
    assert page.rows  # the customer's ticket


# --- the wall between the two sides ---------------------------------------------------------


def _staff_handlers() -> list[tuple[type, str]]:
    found = []
    for cls in (StaffState, StaffQueueState, StaffTicketState, StaffAdminState, StaffSecurityState):
        for name, handler in cls.event_handlers.items():
            if getattr(handler.fn, STAFF_GUARD_MARKER, None) is not None:
                found.append((cls, name))
    return found


def _call(page, name):
    fn = type(page).event_handlers[name].fn
    args = [{} if p.annotation in ("dict", dict) else "1" for p in list(inspect.signature(fn).parameters.values())[1:]]
    return fn(page, *args)


@pytest.mark.parametrize("cls, name", _staff_handlers(), ids=lambda v: getattr(v, "__name__", v))
def test_a_customer_session_calling_a_staff_handler_is_refused(make_user, cls, name):
    user, _ticket = _customer(make_user)
    page = tab_state(cls, login_token(user, grant_method="totp"), "/staff/tickets")
    _call(page, name)
    assert not page.staff_signed_in and not page.gate_open
    with transaction() as db:
        assert not db.exec(select(StaffAuditEvent)).all() and not db.exec(select(FactorChange)).all()


def _customer_handlers() -> list[tuple[type, str]]:
    return [(cls, name) for cls in gated_page_classes() for name, handler in cls.event_handlers.items()
            if getattr(handler.fn, guard.GUARD_MARKER, None) is not None]


@pytest.mark.parametrize("cls, name", _customer_handlers(), ids=lambda v: getattr(v, "__name__", v))
def test_a_staff_session_calling_a_customer_handler_is_refused(make_user, cls, name):
    _customer(make_user)
    member = _staff()
    page = tab_state(cls, None, "/invoices", cookies={staff.COOKIE_NAME: _staff_token(member)})
    _call(page, name)
    assert not page.signed_in and not getattr(page, "loaded", False)


HOSTILE = [None, 0, -1, 2 ** 70, 1.5, [], ["1"], {}, "", "x" * 100_000, "٣", "1; DROP TABLE ticket", "\x00",
           {"body": "\x00" * 5, "kind": ["phone"], "value": {"a": 1}, "code": 123456, "reason": "r" * 10_000,
            "customer_number": ["1"], "invoice_amount": "1e308", "payment_last4": "４２４２"},
           *({"invoice_number": "2026-000777", "invoice_amount": amount} for amount in ("inf", "1e400", "-Infinity"))]


@pytest.mark.parametrize("cls, name", [(c, n) for c, n in _staff_handlers()
                                       if len(inspect.signature(c.event_handlers[n].fn).parameters) > 1],
                         ids=lambda v: getattr(v, "__name__", v))
def test_staff_handlers_refuse_hostile_values_cleanly(make_user, cls, name):
    user, ticket = _customer(make_user)
    admin = _staff(email="admin@test.example", name="Stefan Wolf", admin=True, secret=ADMIN_SECRET)
    page = tab_state(cls, None, f"/staff/tickets/{ticket.id}", query={"ticket": str(ticket.id)},
                     cookies={staff.COOKIE_NAME: _staff_token(admin, secret=ADMIN_SECRET)})
    assert cls is not StaffTicketState or page._ticket_param() == str(ticket.id)  # the services are reached
    fn = cls.event_handlers[name].fn
    extra = len(inspect.signature(fn).parameters) - 1
    for value in HOSTILE:
        fn(page, *([value] * extra))
    with transaction() as db:
        assert db.get(User, user.id).phone == "+4915112345612" and not db.exec(select(FactorChange)).all()


async def test_a_staff_tab_holds_nothing_once_its_session_or_grant_ends(make_user):
    """What Reflex would hand out to a client token (hydrate) after sign-out or expiry."""
    from panel_app.state.staff import check_staff_tab

    _user, ticket = _customer(make_user)
    member = _staff()
    token = _staff_token(member)
    page = tab_state(StaffTicketState, None, f"/staff/tickets/{ticket.id}", cookies={staff.COOKIE_NAME: token})
    queue = await page.get_state(StaffQueueState)
    queue.load()
    assert queue.rows
    with transaction() as db:  # the grant runs out
        row = staff.resolve(db, token, now=utcnow(), idle_seconds=900).session
        staff.end_grant(db, row)
    await check_staff_tab(page)
    assert queue.rows == [] and not queue.gate_open
    queue.load()
    assert queue.rows == []  # the gate, not the data
    with transaction() as db:
        staff.logout(db, token, now=utcnow())
    await check_staff_tab(page)
    assert not queue.staff_signed_in and queue.staff_name == ""


def test_an_agent_gets_at_most_10_failed_checks_an_hour_over_all_tickets(make_user):
    agent = _staff()
    tickets = [_customer(lambda **kw: make_user(email=f"c{i}@test.example", **kw)) for i in range(4)]
    refused = 0
    with transaction() as db:
        for user, ticket in tickets:
            for _ in range(3):
                try:
                    staff_recovery.check_evidence(db, _actor(agent), ticket.id,
                                                  _answers(db, user, postal_code="0", payment_last4="0000",
                                                           invoice_amount="1"), now=utcnow())
                except ValidationError as exc:
                    refused += exc.message_key == "staff.error.agent_checks"
    assert refused == 2  # checks 11 and 12


def test_a_closed_ticket_drives_no_check_and_no_app_removal(make_user):
    user, ticket = _customer(make_user)
    agent = _staff()
    now = utcnow()
    _with_app(user, now)
    with transaction() as db:
        staff_recovery.check_evidence(db, _actor(agent), ticket.id, _answers(db, user), now=now)
        staff_recovery.refuse(db, _actor(agent), ticket.id, "Could not confirm.", now=now)
        for attempt in (lambda: staff_recovery.check_evidence(db, _actor(agent), ticket.id, _answers(db, user), now=now),
                        lambda: staff_recovery.request_totp_removal(db, _actor(agent), ticket.id, "x", now=now)):
            with pytest.raises(ValidationError):
                attempt()


def test_an_approval_a_day_later_is_refused(make_user):
    user, ticket = _customer(make_user)
    now = utcnow()
    admin, request = _removal_requested(user, ticket, now)
    with transaction() as db:
        with pytest.raises(ValidationError):
            staff_recovery.decide(db, _actor(admin), db.get(StaffUser, admin.id), request.id, approve=True,
                                  now=now + timedelta(hours=25))
        assert authenticator.is_enrolled(db, db.get(User, user.id))


def test_support_never_replaces_a_change_the_customer_is_waiting_for(make_user):
    user, ticket = _customer(make_user)
    agent = _staff()
    now = utcnow()
    with transaction() as db:
        factor_changes.schedule(db, Actor.for_user(db.get(User, user.id)), db.get(User, user.id), "phone",
                                "+4917611111111", now=now, delay_seconds=3600, requested_by="owner", by=factor_changes.BY_PANEL)
        staff_recovery.check_evidence(db, _actor(agent), ticket.id, _answers(db, user), now=now)
        with pytest.raises(ValidationError):
            staff_recovery.schedule_contact_change(db, _actor(agent), ticket.id, "phone", "+4917698765434",
                                                   now=now, delay_seconds=3600)
        assert [c.new_value for c in factor_changes.pending(db, user.id)] == ["+4917611111111"]


async def test_a_working_agent_is_not_signed_out_after_15_minutes(make_user):
    from panel_app.models import StaffSession
    from panel_app.state.staff import check_staff_tab

    _customer(make_user)
    member = _staff()
    token = _staff_token(member)
    page = tab_state(StaffQueueState, None, "/staff/tickets", cookies={staff.COOKIE_NAME: token})
    page.load()
    with transaction() as db:
        row = staff.resolve(db, token, now=utcnow(), idle_seconds=900).session
        row.last_seen_at = utcnow() - timedelta(minutes=10)
        db.add(row)
    await check_staff_tab(page, touch=True)  # a click on a staff page
    with transaction() as db:
        assert (utcnow() - db.get(StaffSession, row.id).last_seen_at).total_seconds() < 5


# --- four-eyes bound to the app it removes (issue 20, item 4) ----------------------------------


def _removal_requested(user: User, ticket: Ticket, now):
    """The customer has an app; an agent (after a letter's proof) asks for its removal."""
    _with_app(user, now)
    agent = _staff()
    admin = _staff(email="admin@test.example", name="Stefan Wolf", admin=True, secret=ADMIN_SECRET)
    with transaction() as db:
        _proven_by_letter(db, agent, user, ticket, now)
        request = staff_recovery.request_totp_removal(db, _actor(agent), ticket.id, "Lost phone", now=now)
    return admin, request


def _active_secret(user: User) -> str | None:
    with transaction() as db:
        row = authenticator.row_of(db, user.id)
        return row.secret_enc if row is not None else None


def _approve(admin: StaffUser, request_id: int, now) -> str:
    with transaction() as db:
        try:
            staff_recovery.decide(db, _actor(admin), db.get(StaffUser, admin.id), request_id, approve=True, now=now)
        except ValidationError as exc:
            return exc.message_key
    return ""


def test_an_approval_after_the_customer_replaced_the_app_is_refused_and_the_new_app_stays(make_user):
    user, ticket = _customer(make_user)
    now = utcnow()
    admin, request = _removal_requested(user, ticket, now)
    _with_app(user, now)  # the customer sets up a new app: the same row, a new secret, confirmed anew
    replaced = _active_secret(user)
    assert _approve(admin, request.id, now) == "staff.error.request_app_changed"
    assert _active_secret(user) == replaced
    with transaction() as db:
        assert authenticator.is_enrolled(db, db.get(User, user.id))
        assert db.get(staff_recovery.StaffRequest, request.id).status == "pending"  # only a rejection is left
        assert not db.exec(select(AuditEvent).where(AuditEvent.action == "totp_removal_approved")).all()


def test_an_approval_after_the_customer_removed_the_app_is_refused(make_user):
    user, ticket = _customer(make_user)
    now = utcnow()
    admin, request = _removal_requested(user, ticket, now)
    with transaction() as db:
        fresh = db.get(User, user.id)
        assert authenticator_setup.remove_totp(db, fresh, now, Actor.for_user(fresh))
    assert _approve(admin, request.id, now) in ("staff.error.request_stale", "staff.error.request_app_changed")
    _with_app(user, now)  # removed, then set up again (a new row): still not the app the request names
    assert _approve(admin, request.id, now) == "staff.error.request_app_changed"
    with transaction() as db:
        assert authenticator.is_enrolled(db, db.get(User, user.id))


def test_the_approved_removal_spares_an_app_set_up_after_the_check(make_user):
    """Between the approval's check and its DELETE a new app is confirmed: the conditional
    removal keeps it."""
    user, _ticket = _customer(make_user)
    now = utcnow()
    _with_app(user, now)
    checked = _active_secret(user)
    _with_app(user, now)
    with transaction() as db:
        fresh = db.get(User, user.id)
        assert not authenticator_setup.remove_totp(db, fresh, now, Actor.for_user(fresh), only_secret_enc=checked)
        assert authenticator.is_enrolled(db, fresh)
        assert not db.exec(select(AuditEvent).where(AuditEvent.action == "totp_removed")).all()


def test_an_approval_of_the_named_app_removes_it(make_user):
    user, ticket = _customer(make_user)
    now = utcnow()
    admin, request = _removal_requested(user, ticket, now)
    assert _approve(admin, request.id, now) == ""
    with transaction() as db:
        assert not authenticator.is_enrolled(db, db.get(User, user.id))


def test_support_cancels_a_change_the_customer_did_not_ask_for(make_user):
    """Issue 20: the waiting change was made with only the mailbox; the owner, who cannot cancel
    it from that mailbox and has no other factor at hand, asks support. The reason lands in the
    ticket and both logs; a closed ticket, junk ids and another customer's change are refused."""
    user, ticket = _customer(make_user)
    other = make_user(email="other@test.example", phone="+4915100000009")
    agent = _staff()
    now = utcnow()
    with transaction() as db:
        customer = db.get(User, user.id)
        change = factor_changes.schedule(db, Actor.for_user(customer), customer, "email", "thief@evil.example",
                                         now=now, delay_seconds=3600, requested_by=customer.email, by=factor_changes.BY_PANEL)
        stranger = db.get(User, other.id)
        foreign = factor_changes.schedule(db, Actor.for_user(stranger), stranger, "phone", "+4915100000010",
                                          now=now, delay_seconds=3600, requested_by=stranger.email, by=factor_changes.BY_PANEL)
    with transaction() as db:
        for junk in (None, "x", -1, 10**30, {"id": change.id}, str(foreign.id)):
            with pytest.raises(ValidationError):
                staff_recovery.cancel_change(db, _actor(agent), ticket.id, junk, "Not requested", now=now)
        with pytest.raises(ValidationError):  # a reason is required
            staff_recovery.cancel_change(db, _actor(agent), ticket.id, change.id, "  ", now=now)
    with transaction() as db:
        staff_recovery.cancel_change(db, _actor(agent), ticket.id, change.id, "You told us on the phone.", now=now)
    with transaction() as db:
        assert factor_changes.pending(db, user.id) == []
        assert [p.id for p in factor_changes.pending(db, other.id)] == [foreign.id]
        assert db.exec(select(TicketMessage).where(TicketMessage.ticket_id == ticket.id,
                                                   TicketMessage.body == "You told us on the phone.")).first()
        assert db.exec(select(StaffAuditEvent).where(StaffAuditEvent.action == "contact_change_cancelled")).first()
        assert db.exec(select(AuditEvent).where(AuditEvent.action == "contact_change_cancelled",
                                                AuditEvent.account_id == user.account_id)).first()
        again = factor_changes.schedule(db, Actor.for_user(db.get(User, user.id)), db.get(User, user.id), "email",
                                        "thief@evil.example", now=now, delay_seconds=3600, requested_by="x", by=factor_changes.BY_PANEL)
        staff_support.close(db, _actor(agent), ticket.id, now=now)
    with transaction() as db:
        with pytest.raises(ValidationError):
            staff_recovery.cancel_change(db, _actor(agent), ticket.id, again.id, "Not requested", now=now)
        assert [p.id for p in factor_changes.pending(db, user.id)] == [again.id]


# --- issue 19: the latest check decides, the technician's checklist, words not kinds ------------


def test_a_later_failed_check_withdraws_the_pass_and_scheduling_is_refused(make_user):
    user, ticket = _customer(make_user)
    agent = _staff()
    now = utcnow()
    with transaction() as db:
        assert staff_recovery.check_evidence(db, _actor(agent), ticket.id, _answers(db, user), now=now)[1]
        assert staff_support.view_ticket(db, _actor(agent), ticket.id, now=now).evidence.passed
        wrong = _answers(db, user, postal_code="99999", payment_last4="0000")
        assert not staff_recovery.check_evidence(db, _actor(agent), ticket.id, wrong, now=now)[1]
        standing = staff_support.view_ticket(db, _actor(agent), ticket.id, now=now).evidence
        assert not standing.passed and standing.withdrawn
        with pytest.raises(ValidationError) as refused:
            staff_recovery.schedule_contact_change(db, _actor(agent), ticket.id, "phone", "+4917698765434", now=now,
                                                   delay_seconds=3600)
        assert refused.value.message_key == "staff.error.evidence_withdrawn"
        with pytest.raises(ValidationError) as no_letter, pytest.MonkeyPatch.context() as patch:
            patch.setattr(postal_letters, "_new_code", lambda: LETTER_CODE)
            postal_letters.request_letter(db, _actor(agent), ticket.id, now=now)
        assert no_letter.value.message_key == "staff.error.evidence_withdrawn"
        assert factor_changes.pending(db, user.id) == []
        # A new comparison that passes stands again: the latest check decides.
        assert staff_recovery.check_evidence(db, _actor(agent), ticket.id, _answers(db, user), now=now)[1]
        staff_recovery.schedule_contact_change(db, _actor(agent), ticket.id, "phone", "+4917698765434", now=now,
                                               delay_seconds=3600)
        assert [c.kind for c in factor_changes.pending(db, user.id)] == ["phone"]


def test_another_agents_failed_check_withdraws_my_pass_too(make_user):
    user, ticket = _customer(make_user)
    agent, other = _staff(), _staff(email="other@test.example", name="Olaf Other")
    now = utcnow()
    with transaction() as db:
        assert staff_recovery.check_evidence(db, _actor(agent), ticket.id, _answers(db, user), now=now)[1]
        staff_recovery.check_evidence(db, _actor(other), ticket.id, _answers(db, user, customer_number="1",
                                                                             postal_code="2"), now=now)
        with pytest.raises(ValidationError):
            staff_recovery.schedule_contact_change(db, _actor(agent), ticket.id, "email", "new@test.example",
                                                   now=now, delay_seconds=3600)


def test_the_ticket_page_withdraws_the_pass_in_words_and_refuses_to_schedule(make_user):
    user, ticket = _customer(make_user)
    agent = _staff()
    page = tab_state(StaffTicketState, None, f"/staff/tickets/{ticket.id}", query={"ticket": str(ticket.id)},
                     cookies={staff.COOKIE_NAME: _staff_token(agent)})
    page.load()
    with transaction() as db:
        right, wrong = _answers(db, user, postal_code="99999"), _answers(db, user, postal_code="9", payment_last4="1")
    page.check_evidence(right)
    assert page.evidence_verdict == "3 of 4 match: enough to go on." and page.evidence_passed
    assert not page.evidence_withdrawn
    page.check_evidence(wrong)
    assert page.evidence_verdict == "2 of 4 match: not enough (3 needed)."
    assert not page.evidence_passed and page.evidence_withdrawn
    page.schedule_change({"kind": "phone", "value": "+4917698765434"})
    assert "no longer counts" in page.error
    with transaction() as db:
        assert not db.exec(select(FactorChange)).all()
    page.load()  # the withdrawal stands after a reload; the verdict was this visit's
    assert page.evidence_withdrawn and not page.evidence_passed and page.evidence_verdict == ""


def _technician(owner: User, areas: str) -> tuple[User, Ticket]:
    now = utcnow()
    with transaction() as db:
        tech = User(account_id=owner.account_id, email=f"tech-{areas or 'none'}@test.example", name="Tom Tech",
                    role="admin", areas=areas, password_hash="x", phone="+4915100000001")
        db.add(tech)
        db.flush()
        request = support.create_contact_update_ticket(db, Actor.for_user(tech), tech, channel="whatsapp", now=now)
        return tech, db.get(Ticket, request.ticket.id)


def test_a_technician_is_asked_only_what_their_areas_show_them(make_user):
    owner, _owners_ticket = _customer(make_user)
    agent = _staff()
    now = utcnow()
    dns_tech, dns_ticket = _technician(owner, "domains,email")
    billing_tech, billing_ticket = _technician(owner, "invoices,support")
    with transaction() as db:
        everything = _answers(db, owner)
        assert staff_support.view_ticket(db, _actor(agent), _owners_ticket.id, now=now).evidence.items == \
            ("customer_number", "invoice", "payment_last4", "postal_code")
        # Domains and email: the dashboard's customer number only (no invoices, payments, profile).
        standing = staff_support.view_ticket(db, _actor(agent), dns_ticket.id, now=now).evidence
        assert standing.items == ("customer_number",) and standing.needed == 1
        found, passed = staff_recovery.check_evidence(db, _actor(agent), dns_ticket.id,
                                                      dict(everything, customer_number="nope"), now=now)
        assert found == [] and not passed  # the payment digits and the postal code do not count
        # Invoices: their numbers and totals, and the postal code printed on them; never a payment method.
        standing = staff_support.view_ticket(db, _actor(agent), billing_ticket.id, now=now).evidence
        assert standing.items == ("customer_number", "invoice", "postal_code") and standing.needed == 3
        found, passed = staff_recovery.check_evidence(db, _actor(agent), billing_ticket.id,
                                                      dict(everything, postal_code="1"), now=now)
        assert set(found) == {"customer_number", "invoice"} and not passed
        found, passed = staff_recovery.check_evidence(db, _actor(agent), billing_ticket.id, everything, now=now)
        assert set(found) == {"customer_number", "invoice", "postal_code"} and passed
    page = tab_state(StaffTicketState, None, f"/staff/tickets/{dns_ticket.id}", query={"ticket": str(dns_ticket.id)},
                     cookies={staff.COOKIE_NAME: _staff_token(agent)})
    page.load()
    assert page.evidence_asks == ["customer_number"] and "technical administrator" in page.evidence_role_note
    assert "At least 1 of 1 must match" in page.evidence_intro
    page.check_evidence({"customer_number": db_customer_number(owner)})
    assert page.evidence_verdict == "1 of 1 match: enough to go on." and page.evidence_result == [
        "Customer number: matches"]


def test_the_ticket_says_its_status_and_waiting_changes_in_the_queues_words(make_user):
    user, ticket = _customer(make_user)
    agent = _staff()
    now = utcnow()
    with transaction() as db:
        factor_changes.schedule(db, Actor.for_user(db.get(User, user.id)), db.get(User, user.id), "phone",
                                "+4917611111111", now=now, delay_seconds=3600, requested_by="Test Owner",
                                by=factor_changes.BY_PANEL)
    token = _staff_token(agent)
    page = tab_state(StaffTicketState, None, f"/staff/tickets/{ticket.id}", query={"ticket": str(ticket.id)},
                     cookies={staff.COOKIE_NAME: token})
    page.load()
    queue = tab_state(StaffQueueState, None, "/staff/tickets", cookies={staff.COOKIE_NAME: token})
    queue.load()
    [row] = [r for r in queue.rows if r.id == str(ticket.id)]
    assert page.status_text == row.status == "Waiting for support"
    [change] = page.pending_changes
    assert change.text.startswith("Waiting change of the phone number: ") and "•" in change.text
    assert "Asked for by: Test Owner." in change.text and not change.text.startswith("phone")
    assert "11111111" not in change.text


@pytest.mark.parametrize("path", ["/staff/tickets", "/staff/tickets/"])
def test_the_queue_fills_right_after_the_gate(make_user, path):
    """The built app serves the queue as "/staff/tickets/": confirming at its gate loads the
    queue (not a ticket page), so its rows show without a reload."""
    _user, ticket = _customer(make_user)
    agent = _staff()
    page = tab_state(StaffQueueState, None, path, cookies={staff.COOKIE_NAME: _staff_token(agent, grant=False)})
    page.load()
    assert not page.gate_open and page.rows == []
    follow_up = page.verify({"code": totp.code_at(SECRET, utcnow())})
    assert page.gate_open
    assert follow_up.fn is StaffQueueState.event_handlers["load"].fn
    follow_up.fn(page)
    assert [r.id for r in page.rows] == [str(ticket.id)] and page.empty_text == ""


def test_the_gate_of_a_ticket_page_loads_that_ticket():
    from panel_app.state.staff import _page_load_of

    for path, cls in (("/staff/tickets/7/", StaffTicketState), ("/staff/tickets/7", StaffTicketState),
                      ("/staff/admin/", StaffAdminState), ("/staff/security/", StaffSecurityState),
                      ("/staff/tickets/", StaffQueueState), ("/staff/", StaffQueueState)):
        assert _page_load_of(path).fn is cls.event_handlers["load"].fn, path


def test_an_empty_queue_says_why_and_offers_every_ticket(make_user):
    agent = _staff()
    token = _staff_token(agent)
    page = tab_state(StaffQueueState, None, "/staff/tickets/", cookies={staff.COOKIE_NAME: token})
    page.load()
    assert page.rows == [] and page.empty_text == "No ticket is waiting for support." and page.can_clear
    page.clear_filters()
    assert page.empty_text == "There are no tickets yet." and not page.can_clear
    _user, ticket = _customer(make_user)
    page.set_filter("kind", "technical")
    assert page.rows == [] and page.empty_text == "No tickets match these filters." and page.can_clear
    page.clear_filters()
    assert [r.id for r in page.rows] == [str(ticket.id)] and page.empty_text == ""
    assert (page.kind_filter, page.status_filter, page.age_filter) == ("", "", "any")
