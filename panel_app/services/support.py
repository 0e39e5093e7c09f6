"""Support tickets of an account: list, read, open, reply, close.

Every user reads and answers the tickets they opened themselves (a technical administrator's
"update my contact details" request, say) and may open new ones. Every ticket of the account
is seen by the owner and by a technical administrator with the support area only
(``scope_for``, read from the database at every call). A ticket outside the scope (another
user's without the area, another account's) is "not found", never "forbidden".
``create_contact_update_ticket`` needs no step-up grant: it is the way out for a
user whose verification code does not arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, func, select

from panel_app.delivery.base import STATUS_RANK
from panel_app.i18n import normalize_language, t
from panel_app.models import Ticket, TicketMessage, User
from panel_app.security.permissions import Area, acts_for_account
from panel_app.services import audit
from panel_app.services.audit import Actor
from panel_app.services.billing import coerce_id
from panel_app.services.validation import NotFound, ValidationError, clean_text

KINDS = ("general", "technical", "billing", "contact_update")
KIND_CONTACT_UPDATE = "contact_update"
STATUS_OPEN = "open"
STATUS_ANSWERED = "answered"
STATUS_CLOSED = "closed"

SUBJECT_MIN = 3
SUBJECT_MAX = 200
BODY_MAX = 10_000
NOTE_MAX = 2_000
SUPPORT_LABEL = "Panel Support"
CHANNELS = ("email", "whatsapp", "totp")
# How a code's message went (delivery/base.py), as a contact-update ticket names it.
DELIVERY_STATUSES = tuple(STATUS_RANK)


@dataclass(frozen=True)
class TicketRow:
    id: int
    subject: str
    kind: str
    status: str  # open | answered | closed
    created_at: datetime
    updated_at: datetime
    message_count: int


@dataclass(frozen=True)
class MessageRow:
    id: int
    author_label: str
    body: str
    created_at: datetime
    from_support: bool


@dataclass(frozen=True)
class TicketDetail:
    ticket: TicketRow
    messages: tuple[MessageRow, ...]  # oldest first


@dataclass(frozen=True)
class ContactUpdateRequest:
    ticket: TicketRow
    created: bool  # False: an open request of this user already existed and is returned instead


@dataclass(frozen=True)
class TicketScope:
    """Which tickets a user sees: the account's, or only their own (``user_id`` set)."""

    account_id: int
    user_id: int | None  # None: every ticket of the account

    @property
    def whole_account(self) -> bool:
        return self.user_id is None


def scope_for(user: User) -> TicketScope:
    """The owner and a technical administrator with the support area: every ticket of the
    account; anyone else: their own tickets."""
    if user.is_active and acts_for_account(user.role, user.areas, Area.SUPPORT):
        return TicketScope(user.account_id, None)
    return TicketScope(user.account_id, user.id)


def _actor_scope(db: Session, actor: Actor) -> TicketScope:
    """The scope of the acting user, read from the database now (never from the caller)."""
    user = db.get(User, actor.user_id) if isinstance(actor.user_id, int) else None
    if user is None or user.account_id != actor.account_id:
        raise NotFound("ticket", "support.error.not_found")
    return scope_for(user)


# --- validation -----------------------------------------------------------------------


def clean_subject(value: object) -> str:
    text = clean_text(value, "subject", max_length=SUBJECT_MAX, required=True)
    if len(text) < SUBJECT_MIN:
        raise ValidationError("subject", "support.error.subject_too_short", min=SUBJECT_MIN)
    return text


