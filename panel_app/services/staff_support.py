"""What support staff do: the ticket queue, answers, and the staff audit log.

Staff see no secrets. The view records here carry ticket text, the customer's name,
customer number and masked contact details: never a code, an auth code, a password
hash, a TOTP secret, a full payment number or a stored value of the identity
checklist. No function here reads a customer's sensitive areas for display.

Recovering a customer's access (the identity checklist, a scheduled contact change,
the four-eyes removal of an authenticator app) is ``services/staff_recovery.py``; the
numbers of its rules are the constants below.

Every action is in the customer's activity log ("Support (Maria) …") and in the staff
audit log (``StaffAuditEvent``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, func, select

from panel_app.delivery.base import mask_email, mask_phone
from panel_app.models import (Account, EvidenceCheck, StaffAuditEvent, StaffRequest, StaffUser, Ticket,
                              TicketMessage, User)
from panel_app.security import staff as staff_core
from panel_app.security.policy import POLICY
from panel_app.security.permissions import Area, allowed_areas
from panel_app.services import audit, factor_changes, support
from panel_app.services.audit import Actor
from panel_app.services.methods import authenticator
from panel_app.services.validation import NotFound, ValidationError

EVIDENCE_ITEMS = POLICY.evidence_items
# Where the customer's panel shows each item: the checklist asks a requester only for what
# their role shows them (a technical administrator sees no payment method and no contract data:
# their /profile holds their own person only; invoices, and the postal code printed on them,
# only with the invoices area). The owner has every area and so is asked every item.
EVIDENCE_AREAS = {
    "customer_number": frozenset({Area.DASHBOARD}),
    "invoice": frozenset({Area.INVOICES}),
    "payment_last4": frozenset({Area.PAYMENTS}),
    "postal_code": frozenset({Area.INVOICES}),
}
EVIDENCE_NEEDED = POLICY.evidence_needed
EVIDENCE_VALID = POLICY.evidence_valid
# Failed checks per ticket before it is closed to checks: the form must not become a way to
# find the stored values by trying (an agent, or a caller talking an agent through it).
MAX_FAILED_CHECKS = POLICY.evidence_failed_checks_per_ticket
MAX_FAILED_CHECKS_PER_AGENT_HOUR = POLICY.evidence_failed_checks_per_agent_hour
REQUEST_VALID = POLICY.four_eyes_request_valid
RECENT_INVOICES = 3
STATUSES = ("open", "answered", "closed")
AGES = ("any", "1d", "7d", "30d")
REASON_MAX = 500
QUEUE_LIMIT = 200


@dataclass(frozen=True)
class StaffActor:
    staff_id: int
    label: str  # "Support (Maria)"
    ip: str = ""

    @classmethod
    def of(cls, staff: StaffUser, ip: str = "") -> StaffActor:
        return cls(staff.id, staff_core.label(staff), ip[:64])

    def for_account(self, account_id: int) -> Actor:
        return Actor(None, account_id, self.label, self.ip, "")


def _staff_audit(db: Session, actor: StaffActor, action: str, *, now: datetime, account_id: int | None = None,
                 ticket_id: int | None = None, **detail) -> None:
    db.add(StaffAuditEvent(staff_id=actor.staff_id, staff_label=actor.label, action=action, account_id=account_id,
                           ticket_id=ticket_id, detail=json.dumps(detail, sort_keys=True, default=str),
                           ip=actor.ip, created_at=now))
    db.flush()


def _both_logs(db: Session, actor: StaffActor, ticket: Ticket, action: str, *, now: datetime, **detail) -> None:
    audit.record(db, actor.for_account(ticket.account_id), Area.SUPPORT, action, now=now, target=f"#{ticket.id}",
                 **detail)
    _staff_audit(db, actor, action, now=now, account_id=ticket.account_id, ticket_id=ticket.id, **detail)


# --- the queue ------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    id: int
    subject: str
    kind: str
    status: str
    customer: str  # account name (the customer number is evidence: staff never see it)
    created_at: datetime
    updated_at: datetime


def queue(db: Session, *, kind: object = "", status: object = "", age: object = "any",
          now: datetime) -> list[QueueRow]:
    """Every customer's tickets, filtered; not closed first, oldest waiting first."""
    query = select(Ticket, Account).join(Account, Account.id == Ticket.account_id)
    if kind in support.KINDS:
        query = query.where(Ticket.kind == kind)
    if status in STATUSES:
        query = query.where(Ticket.status == status)
    if age in AGES and age != "any":
        query = query.where(Ticket.updated_at <= now - timedelta(days=int(age[:-1])))
    rows = db.exec(query.order_by(Ticket.updated_at).limit(QUEUE_LIMIT)).all()
    found = [QueueRow(t.id, t.subject, t.kind, t.status, a.name, t.created_at, t.updated_at) for t, a in rows]
    found.sort(key=lambda r: r.status == support.STATUS_CLOSED)
    return found


