"""Issue 20 against the running panel, over a raw websocket and raw HTTP. First the takeover of
the review, replayed: an attacker
with the owner's password and mailbox (no browser, no UI) tries to move the email address
and lock the owner out. The address only gets *scheduled*; the attacker cannot cancel the
owner's way back; the password change they may make is undone by the owner with ``/forgot``
and the WhatsApp code, which ends the attacker's session. The owner then cancels the waiting
change with a factor it does not replace. Then the attacks of the outside review of the fix,
each asserting the secure behaviour (a new app thrown out by the mailbox, a support change
replaced by the mailbox's own, a number added by the mailbox, Origin tricks); their in-process
versions are in tests/test_attack_mailbox.py."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import expect
from sqlmodel import select

from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.delivery.outbox import outbox_messages
from panel_app.models import FactorChange, User, VerificationCode
from panel_app.security import sessions, totp
from panel_app.services import authenticator_setup, factor_changes
from panel_app.services.audit import Actor
from panel_app.state.profile import ProfileState
from panel_app.state.reset import ResetState
from panel_app.state.security import SecurityState
from panel_app.state.stepup import StepUpState
from tests.browser.helpers import create_user, latest_code, pass_gate_by_email, sign_in
from tests.ws import HYDRATE_AND_LOAD, RawClient, login_token, run_async

pytestmark = pytest.mark.browser

PROFILE = ProfileState.get_full_name()
SECURITY = SecurityState.get_full_name()
GATE = StepUpState.get_full_name()
RESET = ResetState.get_full_name()
CODE = re.compile(r"\b(\d{6})\b")
RESET_LINK = re.compile(r"/reset\?token=([A-Za-z0-9_\-]+)")


def _newest(recipient: str, pattern: re.Pattern, after: int = 0) -> str:
    """The newest match of ``pattern`` in a message to ``recipient`` (the demo outbox)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with transaction() as db:
            for message in outbox_messages(db, recipient, limit=5):
                found = pattern.search(message.text)
                if message.id > after and found:
                    return found.group(1)
        time.sleep(0.2)
    raise AssertionError(f"nothing for {recipient}")


def _last_outbox_id() -> int:
    with transaction() as db:
        messages = outbox_messages(db, None, limit=1)
        return messages[0].id if messages else 0


async def _verify(tab: RawClient, method: str, recipient: str, path: str = "/profile") -> None:
    before = _last_outbox_id()
    await tab.call(HYDRATE_AND_LOAD, {}, pathname=path)
    await tab.call(f"{GATE}.prepare", {}, path)
    await tab.call(f"{GATE}.choose_method", {"method": method}, path)
    await tab.call(f"{GATE}.send_code", {}, path)
    await tab.call(f"{GATE}.verify", {"form_data": {"code": _newest(recipient, CODE, before)}}, path)


def _pending(user_id: int) -> list[FactorChange]:
    with transaction() as db:
        return list(db.exec(select(FactorChange).where(FactorChange.user_id == user_id,
                                                       FactorChange.cancelled_at.is_(None),
                                                       FactorChange.applied_at.is_(None))).all())


def _user(email: str) -> User:
    with transaction() as db:
        return db.exec(select(User).where(User.email == email)).one()