def clean_body(
    value: object, field: str = "body", *, max_length: int = BODY_MAX, required: bool = True
) -> str:
    """Multi-line text: line breaks and tabs allowed, other control characters not."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(field, "validation.invalid")
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if any((ord(c) < 32 and c not in "\n\t") or ord(c) == 127 for c in text):
        raise ValidationError(field, "validation.invalid")
    if len(text) > max_length:
        raise ValidationError(field, "validation.too_long", max=max_length)
    if required and not text:
        raise ValidationError(field, "validation.required")
    return text


def clean_kind(value: object) -> str:
    if value not in KINDS:
        raise ValidationError("kind", "support.error.kind_invalid")
    return value


def _ticket_id(value: object) -> int:
    return coerce_id(value, "ticket", "support.error.not_found")


# --- reading --------------------------------------------------------------------------


def _message_counts(db: Session, ticket_ids: list[int]) -> dict[int, int]:
    if not ticket_ids:
        return {}
    rows = db.exec(
        select(TicketMessage.ticket_id, func.count())
        .where(TicketMessage.ticket_id.in_(ticket_ids))
        .group_by(TicketMessage.ticket_id)
    ).all()
    return {ticket_id: count for ticket_id, count in rows}


def _row(ticket: Ticket, count: int) -> TicketRow:
    return TicketRow(ticket.id, ticket.subject, ticket.kind, ticket.status, ticket.created_at,
                     ticket.updated_at, count)


def _in_scope(scope: TicketScope) -> list:
    conditions = [Ticket.account_id == scope.account_id]
    if scope.user_id is not None:
        conditions.append(Ticket.user_id == scope.user_id)
    return conditions


def list_tickets(db: Session, scope: TicketScope) -> tuple[TicketRow, ...]:
    """Not closed first, then most recently updated first."""
    tickets = db.exec(
        select(Ticket)
        .where(*_in_scope(scope))
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
    ).all()
    counts = _message_counts(db, [t.id for t in tickets])
    rows = [_row(ticket, counts.get(ticket.id, 0)) for ticket in tickets]
    rows.sort(key=lambda r: r.status == STATUS_CLOSED)
    return tuple(rows)


def open_ticket_count(db: Session, scope: TicketScope) -> int:
    """Tickets in the scope that are not closed (open or answered)."""
    return int(db.exec(select(func.count()).select_from(Ticket)
                       .where(*_in_scope(scope), Ticket.status != STATUS_CLOSED)).one())


def _get(db: Session, scope: TicketScope, ticket_id: object) -> Ticket:
    ticket = db.get(Ticket, _ticket_id(ticket_id))
    if (ticket is None or ticket.account_id != scope.account_id
            or (scope.user_id is not None and ticket.user_id != scope.user_id)):
        raise NotFound("ticket", "support.error.not_found")
    return ticket


def _detail(db: Session, ticket: Ticket) -> TicketDetail:
    messages = db.exec(
        select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
        .order_by(TicketMessage.created_at, TicketMessage.id)
    ).all()
    return TicketDetail(
        _row(ticket, len(messages)),
        tuple(
            MessageRow(m.id, m.author_label, m.body, m.created_at, from_support=m.author_user_id is None)
            for m in messages
        ),
    )


def get_ticket(db: Session, scope: TicketScope, ticket_id: object) -> TicketDetail:
    return _detail(db, _get(db, scope, ticket_id))


# --- changes --------------------------------------------------------------------------


def _author_label(db: Session, actor: Actor) -> str:
    user = db.get(User, actor.user_id) if actor.user_id is not None else None
    if user is not None and user.name:
        return user.name[:200]
    return actor.label[:200]


def _open_ticket(db: Session, actor: Actor, *, kind: str, subject: str, body: str, now: datetime) -> Ticket:
    ticket = Ticket(account_id=actor.account_id, user_id=actor.user_id, subject=subject, kind=kind,
                    status=STATUS_OPEN, created_at=now, updated_at=now)
    db.add(ticket)
    db.flush()
    db.add(TicketMessage(ticket_id=ticket.id, author_user_id=actor.user_id,
                         author_label=_author_label(db, actor), body=body, created_at=now))
    db.flush()
    audit.record(db, actor, Area.SUPPORT, "ticket_created", now=now, target=f"#{ticket.id}", kind=kind)
    return ticket


def create_ticket(
    db: Session, actor: Actor, *, kind: object, subject: object, body: object, now: datetime
) -> TicketDetail:
    ticket = _open_ticket(db, actor, kind=clean_kind(kind), subject=clean_subject(subject),
                          body=clean_body(body), now=now)
    return _detail(db, ticket)


def reply_to_ticket(
    db: Session, actor: Actor, ticket_id: object, body: object, *, now: datetime
) -> TicketDetail:
    """The customer's answer; the ticket goes back to ``open`` (waiting for support)."""
    ticket = _get(db, _actor_scope(db, actor), ticket_id)
    text = clean_body(body)
    if ticket.status == STATUS_CLOSED:
        raise ValidationError("body", "support.error.ticket_closed")
    db.add(TicketMessage(ticket_id=ticket.id, author_user_id=actor.user_id,
                         author_label=_author_label(db, actor), body=text, created_at=now))
    ticket.status = STATUS_OPEN
    ticket.updated_at = now
    db.add(ticket)
    db.flush()
    audit.record(db, actor, Area.SUPPORT, "ticket_replied", now=now, target=f"#{ticket.id}")
    return _detail(db, ticket)


