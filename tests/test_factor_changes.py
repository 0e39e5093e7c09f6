"""Contact changes without the old address or number: scheduled, announced, cancellable,
honouring the waiting period on an explicit clock (services/factor_changes.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from panel_app.db import transaction
from panel_app.models import AuditEvent, LoginSession, User
from panel_app.services import factor_changes
from panel_app.services.audit import Actor
from panel_app.services.validation import ValidationError
from tests.state_harness import login_token

DELAY = 72 * 3600


def _schedule(user_id: int, now, kind="phone", value="+4915199999999"):
    with transaction() as db:
        user = db.get(User, user_id)
        return factor_changes.schedule(db, Actor.for_user(user), user, kind, value, now=now, delay_seconds=DELAY,
                                       requested_by=user.email, by=factor_changes.BY_PANEL)


def _user(user_id: int) -> User:
    with transaction() as db:
        return db.get(User, user_id)


def test_nothing_changes_before_the_waiting_period_is_over(make_user, now):
    user = make_user()
    change = _schedule(user.id, now)
    assert change.effective_at == now + timedelta(seconds=DELAY)
    assert _user(user.id).factor_change_pending and _user(user.id).phone == "+4915112345612"
    with transaction() as db:
        assert factor_changes.apply_due(db, now=now + timedelta(seconds=DELAY - 1)) == []
    assert _user(user.id).phone == "+4915112345612"


def test_the_reminder_comes_a_day_before_and_only_once(make_user, now):
    user = make_user()
    _schedule(user.id, now)
    with transaction() as db:
        assert factor_changes.remind_due(db, now=now + timedelta(hours=47), delay_seconds=DELAY) == []
    with transaction() as db:
        [(user_id, change)] = factor_changes.remind_due(db, now=now + timedelta(hours=48), delay_seconds=DELAY)
    assert user_id == user.id and change.kind == "phone"
    with transaction() as db:
        assert factor_changes.remind_due(db, now=now + timedelta(hours=49), delay_seconds=DELAY) == []


def test_after_the_waiting_period_the_change_applies_once_and_ends_every_grant(make_user, now):
    user = make_user()
    token = login_token(user, now, grant_method="email")
    _schedule(user.id, now)
    later = now + timedelta(seconds=DELAY)
    with transaction() as db:
        [applied] = factor_changes.apply_due(db, now=later)
    assert applied.old_value == "+4915112345612" and applied.change.new_value == "+4915199999999"
    assert _user(user.id).phone == "+4915199999999" and not _user(user.id).factor_change_pending
    with transaction() as db:
        assert factor_changes.apply_due(db, now=later) == []  # claimed once
        row = db.exec(select(LoginSession)).one()
        assert row.grant_expires_at is None and token
        actions = [e.action for e in db.exec(select(AuditEvent))]
    assert actions.count("contact_change_scheduled") == 1 and actions.count("contact_changed") == 1


def test_a_cancelled_change_never_applies(make_user, now):
    user = make_user()
    change = _schedule(user.id, now)
    with transaction() as db:
        row = db.get(User, user.id)
        factor_changes.cancel(db, Actor.for_user(row), row, str(change.id), now=now, by="email")
    assert not _user(user.id).factor_change_pending
    with transaction() as db:
        assert factor_changes.apply_due(db, now=now + timedelta(days=10)) == []
        with pytest.raises(ValidationError):  # twice, or someone else's: not found
            factor_changes.cancel(db, Actor.for_user(row), row, str(change.id), now=now, by="email")


def test_someone_elses_change_cannot_be_cancelled(make_user, now):
    owner = make_user()
    other = make_user(email="other@test.example", phone="+4915100000002")
    change = _schedule(owner.id, now)
    with transaction() as db:
        row = db.get(User, other.id)
        for junk in (str(change.id), "-1", "x", None, 10**30):
            with pytest.raises(ValidationError):
                factor_changes.cancel(db, Actor.for_user(row), row, junk, now=now, by="email")
    assert _user(owner.id).factor_change_pending


def test_a_new_request_replaces_the_waiting_one_of_the_same_kind(make_user, now):
    user = make_user()
    _schedule(user.id, now, value="+4915199999999")
    _schedule(user.id, now + timedelta(hours=1), value="+4915188888888")
    with transaction() as db:
        [waiting] = factor_changes.pending(db, user.id)
    assert waiting.new_value == "+4915188888888"


def test_a_value_taken_in_the_meantime_is_not_applied(make_user, now):
    user = make_user()
    _schedule(user.id, now, kind="email", value="wanted@test.example")
    make_user(email="wanted@test.example", phone="+4915100000003")
    with transaction() as db:
        assert factor_changes.apply_due(db, now=now + timedelta(seconds=DELAY)) == []
    assert _user(user.id).email == "owner@test.example" and not _user(user.id).factor_change_pending


def test_a_change_applied_meanwhile_cannot_be_cancelled(make_user, now):
    user = make_user()
    change = _schedule(user.id, now)
    with transaction() as db:
        factor_changes.apply_due(db, now=now + timedelta(seconds=DELAY))
    with transaction() as db:
        row = db.get(User, user.id)
        with pytest.raises(ValidationError):
            factor_changes.cancel(db, Actor.for_user(row), row, str(change.id), now=now + timedelta(seconds=DELAY),
                                  by="email")
    assert _user(user.id).phone == "+4915199999999"
