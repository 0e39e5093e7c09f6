"""A verification method is one class behind one interface: a method registered here,
and nowhere else, is offered by the gate and the Security page, opens a grant, and its
guesses count in the one guess budget every method shares."""

from __future__ import annotations

import hmac
from datetime import datetime

import pytest
from sqlmodel import Session, select

from panel_app.db import transaction
from panel_app.models import AuditEvent, User
from panel_app.security import sessions
from panel_app.services import methods, password_reset, stepup
from panel_app.services.audit import Actor
from panel_app.services.methods import CodeScope, MethodCheck, StepUpMethod
from panel_app.state.security import SecurityState
from panel_app.state.stepup import StepUpState
from tests.state_harness import login_token, tab_state

RIGHT = "424242"


class HardwareKey(StepUpMethod):
    """A stand-in for a new factor (think passkey): every user has one, its answer is fixed."""

    name = "fakekey"
    label_key = "gate.method.totp"  # any catalog key: the gate needs a name to show
    hint_key = "gate.totp_hint"
    order = 15  # between the app and email

    def is_available(self, db: Session, user: User) -> bool:
        return True

    def set_up_at(self, db: Session, user: User) -> datetime | None:
        return None  # set up long ago: settled

    def verify(self, db: Session, *, user: User, scope: CodeScope, value: str, now: datetime) -> MethodCheck:
        if hmac.compare_digest(value, RIGHT):
            return MethodCheck(ok=True)
        return MethodCheck(ok=False, reason="wrong", error_key="stepup.error.code_wrong")


@pytest.fixture
def fake_method():
    method = methods.register(HardwareKey())
    try:
        yield method
    finally:
        methods.unregister(method.name)


def test_the_registry_refuses_names_the_grant_cannot_hold(fake_method):
    class TooLong(HardwareKey):
        name = "a-very-long-method-name"

    with pytest.raises(ValueError):
        methods.register(TooLong())
    with pytest.raises(ValueError):
        methods.register(HardwareKey())  # a second one under a taken name
    assert methods.get("fakekey") is fake_method and methods.get(["fakekey"]) is None


async def test_the_gate_offers_a_registered_method_and_it_opens_the_grant(make_user, fake_method):
    user = make_user()
    gate = tab_state(StepUpState, login_token(user), "/invoices")
    gate.prepare()
    assert gate.methods == ["fakekey", "email", "whatsapp"]
    gate.choose_method("fakekey")
    assert gate.method == "fakekey" and not gate.code_sent
    gate.send_code()  # it sends nothing: nothing happens
    gate.verify({"code": "000000"})
    assert not gate.grant_active and gate.error
    gate.verify({"code": RIGHT})
    assert gate.grant_active and gate.error == ""
    with transaction() as db:
        assert db.exec(select(AuditEvent).where(AuditEvent.action == "grant_started")).one().detail.count(
            '"method": "fakekey"') == 1


def test_the_gate_names_every_registered_method(fake_method):
    from panel_app.components.gate import method_label

    assert '"fakekey"' in str(method_label(StepUpState.method))


async def test_the_security_page_lists_it_and_it_may_be_preferred(make_user, fake_method):
    user = make_user()
    page = tab_state(SecurityState, login_token(user, grant_method="email"), "/security")
    page.load()
    assert page.channel_choices == ["fakekey", "email", "whatsapp"]
    page.set_preferred("fakekey")
    assert page.preferred_channel == "fakekey" and not page.error


def test_its_guesses_count_in_the_shared_budget(db, make_user, now, fake_method):
    user = db.get(User, make_user().id)
    login, _token = sessions.create_session(db, user, ip="", user_agent="", now=now, absolute_seconds=3600)
    db.commit()

    def verify(method, submitted):
        result = stepup.verify_stepup(db, user=user, login_session=login, method=method, submitted=submitted,
                                      now=now, actor=Actor.for_user(user), ttl_seconds=600)
        db.commit()
        return result

    assert [verify("fakekey", "000000").retry_after_seconds for _ in range(4)] == [0, 0, 0, 0]
    sent = stepup.request_stepup_code(db, user=user, login_session=login, channel="email", now=now,
                                      actor=Actor.for_user(user))
    db.commit()
    fifth = verify("email", f"{(int(sent.code) + 1) % 1_000_000:06d}")
    assert fifth.retry_after_seconds == 30  # four wrong keys and one wrong email code: one schedule
    locked = verify("fakekey", RIGHT)
    assert not locked.ok and locked.error_key == "stepup.error.locked"
    assert db.get(User, user.id).stepup_failures == 5
    # Like the app's, its guesses also count in the user's cap across all browsers.
    assert "stepup:app-window:" in " ".join(stepup._windows(user.id, None, "fakekey"))
    assert "stepup:app-window:" not in " ".join(stepup._windows(user.id, None, "email"))


def test_a_reset_accepts_it_only_when_it_says_so(db, make_user, now, fake_method):
    user = db.get(User, make_user(phone=None).id)
    assert password_reset.methods_for(db, user, now) == []  # opting in is the method's own decision
    HardwareKey.proves_password_reset = True
    try:
        assert password_reset.methods_for(db, user, now) == ["fakekey"]
    finally:
        HardwareKey.proves_password_reset = False


def test_unregistered_it_is_gone(db, make_user):
    user = db.get(User, make_user().id)
    assert stepup.available_methods(db, user) == ["email", "whatsapp"]
    assert methods.get("fakekey") is None
