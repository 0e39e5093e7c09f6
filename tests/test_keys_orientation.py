"""Issue 19, items 10 and 11 through the states: the card form's errors all at once, the
domain /email opens on (and ``?domain=`` on every load), the gate's focus moves."""

from __future__ import annotations

import json
import re
from datetime import date

from reflex.istate.data import RouterData
from sqlmodel import select

from panel_app import tasks
from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.i18n import t
from panel_app.models import Domain, Mailbox, OutboxMessage, PaymentMethod
from panel_app.security.passwords import hash_password
from panel_app.services import mail
from panel_app.state.mail import MailState
from panel_app.state import push  # noqa: F401  (imported as the app does: the gate's delivery task pushes)
from panel_app.state.payments import PaymentsState
from panel_app.state.stepup import StepUpState
from tests.state_harness import login_token, tab_state

VISA = "4242 4242 4242 4242"
STRONG = "Moorland-Violin-47-Teapot"


def _domain(account_id: int, name: str, *mailboxes: str) -> None:
    with transaction() as db:
        domain = Domain(account_id=account_id, name=name, registered_on=date(2020, 3, 1), expires_on=date(2027, 3, 1))
        db.add(domain)
        db.flush()
        for local_part in mailboxes:
            db.add(Mailbox(domain_id=domain.id, local_part=local_part, password_hash=hash_password(STRONG)))


def _open(cls, user, path: str, query: dict | None = None):
    return tab_state(cls, login_token(user, grant_method="totp"), path, query)


def _navigate(state, path: str, query: dict | None = None) -> None:
    """The tab moves to ``path`` (a link, the back button): the next event carries it."""
    query = dict(query or {})
    state.router = RouterData.from_router_data({
        "headers": {"cookie": state.router.headers.cookie, "user-agent": "pytest"},
        "pathname": path, "asPath": path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""),
        "query": query, "ip": "192.0.2.50",
    })


def _script(outcome) -> str:
    return json.dumps(outcome.args if outcome is not None else None, default=str)


# --- /email: which domain ------------------------------------------------------------------------


async def test_email_opens_on_the_first_domain_that_has_mailboxes(make_user):
    user = make_user()
    _domain(user.account_id, "a-empty.example")
    _domain(user.account_id, "b-mail.example", "info")
    _domain(user.account_id, "c-mail.example", "office")
    page = _open(MailState, user, "/email")
    page.load()
    assert page.domain_options == ["a-empty.example", "b-mail.example", "c-mail.example"]
    assert page.selected_domain == "b-mail.example"
    assert [b.address for b in page.mailboxes] == ["info@b-mail.example"]


async def test_without_any_mailbox_the_first_domain(make_user):
    user = make_user()
    _domain(user.account_id, "b.example")
    _domain(user.account_id, "a.example")
    with transaction() as db:
        assert mail.default_domain(db, user.account_id) == "a.example"
        assert mail.default_domain(db, user.account_id + 999) == ""


async def test_another_accounts_mailboxes_do_not_count(make_user):
    user = make_user()
    other = make_user(email="other@test.example", phone="+4915112345699")
    _domain(user.account_id, "mine.example")
    _domain(other.account_id, "aaa-theirs.example", "info")
    with transaction() as db:
        assert mail.default_domain(db, user.account_id) == "mine.example"


async def test_the_address_names_the_domain_on_every_load(make_user):
    user = make_user()
    _domain(user.account_id, "a.example", "info")
    _domain(user.account_id, "b.example", "office")
    page = _open(MailState, user, "/email")
    page.load()
    assert page.selected_domain == "a.example"
    # Chosen in the page: the address follows (a reload or a bookmark opens it again).
    outcome = page.select_domain("b.example")
    assert page.selected_domain == "b.example"
    assert "/email?domain=b.example" in _script(outcome)
    # A link (or the back button) to the other domain wins, although one was chosen before.
    _navigate(page, "/email", {"domain": "a.example"})
    page.load()
    assert page.selected_domain == "a.example" and [b.address for b in page.mailboxes] == ["info@a.example"]
    # Junk or another account's domain in the address changes nothing.
    for junk in ("stranger.example", "x" * 5000):
        _navigate(page, "/email", {"domain": junk})
        page.load()
        assert page.selected_domain == "a.example"
    _navigate(page, "/email")
    page.load()
    assert page.selected_domain == "a.example"  # no parameter: the domain shown stays


# --- the card form ---------------------------------------------------------------------------------


def test_the_card_form_reports_every_wrong_field_at_once(make_user):
    user = make_user()
    page = _open(PaymentsState, user, "/payment-methods")
    page.load()
    last_year = str(utcnow().year - 1)
    page.add_card({"number": "4242 4242 4242 4241", "exp_month": "13", "exp_year": last_year, "holder": ""})
    assert page.card_number_error == t("payments.error.card_checksum")
    assert page.card_exp_month_error == t("payments.error.month_invalid")
    assert page.card_exp_year_error == t("payments.error.year_past")
    assert page.card_holder_error == t("validation.required")
    assert page.error == ""  # beside the fields, not in a banner
    assert (page.card_exp_month, page.card_exp_year) == ("13", last_year)  # kept for correcting
    with transaction() as db:
        assert db.exec(select(PaymentMethod)).all() == []

    # Corrected: the errors go, the card is stored.
    page.add_card({"number": VISA, "exp_month": "12", "exp_year": str(utcnow().year + 1), "holder": "Olga"})
    assert page.card_number_error == page.card_exp_month_error == page.card_exp_year_error == ""
    assert page.card_holder_error == "" and [m.masked for m in page.methods] == ["Visa •••• 4242"]


def test_a_month_of_this_year_that_has_passed_is_refused_at_the_month(make_user, clock):
    user = make_user()
    clock.now = clock.now.replace(month=6, day=15)
    page = _open(PaymentsState, user, "/payment-methods")
    page.add_card({"number": VISA, "exp_month": "5", "exp_year": str(clock.now.year), "holder": "Olga"})
    assert page.card_exp_month_error == t("payments.error.card_expired") and page.card_exp_year_error == ""
    page.add_card({"number": VISA, "exp_month": "1", "exp_year": "1999", "holder": "Olga"})
    assert page.card_exp_year_error == t("payments.error.year_invalid", example=clock.now.year + 3)


# --- the gate's focus moves ------------------------------------------------------------------------


async def test_send_code_moves_the_focus_to_the_code_field_and_verify_to_the_page(make_user):
    user = make_user()
    gate = tab_state(StepUpState, login_token(user), "/invoices")
    gate.prepare()
    assert "panelFocusCode" in _script(gate.send_code())
    await tasks.wait_all()
    with transaction() as db:
        text = db.exec(select(OutboxMessage).where(OutboxMessage.recipient == "owner@test.example")).one().text
    code = re.search(r"\b(\d{6})\b", text).group(1)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert gate.verify({"code": wrong}) is None  # refused: the focus stays on the field
    outcome = gate.verify({"code": code})
    assert gate.grant_active and "panelFocusContent" in _script(outcome)
