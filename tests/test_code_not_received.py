"""Issue 19: "I didn't get the code" never contradicts itself (each channel its own last
code, one status, advice for that channel, a ticket naming it), and the reset mail and
page name exactly the methods this account is offered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from panel_app import tasks
from panel_app.clock import utcnow
from panel_app.components import gate as gate_ui
from panel_app.db import transaction
from panel_app.delivery import set_demo_fault
from panel_app.models import OutboxMessage, Ticket, TicketMessage, User
from panel_app.security import totp
from panel_app.services import authenticator_setup, methods, notifications, password_reset, support
from panel_app.services.audit import Actor
from panel_app.services.validation import ValidationError
from panel_app.state import push  # noqa: F401  (as in the app: every state defined before any task runs)
from panel_app.state.reset import ResetState
from panel_app.state.stepup import StepUpState
from tests.state_harness import login_token, tab_state

EMAIL = "owner@test.example"


def _arm(channel: str, error_code: str | None) -> None:
    with transaction() as db:
        set_demo_fault(db, channel, error_code)


def _actor(user: User) -> Actor:
    return Actor(user.id, user.account_id, user.email, "203.0.113.20", "")


def _settled_app(user: User, ago: timedelta = timedelta(days=4)) -> None:
    set_up = utcnow() - ago
    with transaction() as db:
        fresh = db.get(User, user.id)
        secret, _ = authenticator_setup.begin_totp_enrollment(db, fresh, set_up)
        assert authenticator_setup.confirm_totp_enrollment(db, fresh, totp.code_at(secret, set_up), set_up,
                                                           _actor(fresh)).ok


async def _send(gate: StepUpState) -> None:
    gate.send_code()
    await tasks.wait_all()
    gate.poll()  # what the push after the delivery does


# --- one status per channel -------------------------------------------------------------


async def test_each_channel_shows_only_its_own_last_code(make_user):
    user = make_user()
    gate = tab_state(StepUpState, login_token(user), "/invoices")
    gate.prepare()
    assert gate.sent_to == "" and not gate.code_sent and gate.sent_note == ""  # nothing sent: no "sent to"

    await _send(gate)
    assert gate.sent_to == "o•••@test.example" and gate.delivery_status == "sent"
    assert "on its way to o•••@test.example" in gate.sent_note and gate.delivery_problem == ""

    # WhatsApp has sent nothing yet: none of the email code's status shows there.
    gate.choose_method("whatsapp")
    assert (gate.sent_to, gate.delivery_status, gate.sent_note, gate.delivery_problem) == ("", "", "", "")
    assert not gate.code_sent and gate.masked_destination == "+49 ••• ••• 12"  # where it *would* go

    _arm("whatsapp", "131026")
    await _send(gate)
    assert gate.delivery_status == "failed" and gate.delivery_problem  # failed, and only failed
    assert gate.sent_note == "" and "on its way" not in gate.error + gate.delivery_problem
    assert gate.sent_to == "+49 ••• ••• 12"

    # Back to email: its own status, unchanged, without WhatsApp's failure.
    gate.choose_method("email")
    assert gate.delivery_status == "sent" and gate.delivery_problem == ""
    assert gate.sent_to == "o•••@test.example" and "on its way" in gate.sent_note


async def test_a_delivered_code_says_so_instead_of_on_its_way(make_user):
    user = make_user()
    gate = tab_state(StepUpState, login_token(user), "/invoices")
    gate.prepare()
    gate.choose_method("whatsapp")
    await _send(gate)
    from panel_app.models import VerificationCode

    with transaction() as db:
        row = db.exec(select(VerificationCode)).one()
        row.delivery_status = "delivered"
        db.add(row)
    gate.poll()
    assert gate.sent_note == "The code was delivered to +49 ••• ••• 12."


# --- advice per method ------------------------------------------------------------------


def _help_text(name: str) -> str | None:
    block = gate_ui.help_for(methods.get(name))
    return None if block is None else str(block)


def test_the_no_code_help_gives_each_method_its_own_advice():
    email, whatsapp, app = _help_text("email"), _help_text("whatsapp"), _help_text("totp")
    assert "spam" in email and "WhatsApp is installed" not in email
    assert "WhatsApp is installed" in whatsapp and "spam" not in whatsapp
    # The app gets app help (its clock, a recovery code), no "didn't get the code" block.
    assert "Didn't get the code" not in app and "spam" not in app
    assert "date and time of your phone" in app and "recovery codes" in app
    # A passkey and a recovery code: no block at all.
    assert _help_text("passkey") is None and _help_text("recovery") is None


def test_sent_to_is_labelled_by_the_codes_status():
    label = str(gate_ui._sent_to_label())
    assert "Could not be delivered to" in label and "Being sent to" in label and "Sent to" in label


# --- the support ticket -----------------------------------------------------------------


async def test_the_ticket_names_the_channel_that_failed_and_its_status(make_user):
    user = make_user()
    gate = tab_state(StepUpState, login_token(user), "/invoices")
    gate.prepare()
    gate.choose_method("whatsapp")
    _arm("whatsapp", "131026")
    await _send(gate)
    gate.request_contact_update()
    assert "WhatsApp" in gate.ticket_message and "ticket #" in gate.ticket_message
    with transaction() as db:
        ticket = db.exec(select(Ticket).where(Ticket.kind == "contact_update")).one()
        body = db.exec(select(TicketMessage.body).where(TicketMessage.ticket_id == ticket.id)).one()
    assert "by WhatsApp (delivery status: Failed)" in body


async def test_a_ticket_without_any_code_sent_names_the_channel_only(make_user):
    user = make_user()
    gate = tab_state(StepUpState, login_token(user), "/invoices")
    gate.prepare()
    gate.request_contact_update()
    with transaction() as db:
        body = db.exec(select(TicketMessage.body)).one()
    assert "by email and cannot" in body and "delivery status" not in body


def test_the_app_ticket_asks_for_help_with_the_app(make_user):
    user = make_user()
    with transaction() as db:
        request = support.create_contact_update_ticket(db, _actor(user), db.get(User, user.id), channel="totp",
                                                       now=utcnow())
        body = db.exec(select(TicketMessage.body).where(TicketMessage.ticket_id == request.ticket.id)).one()
    assert "authenticator app" in body and "recovery code" in body


@pytest.mark.parametrize("status", ["bogus", None, 3, "x" * 10_000, ["failed"]])
def test_a_ticket_refuses_an_unknown_delivery_status(make_user, status):
    user = make_user()
    with transaction() as db, pytest.raises(ValidationError):
        support.create_contact_update_ticket(db, _actor(user), db.get(User, user.id), channel="email",
                                             now=utcnow(), delivery_status=status)


def test_the_customer_is_told_what_support_asks_and_how_long(make_user):
    text = _help_text("email")
    assert "customer number" in text and "postal code" in text and "72 hours" in text


# --- the reset mail and page ------------------------------------------------------------


async def _reset_mail(user: User) -> str:
    assert await notifications.send_reset_link(user.id, "t" * 40)
    with transaction() as db:
        return db.exec(select(OutboxMessage.text).where(OutboxMessage.recipient == user.email)
                       .order_by(OutboxMessage.id.desc())).first()


async def test_the_reset_mail_lists_only_the_accounts_methods(make_user):
    whatsapp_only = make_user()
    mail = await _reset_mail(whatsapp_only)
    assert "You will also confirm with a code by WhatsApp." in mail
    assert "authenticator app" not in mail and "recovery code" not in mail

    both = make_user(email="both@test.example")
    _settled_app(both)
    assert ("You will also confirm with your authenticator app, a code by WhatsApp or a recovery code."
            in await _reset_mail(both))


async def test_the_reset_mail_without_a_second_factor_announces_the_wait(make_user):
    user = make_user(phone=None)
    mail = await _reset_mail(user)
    assert "no second method" in mail and "72 hours" in mail and "You will also confirm" not in mail
    fresh_app = make_user(email="fresh@test.example", phone=None)
    _settled_app(fresh_app, ago=timedelta(hours=1))  # not settled: not offered, not promised
    assert "no second method" in await _reset_mail(fresh_app)


async def test_the_reset_mail_in_german_lists_the_methods(make_user):
    user = make_user(language="de")
    assert "Sie bestätigen außerdem mit einem Code per WhatsApp." in await _reset_mail(user)


def _reset_page(user: User) -> ResetState:
    with transaction() as db:
        _user_id, token = password_reset.request_link(db, email=user.email, ip="203.0.113.20", now=utcnow())
    page = tab_state(ResetState, None, "/reset", query={"token": token})
    page.open_reset()
    return page


def test_the_reset_page_says_why_a_method_is_not_offered(make_user):
    no_phone = make_user(phone=None)
    page = _reset_page(no_phone)
    assert page.step == "schedule"
    assert "WhatsApp isn't offered: there is no mobile number on this account." in page.not_offered
    assert "The authenticator app isn't offered: none is set up on this account." in page.not_offered
    assert not any("Recovery" in text for text in page.not_offered)  # "no app" says it already
    page.choose_language("de")
    assert "WhatsApp wird nicht angeboten: In diesem Konto ist keine Mobilnummer hinterlegt." in page.not_offered


def test_the_reset_page_says_a_factor_is_too_new(make_user):
    user = make_user()
    with transaction() as db:
        fresh = db.get(User, user.id)
        fresh.phone_changed_at = utcnow() - timedelta(hours=1)
        db.add(fresh)
    _settled_app(user, ago=timedelta(hours=2))
    page = _reset_page(user)
    assert page.methods == []
    assert ("WhatsApp isn't offered: the mobile number was added or changed less than 72 hours ago."
            in page.not_offered)
    assert "The authenticator app isn't offered: it was set up less than 72 hours ago." in page.not_offered
    assert any(text.startswith("Recovery codes aren't offered: they belong to") for text in page.not_offered)


def test_the_offered_methods_are_not_listed_as_missing(make_user):
    user = make_user()
    page = _reset_page(user)
    assert page.methods == ["whatsapp"] and not any("WhatsApp" in text for text in page.not_offered)
    with transaction() as db:
        reasons = dict(password_reset.methods_not_offered(db, db.get(User, user.id), utcnow()))
    assert reasons == {"passkey": "missing", "totp": "missing"}
