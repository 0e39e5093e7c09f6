"""Issue 20's takeover, replayed over a raw websocket against the running panel: an attacker
with the owner's password and mailbox (no browser, no UI) tries to move the email address
and lock the owner out. The address only gets *scheduled*; the attacker cannot cancel the
owner's way back; the password change they may make is undone by the owner with ``/forgot``
and the WhatsApp code, which ends the attacker's session. The owner then cancels the waiting
change with a factor it does not replace."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from sqlmodel import select

from panel_app.db import transaction
from panel_app.delivery.outbox import outbox_messages
from panel_app.models import FactorChange, User
from panel_app.security import sessions
from panel_app.state.profile import ProfileState
from panel_app.state.reset import ResetState
from panel_app.state.security import SecurityState
from panel_app.state.stepup import StepUpState
from tests.browser.helpers import create_user
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