def close_ticket(db: Session, actor: Actor, ticket_id: object, *, now: datetime) -> TicketDetail:
    """Close a ticket. Closing a closed ticket changes nothing and is not audited again."""
    ticket = _get(db, _actor_scope(db, actor), ticket_id)
    if ticket.status != STATUS_CLOSED:
        ticket.status = STATUS_CLOSED
        ticket.updated_at = now
        db.add(ticket)
        db.flush()
        audit.record(db, actor, Area.SUPPORT, "ticket_closed", now=now, target=f"#{ticket.id}")
    return _detail(db, ticket)


def support_reply(
    db: Session, ticket_id: int, body: object, *, now: datetime, label: str = SUPPORT_LABEL
) -> TicketDetail:
    """An answer from the support team (back office, demo seed): status becomes ``answered``."""
    ticket = db.get(Ticket, _ticket_id(ticket_id))
    if ticket is None:
        raise NotFound("ticket", "support.error.not_found")
    text = clean_body(body)
    db.add(TicketMessage(ticket_id=ticket.id, author_user_id=None, author_label=label[:200], body=text,
                         created_at=now))
    ticket.status = STATUS_ANSWERED
    ticket.updated_at = now
    db.add(ticket)
    db.flush()
    staff = Actor(user_id=None, account_id=ticket.account_id, label=label)
    audit.record(db, staff, Area.SUPPORT, "ticket_answered", now=now, target=f"#{ticket.id}")
    return _detail(db, ticket)


def create_contact_update_ticket(
    db: Session, actor: Actor, user: User, *, channel: object, now: datetime, note: object = "",
    delivery_status: object = "",
) -> ContactUpdateRequest:
    """"I didn't get the code": ask support to update the user's contact details.

    ``channel`` is the one that failed (email, WhatsApp, or the app); ``delivery_status``
    how the last code on it went (``DELIVERY_STATUSES``; "" when none was sent): both
    are named in the ticket, so support knows where to start.

    Needs only a login (no step-up grant): the caller must still check the login
    session. Subject and text are written in the user's language. While the user
    already has a request that is not closed, that one is returned and nothing is
    written, so repeated clicks do not flood the support queue.
    """
    if actor.user_id != user.id or actor.account_id != user.account_id:
        raise ValidationError("channel", "support.error.not_allowed")
    if channel not in CHANNELS:
        raise ValidationError("channel", "validation.invalid")
    if delivery_status != "" and delivery_status not in DELIVERY_STATUSES:
        raise ValidationError("delivery_status", "validation.invalid")
    note_text = clean_body(note, "note", max_length=NOTE_MAX, required=False)
    existing = db.exec(
        select(Ticket).where(Ticket.user_id == user.id, Ticket.kind == KIND_CONTACT_UPDATE,
                             Ticket.status != STATUS_CLOSED).order_by(Ticket.id.desc())
    ).first()
    if existing is not None:
        return ContactUpdateRequest(_detail(db, existing).ticket, created=False)
    lang = normalize_language(user.language)
    channel_name = t(f"support.channel.{channel}", lang)
    if channel == "totp":
        body = t("support.contact_update.body_app", lang)
    elif delivery_status:
        body = t("support.contact_update.body_status", lang, channel=channel_name,
                 status=t(f"delivery_status.{delivery_status}", lang))
    else:
        body = t("support.contact_update.body", lang, channel=channel_name)
    if note_text:
        body += "\n\n" + note_text
    subject = t("support.contact_update.subject", lang)
    ticket = _open_ticket(db, actor, kind=KIND_CONTACT_UPDATE, subject=subject, body=body, now=now)
    return ContactUpdateRequest(_detail(db, ticket).ticket, created=True)