def test_password_and_mailbox_cannot_take_the_account(panel_url):
    stamp = int(time.time() * 1000)
    owner_email, phone = f"victim-{stamp}@example.net", f"+49151{stamp % 10**8:08d}"
    attacker_email = f"thief-{stamp}@evil.example"
    password = "the-owners-old-password"
    create_user(owner_email, password, phone=phone)
    user_id = _user(owner_email).id

    async def attack() -> str:
        cookie = login_token(panel_url, owner_email, password)
        async with RawClient(panel_url, cookie) as tab:
            await _verify(tab, "email", owner_email)
            # The takeover of the review: begin, send, confirm with codes from the mailbox.
            await tab.call(f"{PROFILE}.load", {}, "/profile")
            await tab.call(f"{PROFILE}.begin_change", {"kind": "email"}, "/profile")
            before = _last_outbox_id()
            await tab.call(f"{PROFILE}.send_change_code", {"form_data": {"value": attacker_email}}, "/profile")
            new_code = _newest(attacker_email, CODE, before)
            await tab.call(f"{PROFILE}.confirm_change", {"form_data": {"code": new_code, "old_code": new_code}},
                           "/profile")
            # It waits; and the email grant cannot cancel the owner's way out of it either.
            [change] = _pending(user_id)
            await tab.call(f"{PROFILE}.cancel_scheduled", {"change_id": str(change.id)}, "/profile")
            # The password change is immediate (the owner recovers with /forgot and WhatsApp).
            await tab.call(HYDRATE_AND_LOAD, {}, pathname="/security")
            await tab.call(f"{SECURITY}.load", {}, "/security")
            await tab.call(f"{SECURITY}.change_password", {"form_data": {
                "current_password": password, "new_password": "the-thiefs-new-password"}}, "/security")
        return cookie

    attacker_cookie = run_async(attack())
    assert _user(owner_email).email == owner_email  # not moved
    [change] = _pending(user_id)  # scheduled, still waiting: the attacker could not cancel it
    assert change.kind == "email"

    async def recover() -> None:
        before = _last_outbox_id()
        answer = httpx.post(panel_url + "/api/session/forgot", data={"email": owner_email},
                            headers={"Origin": panel_url}, follow_redirects=False, timeout=30)
        assert answer.status_code == 303
        token = _newest(owner_email, RESET_LINK, before)
        path = f"/reset?token={token}"
        async with RawClient(panel_url, None) as tab:
            await tab.call(HYDRATE_AND_LOAD, {}, pathname=path)
            await tab.call(f"{RESET}.open_reset", {}, path)
            await tab.call(f"{RESET}.choose_method", {"method": "whatsapp"}, path)
            before = _last_outbox_id()
            await tab.call(f"{RESET}.send_code", {}, path)
            await tab.call(f"{RESET}.verify", {"form_data": {"code": _newest(phone, CODE, before)}}, path)
            await tab.call(f"{RESET}.set_password", {"form_data": {"new_password": "the-owners-new-password"}},
                           path)
        # Signed in again; verified with WhatsApp (not the mailbox the change would replace),
        # the owner cancels the waiting change.
        cookie = login_token(panel_url, owner_email, "the-owners-new-password")
        async with RawClient(panel_url, cookie) as tab:
            await _verify(tab, "whatsapp", phone)
            await tab.call(f"{PROFILE}.load", {}, "/profile")
            await tab.call(f"{PROFILE}.cancel_scheduled", {"change_id": str(change.id)}, "/profile")

    run_async(recover())
    assert _pending(user_id) == []
    with transaction() as db:  # the attacker is out: their session ended with the reset
        assert sessions.find_by_token(db, attacker_cookie).revoked_at is not None
    thief = httpx.post(panel_url + "/api/session/login", data={"email": owner_email,
                                                               "password": "the-thiefs-new-password"},
                       headers={"Origin": panel_url}, follow_redirects=False, timeout=30)
    assert "panel_session" not in thief.headers.get("set-cookie", "")


def test_an_owner_verified_by_email_is_told_before_typing_that_a_new_address_waits(page, panel_url):
    """The same rule as a person meets it: the page says so before the new address is typed
    (no code to the current mailbox is asked for: the verification came from it), the change
    is scheduled, and its row says which method cancels it instead of offering a button that
    this verification could not use."""
    stamp = int(time.time() * 1000)
    email, phone = f"waits-{stamp}@example.net", f"+49151{(stamp + 3) % 10**8:08d}"
    create_user(email, "a-long-test-password", phone=phone)
    sign_in(page, panel_url, email, "a-long-test-password", next_path="/profile")
    pass_gate_by_email(page, panel_url, email)
    page.locator("#change-email").click()
    expect(page.locator("#waits-hint")).to_contain_text("only after 72 hours")
    expect(page.locator("#no-access-to-old")).to_have_count(0)
    new_address = f"new-{stamp}@example.net"
    page.locator("#new-contact").fill(new_address)
    page.locator("#send-contact-code").click()
    expect(page.locator("#contact-old-code")).to_have_count(0)
    page.locator("#contact-code").fill(latest_code(page, panel_url, new_address))
    page.locator("#confirm-contact").click()
    scheduled = page.locator("#scheduled-changes")
    expect(scheduled).to_contain_text("n•••@example.net")
    expect(scheduled.locator("[id^=cancel-advice-]")).to_contain_text("WhatsApp")
    expect(scheduled.locator("[id^=cancel-scheduled-]")).to_have_count(0)
    assert _user(email).email == email


# --- the outside review's attacks (issue 20): each asserts the secure behaviour --------------


def _with_app(user_id: int, *, days_ago: int) -> None:
    """The user has an authenticator app, set up ``days_ago`` (settled after 3 days)."""
    with transaction() as db:
        row = db.get(User, user_id)
        secret, _uri = authenticator_setup.begin_totp_enrollment(db, row, utcnow())
        assert authenticator_setup.confirm_totp_enrollment(db, row, totp.code_at(secret, utcnow()), utcnow(),
                                                           Actor.for_user(row)).ok
        app = authenticator_setup.authenticator.active_row(db, user_id)
        app.confirmed_at = utcnow() - timedelta(days=days_ago)
        db.add(app)


def _grant(cookie: str, method: str) -> None:
    with transaction() as db:
        sessions.start_grant(db, sessions.find_by_token(db, cookie), method=method, now=utcnow(), ttl_seconds=600)


