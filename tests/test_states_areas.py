"""The Reflex states of /profile, /invoices, /payment-methods and /support.

The states are built the way Reflex's own unit tests build them: the root
``rx.State`` instantiated directly (allowed under pytest), its router set to
what a websocket connection would carry (the session cookie in the request
headers), and the page state taken from the tree. Handlers are then called as
Reflex calls them, so every call passes through the real guard: the cookie is
resolved in the database at that moment, the grant checked there.
"""

from __future__ import annotations

import base64
import dataclasses
import re
from datetime import date, timedelta

import pytest
import reflex as rx

from tests.state_harness import login_token, tab_state
from reflex_base.utils import format
from sqlmodel import func, select

from panel_app import tasks
from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.delivery import outbox_messages
from panel_app.models import (
    Account,
    AuditEvent,
    Document,
    FactorChange,
    Invoice,
    InvoiceLine,
    LoginSession,
    PaymentMethod,
    Ticket,
    User,
    VerificationCode,
)
from panel_app.security import sessions
from panel_app.security.passwords import hash_password
from panel_app.services import factor_changes, support
from panel_app.services.audit import Actor
from panel_app.state import guard
from panel_app.state.billing import InvoicesState
from panel_app.state.payments import PaymentsState
from panel_app.state.profile import ProfileState
from panel_app.state.rows import Option
from panel_app.state.letter import LetterState
from panel_app.state.support import SupportState

VISA = "4242 4242 4242 4242"
VISA_DIGITS = VISA.replace(" ", "")
IBAN = "DE89 3704 0044 0532 0130 00"
IBAN_COMPACT = IBAN.replace(" ", "")

GATED_STATES = (ProfileState, InvoicesState, PaymentsState)


# --- building states like Reflex does -------------------------------------------------------


def login(user: User, grant_method: str | None = None) -> str:
    return login_token(user, grant_method=grant_method, ip="127.0.0.1")


def page(state_cls, token: str | None, path: str = "/"):
    return tab_state(state_cls, token, path, ip="127.0.0.1")


def frontend_json(state) -> str:
    """Everything the browser can receive from the whole state tree, serialized as Reflex does
    (the router's cookie header is left out by Reflex's own serializer)."""
    root = state
    while root.parent_state is not None:
        root = root.parent_state
    return format.json_dumps(root.dict())


def redirect_path(outcome) -> str | None:
    if isinstance(outcome, list):  # a refusal may chain the sweep of other pages
        outcome = next((o for o in outcome if isinstance(o, rx.event.EventSpec)), None)
    if not isinstance(outcome, rx.event.EventSpec):
        return None
    args = {name._js_expr: value for name, value in outcome.args}
    return getattr(args.get("path"), "_var_value", None)


def download_of(outcome) -> tuple[str, bytes]:
    """(filename, bytes) of an ``rx.download`` event spec."""
    assert isinstance(outcome, rx.event.EventSpec), outcome
    args = {name._js_expr: value._var_value for name, value in outcome.args}
    url = args["url"]
    prefix = "data:application/pdf;base64,"
    assert url.startswith(prefix)
    return args["filename"], base64.b64decode(url[len(prefix):])


