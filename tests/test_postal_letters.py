"""Issue 20, item 3: evidence a stolen mailbox does not reveal. The identity checklist is a
screening (everything it asks is on the panel's pages after an email verification); the
proof is a letter by post with a one-time code, entered by the signed-in customer."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from reflex_base.utils import format
from sqlmodel import select

from panel_app import tasks
from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.delivery import outbox_messages
from panel_app.delivery.outbox import outbox_attachment
from panel_app.models import (AuditEvent, FactorChange, PostalLetter, StaffAuditEvent, StaffUser,
                              TicketMessage, User)
from panel_app.security import staff
from panel_app.security.passwords import hash_password
from panel_app.services import factor_changes, postal_letters, staff_recovery
from panel_app.services.audit import Actor
from panel_app.services.validation import ValidationError
from panel_app.state.billing import InvoicesState
from panel_app.state.letter import LetterState
from panel_app.state.payments import PaymentsState
from panel_app.state.profile import ProfileState
from panel_app.state.staff import StaffTicketState
from panel_app.state.standard import DashboardState
from tests.state_harness import login_token, tab_state
from tests.test_staff import (HOSTILE, LETTER_CODE, _actor, _answers, _customer, _letter_sent, _staff,
                              _staff_token, _with_app)

import panel_app.pages.registry  # noqa: F401,E402

NEW_PHONE = "+4917698765434"
OLD_PHONE = "+4915112345612"


def _tab_json(state) -> str:
    root = state
    while root.parent_state is not None:
        root = root.parent_state
    return format.json_dumps(root.dict())


def _scheduled_with_letter(make_user, now):
    user, ticket = _customer(make_user)
    agent = _staff()
    with transaction() as db:
        staff_recovery.check_evidence(db, _actor(agent), ticket.id, _answers(db, user), now=now)
        change, _ = staff_recovery.schedule_contact_change(db, _actor(agent), ticket.id, "phone", NEW_PHONE,
                                                           now=now, delay_seconds=72 * 3600)
        letter = _letter_sent(db, agent, user, ticket, now)
    return user, ticket, agent, change, letter


def _redeem(user: User, code: object, now):
    with transaction() as db:
        fresh = db.get(User, user.id)
        return postal_letters.redeem(db, Actor.for_user(fresh), fresh, code, now=now)


def _phone(user: User) -> str:
    with transaction() as db:
        return db.get(User, user.id).phone


def _letter(letter_id: int) -> PostalLetter:
    with transaction() as db:
        return db.get(PostalLetter, letter_id)


# --- the checklist is a screening, not a proof --------------------------------------------------


def test_what_an_email_verified_session_reads_proves_nothing(make_user):
    """The answers are taken from the customer's own pages, opened with a password and an
    email code: they pass the screening and still authorise no app removal."""
    user, ticket = _customer(make_user)
    now = utcnow()
    _with_app(user, now)
    token = login_token(user, grant_method="email")
    dashboard = tab_state(DashboardState, token, "/dashboard")
    dashboard.load()
    invoices = tab_state(InvoicesState, token, "/invoices")
    invoices.load()
    payments = tab_state(PaymentsState, token, "/payment-methods")
    payments.load()
    profile = tab_state(ProfileState, token, "/profile")
    profile.load()
    assert invoices.invoices and payments.methods  # the pages opened
    seen = {
        "customer_number": dashboard.customer_number,
        "invoice_number": invoices.invoices[0].number,
        "invoice_amount": invoices.invoices[0].gross,
        "payment_last4": re.findall(r"\d{4}", payments.methods[0].masked)[-1],
        "postal_code": re.search(r"\b\d{5}\b", _tab_json(profile)).group(0),
    }
    agent = _staff()
    with transaction() as db:
        matched, _screened = staff_recovery.check_evidence(db, _actor(agent), ticket.id, seen, now=now)
        assert len(matched) >= 3  # the attacker passes the screening: it is no longer a proof
        assert not postal_letters.identity_proven(db, ticket.id, now)
        with pytest.raises(ValidationError) as refused:
            staff_recovery.request_totp_removal(db, _actor(agent), ticket.id, "Lost phone", now=now)
        assert refused.value.message_key == "staff.error.letter_needed"


# --- the letter ------------------------------------------------------------------------------


async def test_the_letter_code_completes_the_support_made_change_at_once(make_user):
    now = utcnow()
    user, ticket, _agent, change, letter = _scheduled_with_letter(make_user, now)
    assert _phone(user) == OLD_PHONE
    page = tab_state(LetterState, login_token(user), "/support/letter")  # a login, no grant
    page.load()
    assert page.letter_live and page.error == ""
    page.submit({"code": " ABCD EFGH-JKMN "})
    await tasks.wait_all()
    assert page.error == "" and "•••" in page.message
    assert _phone(user) == NEW_PHONE
    with transaction() as db:  # announced on every channel, the old number too
        notices = {(m.channel, m.recipient) for m in outbox_messages(db, limit=200)
                   if "confirmed" in m.text and "letter" in m.text}
    assert {("email", "owner@test.example"), ("whatsapp", NEW_PHONE), ("whatsapp", OLD_PHONE)} <= notices
    with transaction() as db:
        row = db.get(FactorChange, change.id)
        assert row.applied_at is not None and row.cancelled_at is None
        assert factor_changes.pending(db, user.id) == []
        assert db.get(PostalLetter, letter.letter_id).used_at is not None
        assert db.exec(select(AuditEvent).where(AuditEvent.action == "postal_letter_used")).one()
        assert db.exec(select(StaffAuditEvent).where(StaffAuditEvent.action == "postal_letter_used")).one()
        assert postal_letters.identity_proven(db, ticket.id, now)
    assert _redeem(user, LETTER_CODE, now).error_key == "letter.error.used"  # single use


async def test_the_letter_is_a_pdf_in_the_outbox_and_the_code_is_nowhere_else(make_user):
    now = utcnow()
    user, ticket, agent, _change, letter = _scheduled_with_letter(make_user, now)
    console = tab_state(StaffTicketState, None, f"/staff/tickets/{ticket.id}", query={"ticket": str(ticket.id)},
                        cookies={staff.COOKIE_NAME: _staff_token(agent)})
    console.load()
    assert console.letter_live and len(console.letters) == 1 and "waiting for the code" in console.letters[0]
    page = tab_state(LetterState, login_token(user), "/support/letter")
    page.load()
    page.submit({"code": LETTER_CODE})
    await tasks.wait_all()
    console.load()
    with transaction() as db:
        post = [m for m in outbox_messages(db) if m.channel == "post"]
        assert len(post) == 1 and "10969" in post[0].recipient
        name, pdf = outbox_attachment(db, post[0].id)
        assert name.endswith(".pdf") and pdf.startswith(b"%PDF")
        thread = db.exec(select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)).all()
        assert any("/support/letter" in m.body for m in thread)
        logs = [e.detail + e.action + e.target for e in db.exec(select(AuditEvent)).all()]
        logs += [e.detail + e.action for e in db.exec(select(StaffAuditEvent)).all()]
        texts = [m.text + m.subject + m.recipient + m.html for m in outbox_messages(db, limit=500)]
        stored = db.get(PostalLetter, letter.letter_id)
    compact = LETTER_CODE.replace("-", "")
    everything = "\n".join(logs + texts + [_tab_json(page), _tab_json(console), json.dumps(stored.model_dump(),
                                                                                          default=str)])
    for form in (LETTER_CODE, compact, LETTER_CODE.upper(), compact.upper()):
        assert form not in everything


def test_a_letter_is_refused_without_a_screening_and_only_one_lives_per_ticket(make_user):
    user, ticket = _customer(make_user)
    agent = _staff()
    now = utcnow()
    with transaction() as db:
        with pytest.raises(ValidationError):
            postal_letters.request_letter(db, _actor(agent), ticket.id, now=now)
        _letter_sent(db, agent, user, ticket, now)
        with pytest.raises(ValidationError) as refused:
            postal_letters.request_letter(db, _actor(agent), ticket.id, now=now)
        assert refused.value.message_key == "staff.error.letter_live"
        assert len(db.exec(select(PostalLetter)).all()) == 1


@pytest.mark.parametrize("later, code, expected", [
    (timedelta(0), "abcd-efgh-jkmp", "letter.error.wrong"),
    (timedelta(days=15), LETTER_CODE, "letter.error.expired"),
    (timedelta(0), "not a code", "letter.error.format"),
])
def test_a_wrong_or_expired_code_changes_nothing(make_user, later, code, expected):
    now = utcnow()
    user, _ticket, _agent, change, _letter = _scheduled_with_letter(make_user, now)
    outcome = _redeem(user, code, now + later)
    assert not outcome.ok and outcome.error_key == expected
    assert _phone(user) == OLD_PHONE
    with transaction() as db:
        assert [c.id for c in factor_changes.pending(db, user.id)] == [change.id]


def test_the_sixth_try_is_refused_even_with_the_right_code(make_user):
    now = utcnow()
    user, _ticket, _agent, _change, letter = _scheduled_with_letter(make_user, now)
    for left in (4, 3, 2, 1):
        assert _redeem(user, "abcd-efgh-jkmp", now).tries_left == left
    assert _redeem(user, "abcd-efgh-jkmp", now).error_key == "letter.error.too_many"  # the fifth wrong try
    sixth = _redeem(user, LETTER_CODE, now)
    assert not sixth.ok and sixth.error_key == "letter.error.too_many"
    assert _phone(user) == OLD_PHONE and _letter(letter.letter_id).attempts == 5


def test_another_user_and_a_technician_of_the_same_account_cannot_use_the_letter(make_user):
    now = utcnow()
    owner, _ticket, _agent, _change, letter = _scheduled_with_letter(make_user, now)
    stranger = make_user(email="stranger@test.example", phone="+4915199999999")
    with transaction() as db:  # a technical administrator of the owner's account, with the support area
        technician = User(account_id=owner.account_id, email="tech@test.example", role="admin", areas="support",
                          password_hash=hash_password("correct horse battery"))
        db.add(technician)
        db.flush()
        technician_id = technician.id
    for intruder_id in (stranger.id, technician_id):
        with transaction() as db:
            intruder = db.get(User, intruder_id)
            outcome = postal_letters.redeem(db, Actor.for_user(intruder), intruder, LETTER_CODE, now=now)
        assert not outcome.ok and outcome.error_key == "letter.error.none"
        page = tab_state(LetterState, login_token(intruder), "/support/letter")
        page.submit({"code": LETTER_CODE})
        assert page.error and not page.message
    assert _phone(owner) == OLD_PHONE
    assert _letter(letter.letter_id).attempts == 0 and _letter(letter.letter_id).used_at is None


def test_hostile_payloads_to_the_letter_page_change_nothing(make_user):
    now = utcnow()
    user, _ticket, _agent, _change, letter = _scheduled_with_letter(make_user, now)
    page = tab_state(LetterState, login_token(user), "/support/letter")
    for value in HOSTILE:
        page.submit(value)
        page.submit({"code": value})
    assert _phone(user) == OLD_PHONE
    assert _letter(letter.letter_id).attempts == 0 and _letter(letter.letter_id).used_at is None


def test_a_letter_for_no_change_proves_the_identity_for_an_app_removal(make_user):
    user, ticket = _customer(make_user)
    now = utcnow()
    _with_app(user, now)
    agent = _staff()
    with transaction() as db:
        letter = _letter_sent(db, agent, user, ticket, now)
        assert db.get(PostalLetter, letter.letter_id).factor_change_id is None
    outcome = _redeem(user, LETTER_CODE, now)
    assert outcome.ok and outcome.applied is None and not outcome.change_missed
    with transaction() as db:
        assert staff_recovery.request_totp_removal(db, _actor(agent), ticket.id, "Lost phone", now=now)
        assert db.get(StaffUser, agent.id) is not None


def test_the_letter_pdf_speaks_the_customers_language(make_user):
    from panel_app.delivery.post import PostalAddress
    from panel_app.services import billing, letter_pdf

    address = PostalAddress("Olga Owner", "Owner GmbH", "Oranienstraße 1", "10969", "Berlin", "DE")
    for lang in ("en", "de"):
        pdf = letter_pdf.render_letter(seller=billing.SELLER, address=address, code=LETTER_CODE, ticket_id=7,
                                       expires_at=utcnow() + timedelta(days=14), url="https://panel.example/x",
                                       lang=lang, now=utcnow())
        assert pdf.startswith(b"%PDF") and len(pdf) > 1000


async def test_the_agent_sends_a_letter_from_the_console_after_the_screening(make_user):
    user, ticket = _customer(make_user)
    agent = _staff()
    console = tab_state(StaffTicketState, None, f"/staff/tickets/{ticket.id}", query={"ticket": str(ticket.id)},
                        cookies={staff.COOKIE_NAME: _staff_token(agent)})
    console.load()
    console.request_letter()
    assert console.error and not console.letters  # no screening yet
    with transaction() as db:
        staff_recovery.check_evidence(db, _actor(agent), ticket.id, _answers(db, user), now=utcnow())
    console.request_letter()
    await tasks.wait_all()
    assert console.error == "" and console.message and console.letter_live and len(console.letters) == 1
    console.request_letter()  # one live letter per ticket
    assert console.error and len(console.letters) == 1
    with transaction() as db:
        assert db.exec(select(AuditEvent).where(AuditEvent.action == "postal_letter_requested")).one()
        assert db.exec(select(StaffAuditEvent).where(StaffAuditEvent.action == "postal_letter_requested")).one()