def _stamp() -> int:
    return int(time.time() * 1000)


async def _change_contact(tab: RawClient, kind: str, new_value: str, old_value: str | None) -> str:
    """begin, send, confirm with every code the attacker can read."""
    await tab.call(HYDRATE_AND_LOAD, {}, pathname="/profile")
    await tab.call(f"{PROFILE}.load", {}, "/profile")
    await tab.call(f"{PROFILE}.begin_change", {"kind": kind}, "/profile")
    before = _last_outbox_id()
    await tab.call(f"{PROFILE}.send_change_code", {"form_data": {"value": new_value}}, "/profile")
    new_code = _newest(new_value, CODE, before)
    old_code = ""
    if old_value:
        try:
            old_code = _newest(old_value, CODE, before)
        except AssertionError:
            old_code = ""  # no code to the old one was asked for
    return await tab.call(f"{PROFILE}.confirm_change", {"form_data": {"code": new_code, "old_code": old_code}},
                          "/profile")


# --- the owner's new app, removed by the mailbox; then the address moves at once ---------------


def test_mailbox_removes_the_owners_new_app_then_moves_the_address_at_once(panel_url):
    stamp = _stamp()
    owner, thief = f"newapp-{stamp}@example.net", f"thief-{stamp}@evil.example"
    password = "the-owners-password-1"
    create_user(owner, password, phone=None)
    user_id = _user(owner).id
    _with_app(user_id, days_ago=1)  # the owner set up an app yesterday (not settled yet)

    async def attack() -> None:
        cookie = login_token(panel_url, owner, password)
        _grant(cookie, "email")  # the mailbox's grant (obtained as test_stolen_mailbox does)
        async with RawClient(panel_url, cookie) as tab:
            await tab.call(HYDRATE_AND_LOAD, {}, pathname="/security")
            await tab.call(f"{SECURITY}.load", {}, "/security")
            await tab.call(f"{SECURITY}.remove_totp", {}, "/security")
        _grant(cookie, "email")  # the grant ended with the factor: verify by email again
        async with RawClient(panel_url, cookie) as tab:
            await _change_contact(tab, "email", thief, owner)

    run_async(attack())
    assert _email_of(user_id) == owner, "the owner's new app went, then the address moved at once to the thief"


def _email_of(user_id: int) -> str:
    with transaction() as db:
        return db.get(User, user_id).email


def _let_cooldown_pass(user_id: int) -> None:
    """As if a minute had passed since the last code (the send cooldown per channel)."""
    with transaction() as db:
        for row in db.exec(select(VerificationCode).where(VerificationCode.user_id == user_id)).all():
            row.created_at -= timedelta(seconds=120)
            db.add(row)


# --- a waiting change of the owner (or support) cancelled by scheduling another -----------------


def test_mailbox_cancels_supports_waiting_address_by_scheduling_its_own(panel_url):
    stamp = _stamp()
    owner, thief = f"support-{stamp}@example.net", f"thief-{stamp}@evil.example"
    phone = f"+49151{stamp % 10**8:08d}"
    password = "the-owners-password-2"
    create_user(owner, password, phone=phone)
    user_id = _user(owner).id
    with transaction() as db:  # support, after an identity check, scheduled the owner's new address
        row = db.get(User, user_id)
        change = factor_changes.schedule(db, Actor(None, row.account_id, "Support (Maria)"), row, "email",
                                         f"owner-new-{stamp}@example.net", now=utcnow(),
                                         delay_seconds=72 * 3600, requested_by="Support (Maria)", by=factor_changes.BY_PANEL)

    async def attack() -> None:
        cookie = login_token(panel_url, owner, password)
        _grant(cookie, "email")
        async with RawClient(panel_url, cookie) as tab:
            await tab.call(HYDRATE_AND_LOAD, {}, pathname="/profile")
            await tab.call(f"{PROFILE}.load", {}, "/profile")
            # Refused, as the rule says ...
            await tab.call(f"{PROFILE}.cancel_scheduled", {"change_id": str(change.id)}, "/profile")
            # ... and so is a change of its own, which would replace (cancel) the owner's.
            await tab.call(f"{PROFILE}.begin_change", {"kind": "email"}, "/profile")
            await tab.call(f"{PROFILE}.send_change_code", {"form_data": {"value": thief}}, "/profile")

    run_async(attack())
    with transaction() as db:
        assert outbox_messages(db, thief, limit=1) == []  # not even a code went out
    with transaction() as db:
        row = db.get(FactorChange, change.id)
        assert row.cancelled_at is None, f"support's waiting change was cancelled: {row.cancelled_by}"
    assert _email_of(user_id) == owner


# --- a number added with the mailbox, kept until it settles ------------------------------------