def audits(action: str) -> list[AuditEvent]:
    with transaction() as db:
        return list(db.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def count(model) -> int:
    with transaction() as db:
        return db.exec(select(func.count()).select_from(model)).one()


def reload_user(user_id: int) -> User:
    with transaction() as db:
        return db.get(User, user_id)


def reload_user_by_email(email: str) -> User:
    with transaction() as db:
        return db.exec(select(User).where(User.email == email)).one()


def support_actor(db, user: User) -> Actor:
    return Actor.for_user(db.get(User, user.id))


@pytest.fixture
def owner(make_user):
    """A customer of long standing."""
    user = make_user(email="owner@test.example", phone="+4915112345612", name="Olga Owner")
    with transaction() as db:
        row = db.get(User, user.id)
        row.created_at = utcnow() - timedelta(days=30)
        db.add(row)
    return reload_user(user.id)


# --- every handler is guarded -------------------------------------------------------------


@pytest.mark.parametrize("state_cls", [*GATED_STATES, SupportState, LetterState])
def test_every_public_handler_is_guarded(state_cls):
    own = {name: handler for name, handler in state_cls.event_handlers.items() if name != "setvar"}
    assert own, state_cls
    for name, handler in own.items():
        marker = getattr(handler.fn, guard.GUARD_MARKER, None)
        assert marker is not None, f"{state_cls.__name__}.{name} is not guarded"
        if state_cls in GATED_STATES and name not in {"check_login", "tick", "set_language"}:
            assert marker[1] is True, f"{state_cls.__name__}.{name} does not require a grant"


# --- /invoices ------------------------------------------------------------------------------


def _invoice(account_id: int, number: str, *, due: date, status: str = "open", cents: int = 1000) -> None:
    with transaction() as db:
        invoice = Invoice(account_id=account_id, number=number, issue_date=due - timedelta(days=14),
                          supply_date=due - timedelta(days=14), due_date=due, status=status)
        db.add(invoice)
        db.flush()
        db.add(InvoiceLine(invoice_id=invoice.id, description="Webhosting M", quantity=1, unit_net_cents=cents,
                           vat_rate_percent=19))


@pytest.fixture
def invoices(owner):
    today = utcnow().date()
    _invoice(owner.account_id, "2026-00001", due=today - timedelta(days=30))  # overdue
    _invoice(owner.account_id, "2026-00002", due=today + timedelta(days=10))  # open
    _invoice(owner.account_id, "2026-00003", due=today - timedelta(days=60), status="paid")
    with transaction() as db:
        db.add(Document(account_id=owner.account_id, title="Hosting contract", issued_on=today, body="Terms."))
    return owner


def test_invoices_without_grant_show_nothing_and_download_nothing(invoices):
    state = page(InvoicesState, login(invoices), "/invoices")
    state.load()
    assert state.loaded is False
    assert state.invoices == [] and state.totals == [] and state.documents == []
    assert state.download_invoice("2026-00001") is None
    assert "2026-00001" not in frontend_json(state)
    assert audits("invoice_downloaded") == []


def test_invoices_without_login_redirect_to_login(invoices):
    state = page(InvoicesState, None, "/invoices")
    outcome = state.download_invoice("2026-00001")
    assert redirect_path(outcome).startswith("/login")
    assert audits("invoice_downloaded") == []


def test_invoices_with_grant_list_totals_and_download_a_pdf(invoices):
    state = page(InvoicesState, login(invoices, "totp"), "/invoices")
    state.load()
    assert state.loaded is True
    by_number = {row.number: row for row in state.invoices}
    assert {n: r.status for n, r in by_number.items()} == {
        "2026-00001": "overdue", "2026-00002": "open", "2026-00003": "paid"}
    assert by_number["2026-00001"].gross == "€11.90"
    assert all(isinstance(v, str) for row in state.invoices for v in dataclasses.astuple(row))
    assert state.totals[0].total == "€35.70"
    assert state.totals[0].open == "€23.80"
    assert state.totals[0].overdue == "€11.90"

    filename, pdf = download_of(state.download_invoice("2026-00001"))
    assert filename == "invoice-2026-00001.pdf"
    assert pdf.startswith(b"%PDF")
    assert [a.target for a in audits("invoice_downloaded")] == ["2026-00001"]

    doc_id = state.documents[0].id
    filename, pdf = download_of(state.download_document(doc_id))
    assert filename.endswith(".pdf") and pdf.startswith(b"%PDF")
    assert len(audits("document_downloaded")) == 1


def test_invoices_are_wiped_when_the_grant_ends(invoices):
    token = login(invoices, "totp")
    state = page(InvoicesState, token, "/invoices")
    state.load()
    assert state.invoices
    with transaction() as db:
        sessions.end_grant(db, sessions.find_by_token(db, token), now=utcnow())
    state.tick()
    assert state.loaded is False and state.invoices == [] and state.totals == [] and state.documents == []
    assert state.grant_active is False
    assert "2026-00001" not in frontend_json(state)


def test_another_accounts_invoice_is_not_found(invoices, make_user):
    other = make_user(email="other@test.example", phone="+4915112345699")
    _invoice(other.account_id, "2026-00009", due=utcnow().date())
    state = page(InvoicesState, login(invoices, "totp"), "/invoices")
    assert state.download_invoice("2026-00009") is None
    assert state.error == "This invoice was not found."
    assert state.download_invoice({"number": "2026-00001"}) is None  # junk payload
    assert audits("invoice_downloaded") == []


# --- /payment-methods -----------------------------------------------------------------------


def _card_form(**changes) -> dict:
    form = {"number": VISA, "exp_month": "08", "exp_year": str(utcnow().year + 3), "holder": "Olga Owner"}
    form.update(changes)
    return form


def test_adding_a_card_without_grant_stores_nothing(owner):
    state = page(PaymentsState, login(owner), "/payment-methods")
    state.add_card(_card_form())
    assert count(PaymentMethod) == 0
    assert state.methods == []


def test_adding_a_card_stores_only_the_last_four_and_clears_the_form(owner):
    state = page(PaymentsState, login(owner, "totp"), "/payment-methods")
    state.load()
    key_before = state.card_form_key
    state.add_card(_card_form())
    with transaction() as db:
        rows = db.exec(select(PaymentMethod)).all()
    assert [(r.kind, r.last4, r.brand, r.is_default) for r in rows] == [("card", "4242", "Visa", True)]
    assert state.card_form_key == key_before + 1  # the form remounts empty
    assert state.card_holder == state.card_exp_month == state.card_exp_year == ""
    assert state.message == "The payment method was added."
    assert [m.masked for m in state.methods] == ["Visa •••• 4242"]
    assert state.methods[0].default == "1"
    assert VISA_DIGITS not in frontend_json(state)


def test_a_refused_card_keeps_the_other_fields_but_never_the_number(owner):
    state = page(PaymentsState, login(owner, "totp"), "/payment-methods")
    wrong = "4242 4242 4242 4241"  # Luhn fails
    state.add_card(_card_form(number=wrong))
    assert count(PaymentMethod) == 0
    assert state.card_number_error == "This card number is not valid. Please check it for typing errors."
    assert state.card_holder == "Olga Owner" and state.card_exp_month == "08"
    dumped = frontend_json(state)
    assert wrong.replace(" ", "") not in dumped and wrong not in dumped and "4241" not in dumped

    # A number typed into the holder field is not kept either.
    state.add_card(_card_form(number="", holder=VISA))
    assert state.card_holder == ""
    assert VISA_DIGITS not in frontend_json(state) and VISA not in frontend_json(state)


def test_sepa_add_default_and_the_last_method_rule(owner):
    _invoice(owner.account_id, "2026-00001", due=utcnow().date() + timedelta(days=5))
    state = page(PaymentsState, login(owner, "whatsapp"), "/payment-methods")
    state.add_sepa({"iban": IBAN, "holder": "Olga Owner"})
    assert IBAN_COMPACT not in frontend_json(state)
    assert len(state.methods) == 1 and state.methods[0].kind == "sepa"
    only_id = state.methods[0].id

    state.remove(only_id)
    assert count(PaymentMethod) == 1
    assert state.error.startswith("This is your only payment method and an invoice is still open.")

    state.add_card(_card_form())
    card_id = next(m.id for m in state.methods if m.kind == "card")
    state.make_default(card_id)
    assert next(m for m in state.methods if m.id == card_id).default == "1"
    state.remove(only_id)
    assert [m.id for m in state.methods] == [card_id]
    assert state.message == "The payment method was removed."


def test_a_bad_iban_shows_the_reason_without_the_iban(owner):
    state = page(PaymentsState, login(owner, "totp"), "/payment-methods")
    bad = "DE89 3704 0044 0532 0130 01"
    state.add_sepa({"iban": bad, "holder": "Olga Owner"})
    assert state.sepa_iban_error == "This IBAN is not valid. Please check it for typing errors."
    assert state.sepa_holder == "Olga Owner"
    assert bad.replace(" ", "") not in frontend_json(state) and "013001" not in frontend_json(state)
    assert count(PaymentMethod) == 0


# --- /profile: personal data ------------------------------------------------------------------


def _profile_form(**changes) -> dict:
    form = {"name": "Olga Owner", "company": "Owner GmbH", "street": "Hauptstraße 1", "postal_code": "10115",
            "city": "Berlin", "country": "DE", "vat_id": "DE123456789"}
    form.update(changes)
    return form


def test_profile_without_grant_changes_nothing(owner):
    state = page(ProfileState, login(owner), "/profile")
    state.save_profile(_profile_form())
    with transaction() as db:
        assert db.get(Account, owner.account_id).street == ""
    assert state.form_street == "" and state.loaded is False


def test_profile_error_next_to_the_field_keeps_the_input(owner):
    state = page(ProfileState, login(owner, "totp"), "/profile")
    state.load()
    assert Option(value="DE", label="Germany") in state.country_options
    state.save_profile(_profile_form(postal_code="1011", street="Neue Straße 5"))
    assert state.postal_code_error == "This postal code does not look right for country DE."
    assert state.name_error == state.street_error == state.vat_id_error == ""
    assert state.form_street == "Neue Straße 5" and state.form_postal_code == "1011"
    with transaction() as db:
        assert db.get(Account, owner.account_id).street == ""


def test_profile_saves_and_shows_the_stored_values(owner):
    state = page(ProfileState, login(owner, "totp"), "/profile")
    state.load()
    state.save_profile(_profile_form(vat_id="de 123 456 789"))
    assert state.message == "Your data was saved."
    with transaction() as db:
        account = db.get(Account, owner.account_id)
    assert (account.street, account.postal_code, account.vat_id) == ("Hauptstraße 1", "10115", "DE123456789")
    assert state.form_vat_id == "DE123456789"
    assert len(audits("profile_updated")) == 1


# --- /profile: email and phone ----------------------------------------------------------------


def _codes_to(recipient: str) -> list[str]:
    with transaction() as db:
        return [m for message in outbox_messages(db, recipient)
                for m in re.findall(r"\b(\d{6})\b", message.text)]


def _let_cooldown_pass() -> None:
    with transaction() as db:
        for row in db.exec(select(VerificationCode)).all():
            row.created_at -= timedelta(seconds=120)
            db.add(row)


def _messages_to(recipient: str) -> list[str]:
    with transaction() as db:
        return [message.subject + "\n" + message.text for message in outbox_messages(db, recipient)]


async def test_an_email_change_needs_a_code_to_the_old_and_one_to_the_new_address(owner):
    token = login(owner, "whatsapp")
    state = page(ProfileState, token, "/profile")
    state.load()
    state.begin_change("email")
    assert state.change_step == "enter" and state.change_has_old

    state.send_change_code({"value": "taken@"})
    assert state.change_value_error == "Please enter a valid email address."
    assert state.change_value == "taken@"

    state.send_change_code({"value": "New@Test.example"})
    await tasks.wait_all()
    assert state.change_step == "code" and state.change_confirm_old
    [new_code], [old_code] = _codes_to("new@test.example"), _codes_to("owner@test.example")
    assert "_pending_contact" not in frontend_json(state)
    assert new_code not in frontend_json(state) and old_code not in frontend_json(state)

    state.confirm_change({"code": new_code})  # the new address alone is not enough
    assert "not correct" in state.code_error or "enter" in state.code_error.lower()
    assert reload_user(owner.id).email == "owner@test.example"

    state.confirm_change({"code": new_code, "old_code": old_code})
    await tasks.wait_all()
    assert reload_user(owner.id).email == "new@test.example"
    with transaction() as db:
        assert sessions.find_by_token(db, token).grant_expires_at is None
    # Every channel hears of it: the old address and the phone by WhatsApp.
    assert any("n•••@test.example" in text for text in _messages_to("owner@test.example"))
    assert any("contact details were changed" in text for text in _messages_to("+4915112345612"))
    assert state.grant_active is False and state.loaded is False
    assert state.gate_notice == "Your email address was changed. Please verify again to open protected areas."
    state.tick()  # the gate is back; the notice stays
    assert state.gate_notice.startswith("Your email address was changed") and state.email == ""


async def test_a_stolen_mailbox_cannot_change_the_phone_now_only_schedule_it_loudly(owner):
    """The attacker has the password and the mailbox: an email-code grant, no phone."""
    attacker = page(ProfileState, login(owner, "email"), "/profile")
    attacker.load()
    attacker.begin_change("phone")
    attacker.send_change_code({"value": "+4915199999999"})
    await tasks.wait_all()
    assert _codes_to("+4915112345612")  # a code to the owner's number: useless to the attacker
    attacker.confirm_change({"code": _codes_to("+4915199999999")[0], "old_code": "000000"})
    assert reload_user(owner.id).phone == "+4915112345612"

    # "I no longer have access to the old one": scheduled, not done.
    _let_cooldown_pass()
    attacker.begin_change("phone")
    attacker.set_without_old(True)
    attacker.send_change_code({"value": "+4915199999999"})
    await tasks.wait_all()
    assert not attacker.change_confirm_old
    attacker.confirm_change({"code": _codes_to("+4915199999999")[0]})  # the newest
    await tasks.wait_all()
    user = reload_user(owner.id)
    assert user.phone == "+4915112345612" and user.factor_change_pending  # authorises nothing yet
    assert attacker.scheduled and "scheduled" in attacker.message
    # Announced at once on the old number (WhatsApp) as well as by email, with a cancel link.
    [on_phone] = [t for t in _messages_to("+4915112345612") if "will be changed" in t]
    assert "/profile?cancel_change=" in on_phone
    assert any("will be changed" in t for t in _messages_to("owner@test.example"))
    assert count(FactorChange) == 1 and audits("contact_change_scheduled")

    # The owner, verified by email from another session (a settled factor the change does not
    # replace: a WhatsApp grant could not cancel a new number), sees the banner and cancels.
    owner_tab = page(ProfileState, login(owner, "email"), "/profile")
    owner_tab.load()
    assert "phone" in owner_tab.pending_change
    owner_tab.cancel_scheduled(owner_tab.scheduled[0].id)
    await tasks.wait_all()
    assert owner_tab.scheduled == [] and not reload_user(owner.id).factor_change_pending
    assert any("cancelled" in t for t in _messages_to("+4915112345612"))
    with transaction() as db:
        assert factor_changes.apply_due(db, now=utcnow() + timedelta(days=30)) == []
    assert reload_user(owner.id).phone == "+4915112345612"


async def test_adding_a_first_phone_number_needs_only_its_own_code(make_user):
    user = make_user(email="nophone@test.example", phone=None)
    state = page(ProfileState, login(user, "email"), "/profile")
    state.begin_change("phone")
    assert not state.change_has_old
    state.send_change_code({"value": "0151 99999999"})
    await tasks.wait_all()
    assert not state.change_confirm_old
    state.confirm_change({"code": _codes_to("+4915199999999")[0]})
    await tasks.wait_all()
    assert reload_user(user.id).phone == "+4915199999999"
    assert any("phone number" in t for t in _messages_to("nophone@test.example"))


async def test_a_code_for_another_change_does_not_apply_this_one(owner):
    """Two tabs of one session: tab A asks for a@, tab B for b@ (replacing A's codes).
    B's codes entered in tab A must not set a@, which nobody confirmed. (Verified by WhatsApp:
    with the code to the current address, two settled factors, so the change is immediate.)"""
    token = login(owner, "whatsapp")
    tab_a, tab_b = page(ProfileState, token, "/profile"), page(ProfileState, token, "/profile")
    tab_a.begin_change("email")
    tab_a.send_change_code({"value": "a@test.example"})
    await tasks.wait_all()
    _let_cooldown_pass()  # for tab B
    tab_b.begin_change("email")
    tab_b.send_change_code({"value": "b@test.example"})
    await tasks.wait_all()
    code_b, old_code = _codes_to("b@test.example")[0], _codes_to("owner@test.example")[0]
    tab_a.confirm_change({"code": code_b, "old_code": old_code})
    assert reload_user(owner.id).email == "owner@test.example"
    assert tab_a.error == "This code belongs to a different change. Please start the change again."


# --- /support -------------------------------------------------------------------------------


def test_support_needs_a_login_and_without_the_area_shows_only_ones_own_tickets(owner):
    state = page(SupportState, None, "/support")
    assert redirect_path(state.load()).startswith("/login")

    with transaction() as db:
        admin = User(account_id=owner.account_id, email="dns@test.example", role="admin", areas="domains",
                     password_hash=hash_password("correct horse battery"))
        db.add(admin)
    with transaction() as db:
        support.create_ticket(db, support_actor(db, owner), kind="general", subject="Owner question",
                              body="Hello", now=utcnow())
    state = page(SupportState, login(reload_user_by_email("dns@test.example")), "/support")
    assert redirect_path(state.load()) is None  # no "no access": the technician's own tickets
    assert state.tickets == [] and state.whole_account is False
    assert "Owner question" not in frontend_json(state)
    state.create_ticket({"kind": "general", "subject": "My own", "body": "Hi"})
    assert [row.subject for row in state.tickets] == ["My own"]
    assert count(Ticket) == 2


def test_support_ticket_create_errors_keep_the_input(owner):
    state = page(SupportState, login(owner), "/support")  # a login is enough: no grant
    state.load()
    state.create_ticket({"kind": "nonsense", "subject": "Hi", "body": "  "})
    assert state.new_kind_error == "Please choose a topic."
    assert state.new_subject_error == "Please enter a subject of at least 3 characters."
    assert state.new_body_error == "Please fill in this field."
    assert state.new_subject == "Hi"
    assert count(Ticket) == 0


def test_support_create_read_reply_close(owner, make_user):
    state = page(SupportState, login(owner), "/support")
    state.load()
    assert [o.value for o in state.kind_options] == list(support.KINDS)
    assert Option(value="contact_update", label="Update contact details") in state.kind_options
    state.create_ticket({"kind": "contact_update", "subject": "New phone", "body": "My number changed."})
    assert state.message == "Your ticket was created. We will answer as soon as possible."
    assert state.new_subject == "" and state.open_id != ""
    assert [m.body for m in state.open_messages] == ["My number changed."]
    assert state.tickets[0].subject == "New phone" and state.tickets[0].kind == "Update contact details"
    ticket_id = state.open_id

    state.reply({"body": ""})
    assert state.reply_error == "Please fill in this field."
    state.reply({"body": "Any news?"})
    assert [m.body for m in state.open_messages] == ["My number changed.", "Any news?"]

    state.close_ticket()
    assert state.open_status == "closed"
    state.reply({"body": "One more thing"})
    assert state.reply_error == "This ticket is closed. Please open a new ticket."

    state.back_to_list()
    assert state.open_id == ""

    other = make_user(email="other@test.example", phone="+4915112345699")
    with transaction() as db:
        foreign = support.create_ticket(db, support_actor(db, other), kind="general", subject="Secret",
                                        body="Other account", now=utcnow())
    state.open_ticket(str(foreign.ticket.id))
    assert state.open_id == "" and state.error == "This ticket was not found."
    assert "Other account" not in frontend_json(state)
    state.open_ticket(ticket_id)
    assert state.open_id == ticket_id


def test_logout_in_the_database_empties_the_support_page(owner):
    token = login(owner)
    state = page(SupportState, token, "/support")
    state.create_ticket({"kind": "general", "subject": "Question", "body": "Hello"})
    assert state.tickets
    with transaction() as db:
        sessions.revoke_session(db, sessions.find_by_token(db, token), reason="logout", now=utcnow())
    assert redirect_path(state.load()).startswith("/login")
    assert state.tickets == [] and state.open_messages == []
    assert count(LoginSession) == 1


