"""Expiry that loses nothing, server side: the gate says why it is back and which domain it
opens; "verify again" opens it over the page only while the grant holds; a page's reported
save tells the browser to forget the drafts of the forms just submitted."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

from sqlmodel import select

from panel_app import tasks
from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.models import LoginSession, OutboxMessage
from panel_app.services import gate_return
from panel_app.services.gate_return import domain_in_path, why_gate
from panel_app.state import push  # noqa: F401  (imported as the app does: the code delivery pushes)
from panel_app.state.profile import ProfileState
from panel_app.state.stepup import GrantState, StepUpState
from tests.state_harness import login_token, tab_state


def _session(verified_minutes_ago=None, ttl_minutes=10, ended=False, revoked=False):
    now = utcnow()
    verified = None if verified_minutes_ago is None else now - timedelta(minutes=verified_minutes_ago)
    return SimpleNamespace(
        grant_verified_at=verified,
        grant_expires_at=None if (verified is None or ended) else verified + timedelta(minutes=ttl_minutes),
        revoked_at=now if revoked else None,
    ), now


def test_why_the_gate_is_shown():
    row, now = _session()
    assert why_gate(row, now).kind == gate_return.FIRST
    row, now = _session(verified_minutes_ago=12)
    assert why_gate(row, now) == gate_return.GateReturn(gate_return.EXPIRED, 10)
    row, now = _session(verified_minutes_ago=2, ttl_minutes=1)
    assert why_gate(row, now) == gate_return.GateReturn(gate_return.EXPIRED, 1)
    row, now = _session(verified_minutes_ago=3, ended=True)  # locked, or a contact change
    assert why_gate(row, now).kind == gate_return.ENDED
    row, now = _session(verified_minutes_ago=3)  # still valid: nothing came back
    assert why_gate(row, now).kind == gate_return.FIRST


def test_only_a_well_formed_domain_of_the_url_is_named():
    assert domain_in_path("/domains/Example.COM") == "example.com"
    assert domain_in_path("/prefix/domains/b%C3%BCcher.de") == "bücher.de"
    assert domain_in_path("/domains/xn--bcher-kva.de") == "bücher.de"
    for hostile in ["/domains/Your%20account%20is%20suspended", "/domains/localhost", "/domains/-a.com",
                    "/domains/a..com", "/domains/" + "a" * 300 + ".com", "/profile", "/domains", "", None, 42,
                    "/domains/<b>x</b>.com", "/domains/" + "x" * 5000]:
        assert domain_in_path(hostile) == "", hostile


async def test_the_gate_says_the_grant_ran_out_and_which_domain(make_user):
    user = make_user()
    token = login_token(user, utcnow() - timedelta(minutes=11), grant_method="email")
    gate = tab_state(StepUpState, token, "/domains/example.com")
    gate.prepare()
    assert not gate.grant_active
    assert gate.return_reason.startswith("Your verification ended after 10 minutes.")
    assert gate.gate_domain == "example.com"


async def test_a_first_entry_has_no_reason_and_a_lock_says_ended_early(make_user):
    user = make_user()
    token = login_token(user)
    gate = tab_state(StepUpState, token, "/profile")
    gate.prepare()
    assert gate.return_reason == "" and gate.gate_domain == ""

    token = login_token(user, grant_method="email")
    tab_state(GrantState, token, "/profile").end_now()
    gate = tab_state(StepUpState, token, "/profile")
    gate.prepare()
    assert "ended early" in gate.return_reason


async def test_the_reason_is_in_the_users_language(make_user):
    user = make_user(language="de")
    token = login_token(user, utcnow() - timedelta(minutes=11), grant_method="email")
    gate = tab_state(StepUpState, token, "/profile")
    gate.prepare()
    assert gate.return_reason.startswith("Ihre Bestätigung ist nach 10 Minuten abgelaufen.")


async def test_verify_again_opens_only_while_the_grant_holds_and_closes_on_success(make_user):
    user = make_user()
    gate = tab_state(StepUpState, login_token(user), "/profile")
    gate.show_reverify(True)
    assert not gate.reverify_open  # no grant: the gate is on the page already

    token = login_token(user, grant_method="email")
    gate = tab_state(StepUpState, token, "/profile")
    for junk in ["yes", 1, None, {"a": 1}]:
        gate.show_reverify(junk)
        assert not gate.reverify_open
    gate.show_reverify(True)
    assert gate.reverify_open and gate.grant_active
    gate.prepare()  # the gate in the dialog mounts: it stays open, with no reason to state
    assert gate.reverify_open and gate.return_reason == ""
    stamp_before = gate.grant_stamp
    gate.send_code()
    assert gate.error == "", gate.error
    await tasks.wait_all()
    with transaction() as db:
        [mail] = db.exec(select(OutboxMessage).where(OutboxMessage.recipient == user.email)).all()
    gate.verify({"code": re.search(r"\b(\d{6})\b", mail.text).group(1)})
    assert gate.error == "" and not gate.reverify_open and gate.grant_active
    assert gate.grant_stamp >= stamp_before and gate.grant_seconds_left >= 590
    gate.show_reverify(False)
    assert not gate.reverify_open


async def test_the_gate_on_the_page_closes_a_dialog_left_open(make_user):
    user = make_user()
    token = login_token(user, grant_method="email")
    gate = tab_state(StepUpState, token, "/profile")
    gate.show_reverify(True)
    with transaction() as db:
        row = db.exec(select(LoginSession)).one()
        row.grant_expires_at = utcnow() - timedelta(seconds=1)
        db.add(row)
    gate.prepare()  # the grant ran out: the gate took the page's place
    assert not gate.reverify_open
    assert gate.return_reason.startswith("Your verification ended after")


async def test_a_reported_save_is_counted_for_the_browsers_drafts(make_user):
    user = make_user()
    page = tab_state(ProfileState, login_token(user, grant_method="email"), "/profile")
    page.load()
    assert page.loaded and page.drafts_saved == 0
    page.save_profile({"name": "New Name", "company": "", "street": "Street 1", "postal_code": "12345",
                       "city": "Town", "country": "DE", "vat_id": ""})
    assert page.error == "" and page.drafts_saved == 1
    page.save_profile({"name": ""})  # refused: the drafts stay
    assert page.drafts_saved == 1