def test_mailbox_keeps_the_number_it_added_until_it_outranks_the_owners_app(panel_url):
    """Email + a settled app, no number: the mailbox adds the thief's number. It waits (it would
    settle into a factor that outranks the app's owner), and the owner's app cancels it."""
    stamp = _stamp()
    owner = f"addphone-{stamp}@example.net"
    thief_phone = f"+49152{stamp % 10**8:08d}"
    password = "the-owners-password-3"
    create_user(owner, password, phone=None)
    user_id = _user(owner).id
    _with_app(user_id, days_ago=30)  # a settled app (set up a month ago), no number

    async def add_number() -> None:
        cookie = login_token(panel_url, owner, password)
        _grant(cookie, "email")
        async with RawClient(panel_url, cookie) as tab:
            await _change_contact(tab, "phone", thief_phone, None)

    run_async(add_number())
    assert _user(owner).phone is None  # not at once
    with transaction() as db:
        [waiting] = db.exec(select(FactorChange).where(FactorChange.user_id == user_id,
                                                       FactorChange.cancelled_at.is_(None))).all()

    async def owner_cancels() -> None:
        cookie = login_token(panel_url, owner, password)
        _grant(cookie, "totp")  # the owner, with the settled app
        async with RawClient(panel_url, cookie) as tab:
            await tab.call(HYDRATE_AND_LOAD, {}, pathname="/profile")
            await tab.call(f"{PROFILE}.load", {}, "/profile")
            await tab.call(f"{PROFILE}.cancel_scheduled", {"change_id": str(waiting.id)}, "/profile")

    run_async(owner_cancels())
    with transaction() as db:
        assert db.get(FactorChange, waiting.id).cancelled_at is not None
    assert _user(owner).phone is None


# --- Origin on the form routes, against the real server -----------------------------------------


ROUTES = ["/api/session/login", "/api/session/logout", "/api/session/forgot", "/api/session/device",
          "/api/staff/login"]


def _post(url: str, headers: dict | list, **kwargs) -> httpx.Response:
    return httpx.post(url, data={"email": "owner@example.com", "password": "panel-demo-owner"}, headers=headers,
                      follow_redirects=False, timeout=30, **kwargs)


@pytest.mark.parametrize("path", ROUTES)
def test_origin_variants_are_refused(panel_url, path):
    host = panel_url.split("://", 1)[1]
    variants = {
        "suffix": {"Origin": panel_url + ".evil"},
        "userinfo": {"Origin": f"http://{host}@evil.example"},
        "https-scheme": {"Origin": panel_url.replace("http://", "https://")},
        "other-port": {"Origin": "http://localhost:1"},
        "null": {"Origin": "null"},
        "empty": {"Origin": ""},
        "upper-name": {"ORIGIN": "http://evil.example"},
        "referer-only": {"Referer": panel_url + "/login"},
        "fetch-same-site": {"Sec-Fetch-Site": "same-site"},
        "fetch-upper": {"Sec-Fetch-Site": "Same-Origin", "Origin": "null"},
        "fetch-none": {"Sec-Fetch-Site": "none"},
        "text-plain": {"Origin": "http://evil.example", "Content-Type": "text/plain"},
    }
    passed = []
    for name, headers in variants.items():
        response = _post(panel_url + path, headers)
        if response.status_code != 403:
            passed.append((name, response.status_code))
    # Two Origin headers, the foreign one first.
    response = _post(panel_url + path, [("Origin", "http://evil.example"), ("Origin", panel_url)])
    if response.status_code != 403:
        passed.append(("two-origins", response.status_code))
    assert passed == []


@pytest.mark.parametrize("path", ROUTES)
def test_other_methods_do_not_reach_the_routes(panel_url, path):
    for method in ("PUT", "PATCH", "DELETE"):
        response = httpx.request(method, panel_url + path, data={"email": "x"}, headers={"Origin": panel_url},
                                 timeout=30)
        assert response.status_code in (404, 405), (method, response.status_code)
    response = httpx.head(panel_url + path, timeout=30)
    assert response.status_code in (404, 405) and "set-cookie" not in response.headers


@pytest.mark.parametrize("path", ["/api/session/login", "/api/session/forgot"])
def test_a_spoofed_host_does_not_make_a_foreign_origin_the_panels_own(panel_url, path):
    """``_same_origin`` also accepts ``{scheme}://{Host header}``: a request (e.g. a DNS-rebinding
    page, whose browser sends ``Host: evil.example`` and ``Origin: http://evil.example``) whose
    Host is foreign passes. Only the configured public URL should count. (Low: no panel cookie
    rides along to a rebinding origin; cookie-less routes such as /forgot and login answer.)"""
    response = _post(panel_url + path, {"Host": "evil.example", "Origin": "http://evil.example"})
    assert response.status_code == 403, response.status_code