@dataclass(frozen=True)
class EvidenceStanding:
    """Where the identity screening of a ticket stands for one agent."""

    items: tuple[str, ...]  # what the checklist asks this ticket's requester
    needed: int
    passed: bool  # this agent's pass, at most EVIDENCE_VALID old, and no failed check since
    withdrawn: bool  # this agent had such a pass, and a later check failed: it no longer counts


@dataclass(frozen=True)
class PendingView:
    """A waiting change of the requester, as staff see it (the new value masked)."""

    id: int
    kind: str  # email, phone or password
    masked: str
    effective_at: datetime
    requested_by: str  # "Support (Maria)", the customer's name, "password reset"


@dataclass(frozen=True)
class TicketView:
    id: int
    subject: str
    kind: str
    status: str
    customer: str
    requester_name: str
    requester_email: str  # masked
    requester_phone: str  # masked
    requester_has_app: bool
    messages: tuple[support.MessageRow, ...]
    pending_changes: tuple[PendingView, ...]
    evidence: EvidenceStanding
    open_request: str  # "" or the status of a four-eyes request for this ticket
    requester_role: str = ""  # "owner" or "admin" (a technical administrator)


def _ticket(db: Session, ticket_id: object) -> Ticket:
    ticket = db.get(Ticket, support._ticket_id(ticket_id))
    if ticket is None:
        raise NotFound("ticket", "support.error.not_found")
    return ticket


def _requester(db: Session, ticket: Ticket) -> User:
    user = db.get(User, ticket.user_id) if ticket.user_id is not None else None
    if user is None or user.account_id != ticket.account_id:
        raise ValidationError("ticket", "staff.error.no_requester")
    return user


def evidence_items_for(user: User | None) -> tuple[str, ...]:
    """The checklist's items for this requester: what their role lets them see in the panel."""
    if user is None:
        return ()
    seen = allowed_areas(user.role, user.areas)
    return tuple(item for item in EVIDENCE_ITEMS if EVIDENCE_AREAS[item] & seen)


def evidence_needed_for(items: tuple[str, ...]) -> int:
    """Matches needed: ``EVIDENCE_NEEDED``, or every item when the role sees fewer (never 0)."""
    return max(1, min(EVIDENCE_NEEDED, len(items)))


def evidence_standing(db: Session, ticket: Ticket, actor: StaffActor, now: datetime) -> EvidenceStanding:
    """The latest comparison decides: a check that fails withdraws every earlier pass on the
    ticket (whoever compared; the caller on the phone got it wrong). A pass authorises only
    the agent who made it, for ``EVIDENCE_VALID``."""
    user = db.get(User, ticket.user_id) if ticket.user_id is not None else None
    items = evidence_items_for(user if user is not None and user.account_id == ticket.account_id else None)
    latest_pass = db.exec(select(EvidenceCheck.id).where(
        EvidenceCheck.ticket_id == ticket.id, EvidenceCheck.staff_id == actor.staff_id,
        EvidenceCheck.passed.is_(True), EvidenceCheck.created_at > now - EVIDENCE_VALID)
        .order_by(EvidenceCheck.id.desc())).first()
    failed_since = latest_pass is not None and db.exec(select(EvidenceCheck.id).where(
        EvidenceCheck.ticket_id == ticket.id, EvidenceCheck.passed.is_(False),
        EvidenceCheck.id > latest_pass)).first() is not None
    return EvidenceStanding(items, evidence_needed_for(items), latest_pass is not None and not failed_since,
                            failed_since)


