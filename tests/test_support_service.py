"""Support tickets: validation, account scoping, status changes, audit, and the
"I didn't get the code" contact update request."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from panel_app.models import AuditEvent, LoginSession, Ticket, TicketMessage
from panel_app.services import support
from panel_app.services.audit import Actor
from panel_app.services.support import (
    close_ticket,
    create_contact_update_ticket,
    create_ticket,
    get_ticket,
    list_tickets,
    reply_to_ticket,
    support_reply,
)
from panel_app.services.validation import NotFound, ValidationError


@pytest.fixture
def owner(make_user):
    return make_user()


@pytest.fixture
def actor(owner):
    return Actor.for_user(owner)


def audits(db):
    db.expire_all()
    return db.exec(select(AuditEvent).order_by(AuditEvent.id)).all()


def error(callable_, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(ValidationError) as info:
        callable_(*args, **kwargs)
    return info.value.field, info.value.message_key


def new_ticket(db, actor, now, **overrides):
    fields = dict(kind="technical", subject="Website down", body="Since 10:00 my site shows a 502.")
    fields.update(overrides)
    return create_ticket(db, actor, now=now, **fields)


def test_create_ticket(db, actor, owner, now):
    detail = new_ticket(db, actor, now, body="Line one\r\nLine two\n\n\tindented")
    assert (detail.ticket.subject, detail.ticket.kind, detail.ticket.status) == (
        "Website down", "technical", "open")
    (message,) = detail.messages
    assert message.body == "Line one\nLine two\n\n\tindented"
    assert message.author_label == "Test Owner" and not message.from_support
    (event,) = audits(db)
    assert (event.action, event.area, event.target, json.loads(event.detail)) == (
        "ticket_created", "support", f"#{detail.ticket.id}", {"kind": "technical"})


@pytest.mark.parametrize(
    "field, value, expected",
    [
        ("subject", "ab", ("subject", "support.error.subject_too_short")),
        ("subject", "  ab  ", ("subject", "support.error.subject_too_short")),
        ("subject", "x" * 201, ("subject", "validation.too_long")),
        ("subject", "", ("subject", "validation.required")),
        ("subject", "two\nlines", ("subject", "validation.invalid")),
        ("subject", 123, ("subject", "validation.invalid")),
        ("body", "", ("body", "validation.required")),
        ("body", " \n\t ", ("body", "validation.required")),
        ("body", "x" * 10_001, ("body", "validation.too_long")),
        ("body", "bell\x07", ("body", "validation.invalid")),
        ("body", ["hi"], ("body", "validation.invalid")),
        ("kind", "sales", ("kind", "support.error.kind_invalid")),
        ("kind", None, ("kind", "support.error.kind_invalid")),
    ],
)
def test_ticket_validation(db, actor, now, field, value, expected):
    assert error(new_ticket, db, actor, now, **{field: value}) == expected
    assert db.exec(select(Ticket)).all() == [] and audits(db) == []


@pytest.mark.parametrize(
    "field, value",
    [("subject", "abc"), ("subject", "x" * 200), ("body", "x"), ("body", "x" * 10_000), ("kind", "general"),
     ("kind", "billing"), ("kind", "contact_update")],
)
def test_ticket_limits_accepted(db, actor, now, field, value):
    assert new_ticket(db, actor, now, **{field: value}).ticket.id


def test_list_is_scoped_and_ordered(db, actor, owner, make_user, now):
    stranger = make_user(email="stranger@test.example")
    first = new_ticket(db, actor, now, subject="First")
    second = new_ticket(db, actor, now + timedelta(minutes=1), subject="Second")
    closed = new_ticket(db, actor, now + timedelta(minutes=2), subject="Old problem")
    close_ticket(db, actor, closed.ticket.id, now=now + timedelta(minutes=3))
    new_ticket(db, Actor.for_user(stranger), now, subject="Not yours")

    rows = list_tickets(db, support.scope_for(owner))
    assert [r.subject for r in rows] == ["Second", "First", "Old problem"]  # closed ones last
    assert all(r.message_count == 1 for r in rows)
    assert {r.id for r in rows} == {first.ticket.id, second.ticket.id, closed.ticket.id}


def test_other_accounts_ticket_is_not_found_everywhere(db, actor, make_user, now):
    stranger = make_user(email="stranger@test.example")
    theirs = new_ticket(db, Actor.for_user(stranger), now, subject="Private")
    before = len(audits(db))
    for ticket_id in [theirs.ticket.id, str(theirs.ticket.id), 424242, 2**31, "99999999999", -5, "x", None,
                      True, {"id": 1}]:
        with pytest.raises(NotFound):
            get_ticket(db, support.TicketScope(actor.account_id, None), ticket_id)
        with pytest.raises(NotFound):
            reply_to_ticket(db, actor, ticket_id, "Let me in", now=now)
        with pytest.raises(NotFound):
            close_ticket(db, actor, ticket_id, now=now)
    assert len(audits(db)) == before
    db.expire_all()
    assert db.get(Ticket, theirs.ticket.id).status == "open"
    assert len(db.exec(select(TicketMessage)).all()) == 1


def test_conversation_and_statuses(db, actor, owner, now):
    ticket_id = new_ticket(db, actor, now).ticket.id

    answered = support_reply(db, ticket_id, "We restarted the web server.", now=now + timedelta(minutes=5))
    assert answered.ticket.status == "answered"
    assert answered.messages[-1].from_support and answered.messages[-1].author_label == "Panel Support"

    replied = reply_to_ticket(db, actor, ticket_id, "Works again, thanks!", now=now + timedelta(minutes=9))
    assert replied.ticket.status == "open"
    assert [m.body for m in replied.messages] == ["Since 10:00 my site shows a 502.",
                                                  "We restarted the web server.", "Works again, thanks!"]
    assert replied.ticket.updated_at == now + timedelta(minutes=9)

    closed = close_ticket(db, actor, ticket_id, now=now + timedelta(minutes=10))
    assert closed.ticket.status == "closed"
    assert error(reply_to_ticket, db, actor, ticket_id, "One more thing", now=now) == (
        "body", "support.error.ticket_closed")
    close_ticket(db, actor, ticket_id, now=now + timedelta(minutes=11))  # again: nothing changes

    events = audits(db)
    assert [e.action for e in events] == [
        "ticket_created", "ticket_answered", "ticket_replied", "ticket_closed"]
    assert all(e.account_id == owner.account_id for e in events)
    assert events[1].actor_user_id is None and events[1].actor_label == "Panel Support"


def test_reply_validation(db, actor, now):
    ticket_id = new_ticket(db, actor, now).ticket.id
    assert error(reply_to_ticket, db, actor, ticket_id, "", now=now) == ("body", "validation.required")
    assert error(reply_to_ticket, db, actor, ticket_id, "x" * 10_001, now=now) == (
        "body", "validation.too_long")
    assert len(audits(db)) == 1


# --- "I didn't get the code" --------------------------------------------------------------------------


def test_contact_update_request_needs_no_grant_and_speaks_the_users_language(db, owner, now):
    owner.language = "de"
    db.add(owner)
    db.add(LoginSession(user_id=owner.id, token_hash="h" * 64, created_at=now, last_seen_at=now,
                        expires_at=now + timedelta(hours=1)))  # logged in, no step-up grant
    db.commit()

    result = create_contact_update_ticket(db, Actor.for_user(owner), owner, channel="whatsapp", now=now,
                                          note="Neue Nummer: bitte anrufen.")

    assert result.created
    assert (result.ticket.kind, result.ticket.status) == ("contact_update", "open")
    assert result.ticket.subject == "Bitte meine Kontaktdaten aktualisieren"
    (message,) = get_ticket(db, support.scope_for(owner), result.ticket.id).messages
    assert "per WhatsApp nicht erhalten" in message.body
    assert message.body.endswith("Neue Nummer: bitte anrufen.")
    (event,) = audits(db)
    assert (event.action, event.area, json.loads(event.detail)) == (
        "ticket_created", "support", {"kind": "contact_update"})


def test_repeated_requests_do_not_flood_support(db, owner, now):
    actor = Actor.for_user(owner)
    first = create_contact_update_ticket(db, actor, owner, channel="email", now=now)
    again = create_contact_update_ticket(db, actor, owner, channel="email", now=now + timedelta(minutes=1))
    assert not again.created and again.ticket.id == first.ticket.id
    assert len(audits(db)) == 1

    close_ticket(db, actor, first.ticket.id, now=now + timedelta(days=1))
    later = create_contact_update_ticket(db, actor, owner, channel="email", now=now + timedelta(days=2))
    assert later.created and later.ticket.id != first.ticket.id
    assert [e.action for e in audits(db)] == ["ticket_created", "ticket_closed", "ticket_created"]


def test_contact_update_request_validation(db, owner, make_user, now):
    actor = Actor.for_user(owner)
    assert error(create_contact_update_ticket, db, actor, owner, channel="sms", now=now) == (
        "channel", "validation.invalid")
    assert error(create_contact_update_ticket, db, actor, owner, channel="email", now=now,
                 note="x" * (support.NOTE_MAX + 1)) == ("note", "validation.too_long")
    other = make_user(email="other@test.example")
    other_actor = Actor.for_user(other)
    assert error(create_contact_update_ticket, db, other_actor, owner, channel="email", now=now) == (
        "channel", "support.error.not_allowed")
    assert db.exec(select(Ticket)).all() == [] and audits(db) == []