def require_evidence(db: Session, ticket: Ticket, actor: StaffActor, now: datetime) -> None:
    """Refuse an action that needs this agent's standing pass (scheduling a change, a letter)."""
    standing = evidence_standing(db, ticket, actor, now)
    if not standing.passed:
        raise ValidationError("ticket", "staff.error.evidence_withdrawn" if standing.withdrawn
                              else "staff.error.evidence_needed",
                              evidence_needed=standing.needed, evidence_items=len(standing.items))


def view_ticket(db: Session, actor: StaffActor, ticket_id: object, *, now: datetime) -> TicketView:
    ticket = _ticket(db, ticket_id)
    account = db.get(Account, ticket.account_id)
    user = db.get(User, ticket.user_id) if ticket.user_id is not None else None
    detail = support._detail(db, ticket)
    pending = tuple(PendingView(change.id, change.kind, change.masked, change.effective_at, change.requested_by)
                    for change in factor_changes.pending(db, user.id)) if user is not None else ()
    request = db.exec(select(StaffRequest).where(StaffRequest.ticket_id == ticket.id)
                      .order_by(StaffRequest.id.desc())).first()
    return TicketView(
        ticket.id, ticket.subject, ticket.kind, ticket.status, account.name,
        user.name if user is not None else "", mask_email(user.email) if user is not None else "",
        mask_phone(user.phone) if user is not None and user.phone else "",
        bool(user is not None and authenticator.is_enrolled(db, user)), detail.messages, pending,
        evidence_standing(db, ticket, actor, now), request.status if request is not None else "",
        user.role if user is not None else "",
    )


# --- answers --------------------------------------------------------------------------


def reply(db: Session, actor: StaffActor, ticket_id: object, body: object, *, now: datetime,
          close: bool = False) -> tuple[Ticket, User | None]:
    """An answer the customer reads in /support (signed with the agent's first name)."""
    ticket = _ticket(db, ticket_id)
    if ticket.status == support.STATUS_CLOSED:
        raise ValidationError("body", "support.error.ticket_closed")
    text = support.clean_body(body)
    db.add(TicketMessage(ticket_id=ticket.id, author_user_id=None, author_label=actor.label, body=text,
                         created_at=now))
    ticket.status = support.STATUS_CLOSED if close else support.STATUS_ANSWERED
    ticket.updated_at = now
    db.add(ticket)
    db.flush()
    _both_logs(db, actor, ticket, "ticket_answered", now=now, closed=close)
    user = db.get(User, ticket.user_id) if ticket.user_id is not None else None
    return ticket, user


def close(db: Session, actor: StaffActor, ticket_id: object, *, now: datetime) -> Ticket:
    ticket = _ticket(db, ticket_id)
    if ticket.status != support.STATUS_CLOSED:
        ticket.status = support.STATUS_CLOSED
        ticket.updated_at = now
        db.add(ticket)
        db.flush()
        _both_logs(db, actor, ticket, "ticket_closed", now=now)
    return ticket


# --- the staff audit log (admins) ---------------------------------------------------------


@dataclass(frozen=True)
class StaffAuditRow:
    created_at: datetime
    staff: str
    action: str
    ticket_id: int | None
    detail: str


def staff_audit(db: Session, *, limit: int = 200) -> list[StaffAuditRow]:
    rows = db.exec(select(StaffAuditEvent).order_by(StaffAuditEvent.created_at.desc(), StaffAuditEvent.id.desc())
                   .limit(limit)).all()
    return [StaffAuditRow(r.created_at, r.staff_label, r.action, r.ticket_id, r.detail) for r in rows]


def open_ticket_count(db: Session) -> int:
    return db.exec(select(func.count()).select_from(Ticket).where(Ticket.status == support.STATUS_OPEN)).one()
