"""What support staff do: the ticket queue, answers, and recovering a customer's access.

Staff see no secrets. The view records here carry ticket text, the customer's name,
customer number and masked contact details: never a code, an auth code, a password
hash, a TOTP secret, a full payment number or a stored value of the identity
checklist. No function here reads a customer's sensitive areas for display.

Contact-details recovery ("I have no access to my email or phone"): the agent asks the
customer for evidence they can give without the lost factor and types what they said;
``check_evidence`` compares it with the account (customer number, the number and gross
amount of a recent invoice, the last four digits of a payment method, the postal code
on file) and answers only *which items matched*. With ``EVIDENCE_NEEDED`` matches the
agent may schedule the new address or number through ``factor_changes`` (the waiting
period and announcements of a self-service change without the old factor; the customer
cancels it from any verified session), or refuse with a reason the customer reads.
Removing a customer's authenticator app needs a second person: an agent requests it,
a staff admin other than the requester approves (four-eyes).

Every action is in the customer's activity log ("Support (Maria) …") and in the staff
audit log (``StaffAuditEvent``).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, func, select

from panel_app.delivery.base import mask_email, mask_phone
from panel_app.models import (Account, EvidenceCheck, Invoice, InvoiceLine, PaymentMethod, StaffAuditEvent,
                              StaffRequest, StaffUser, Ticket, TicketMessage, User)
from panel_app.security import staff as staff_core
from panel_app.security.policy import POLICY
from panel_app.security.permissions import Area
from panel_app.services import audit, billing, factor_changes, stepup, support
from panel_app.services.audit import Actor
from panel_app.services.validation import NotFound, ValidationError, clean_text

EVIDENCE_ITEMS = POLICY.evidence_items
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
    pending_changes: tuple[str, ...]  # "mobile number → +49 ••• ••• 99, effective …" (masked)
    evidence_passed: bool  # a check of the last EVIDENCE_VALID passed
    open_request: str  # "" or the status of a four-eyes request for this ticket


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


def _evidence_passed(db: Session, ticket: Ticket, actor: StaffActor, now: datetime) -> bool:
    return db.exec(select(EvidenceCheck.id).where(
        EvidenceCheck.ticket_id == ticket.id, EvidenceCheck.staff_id == actor.staff_id,
        EvidenceCheck.passed.is_(True), EvidenceCheck.created_at > now - EVIDENCE_VALID)).first() is not None


def view_ticket(db: Session, actor: StaffActor, ticket_id: object, *, now: datetime) -> TicketView:
    ticket = _ticket(db, ticket_id)
    account = db.get(Account, ticket.account_id)
    user = db.get(User, ticket.user_id) if ticket.user_id is not None else None
    detail = support._detail(db, ticket)
    pending = tuple(f"{change.kind}: {change.masked}, {change.effective_at:%Y-%m-%d %H:%M} UTC"
                    for change in factor_changes.pending(db, user.id)) if user is not None else ()
    request = db.exec(select(StaffRequest).where(StaffRequest.ticket_id == ticket.id)
                      .order_by(StaffRequest.id.desc())).first()
    return TicketView(
        ticket.id, ticket.subject, ticket.kind, ticket.status, account.name,
        user.name if user is not None else "", mask_email(user.email) if user is not None else "",
        mask_phone(user.phone) if user is not None and user.phone else "",
        bool(user is not None and stepup.totp.is_enrolled(user)), detail.messages, pending,
        _evidence_passed(db, ticket, actor, now), request.status if request is not None else "",
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


# --- identity evidence ------------------------------------------------------------------


def _norm(value: object, limit: int = 60) -> str:
    """Compare what was said, not how it was typed: case, spaces, dashes, dots."""
    if not isinstance(value, str):
        return ""
    text = unicodedata.normalize("NFKC", value[:limit]).casefold()
    return "".join(c for c in text if c.isalnum())


_AMOUNT = re.compile(r"(\d{1,3}(?:[.,]\d{3})*|\d+)(?:[.,](\d{1,2}))?", re.ASCII)


def _amount_cents(value: object) -> int | None:
    """"11,90", "11.90 €", "EUR 1.234,50" → cents; anything else None (never a float)."""
    if not isinstance(value, str) or len(value) > 30:
        return None
    match = _AMOUNT.fullmatch(value.replace("€", "").replace("EUR", "").replace(" ", "").strip())
    whole = re.sub(r"[.,]", "", match.group(1)) if match else ""
    if not whole or len(whole) > 9:
        return None
    return int(whole) * 100 + int((match.group(2) or "0").ljust(2, "0"))


def _matches(db: Session, user: User, answers: dict) -> list[str]:
    account = db.get(Account, user.account_id)
    matched = []
    if _norm(answers.get("customer_number")) and _norm(answers.get("customer_number")) == _norm(account.customer_number):
        matched.append("customer_number")
    said_number, said_amount = _norm(answers.get("invoice_number")), _amount_cents(answers.get("invoice_amount"))
    if said_number and said_amount is not None:
        recent = db.exec(select(Invoice).where(Invoice.account_id == account.id)
                         .order_by(Invoice.issue_date.desc()).limit(RECENT_INVOICES)).all()
        for invoice in recent:
            lines = db.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)).all()
            gross = billing.compute_amounts(lines, reverse_charge=invoice.reverse_charge).gross_cents
            if _norm(invoice.number) == said_number and gross == said_amount:
                matched.append("invoice")
                break
    last4 = _norm(answers.get("payment_last4"), 8)
    if len(last4) == 4 and last4 in {m.last4 for m in db.exec(select(PaymentMethod).where(
            PaymentMethod.account_id == account.id)).all()}:
        matched.append("payment_last4")
    if _norm(answers.get("postal_code"), 20) and _norm(answers.get("postal_code"), 20) == _norm(account.postal_code):
        matched.append("postal_code")
    return matched


def _serialize_on_ticket(db: Session, ticket: Ticket) -> None:
    """Row lock (PostgreSQL) or write lock (SQLite): parallel checks are counted one by one."""
    db.execute(update(Ticket).where(Ticket.id == ticket.id).values(updated_at=Ticket.updated_at)
               .execution_options(synchronize_session=False))


def check_evidence(db: Session, actor: StaffActor, ticket_id: object, answers: object, *,
                   now: datetime) -> tuple[list[str], bool]:
    """Compare what the customer said; returns (items that matched, passed). Only on a
    "contact details update" ticket; each check is recorded (no value is)."""
    ticket = _ticket(db, ticket_id)
    if ticket.kind != support.KIND_CONTACT_UPDATE or ticket.status == support.STATUS_CLOSED:
        raise ValidationError("ticket", "staff.error.not_contact_update")
    user = _requester(db, ticket)
    _serialize_on_ticket(db, ticket)
    failed = db.exec(select(func.count()).select_from(EvidenceCheck).where(
        EvidenceCheck.ticket_id == ticket.id, EvidenceCheck.passed.is_(False))).one()
    if failed >= MAX_FAILED_CHECKS:
        raise ValidationError("ticket", "staff.error.too_many_checks", max=MAX_FAILED_CHECKS)
    by_agent = db.exec(select(func.count()).select_from(EvidenceCheck).where(
        EvidenceCheck.staff_id == actor.staff_id, EvidenceCheck.passed.is_(False),
        EvidenceCheck.created_at > now - timedelta(hours=1))).one()
    if by_agent >= MAX_FAILED_CHECKS_PER_AGENT_HOUR:
        raise ValidationError("ticket", "staff.error.agent_checks")
    matched = _matches(db, user, answers if isinstance(answers, dict) else {})
    passed = len(matched) >= EVIDENCE_NEEDED
    db.add(EvidenceCheck(ticket_id=ticket.id, staff_id=actor.staff_id, matched=",".join(matched), passed=passed,
                         created_at=now))
    _both_logs(db, actor, ticket, "identity_checked", now=now, matched=len(matched), passed=passed)
    return matched, passed


def schedule_contact_change(db: Session, actor: StaffActor, ticket_id: object, kind: object, new_value: object, *,
                            now: datetime, delay_seconds: int) -> tuple[factor_changes.PendingChange, User]:
    """After a passed check: the new address or number waits out the delay, announced on
    every channel, cancellable by the customer (the caller sends the announcements)."""
    ticket = _ticket(db, ticket_id)
    if ticket.kind != support.KIND_CONTACT_UPDATE or ticket.status == support.STATUS_CLOSED:
        raise ValidationError("ticket", "staff.error.not_contact_update")
    if not _evidence_passed(db, ticket, actor, now):
        raise ValidationError("ticket", "staff.error.evidence_needed")
    if kind not in ("email", "phone"):
        raise ValidationError("kind", "validation.invalid")
    user = _requester(db, ticket)
    if any(pending.kind == kind for pending in factor_changes.pending(db, user.id)):
        # The customer's own waiting change (or another agent's) is not replaced from here.
        raise ValidationError("kind", "staff.error.change_pending")
    change = factor_changes.schedule(db, actor.for_account(user.account_id), user, kind, new_value, now=now,
                                     delay_seconds=delay_seconds, requested_by=actor.label)
    _staff_audit(db, actor, "contact_change_scheduled", now=now, account_id=ticket.account_id, ticket_id=ticket.id,
                 kind=kind, effective_at=change.effective_at.isoformat(timespec="minutes"))
    return change, user


def refuse(db: Session, actor: StaffActor, ticket_id: object, reason: object, *, now: datetime) -> Ticket:
    """The identity could not be confirmed: the customer reads the reason; the ticket closes."""
    text = support.clean_body(reason, "reason", max_length=REASON_MAX)
    ticket = _ticket(db, ticket_id)
    if ticket.kind != support.KIND_CONTACT_UPDATE:
        raise ValidationError("ticket", "staff.error.not_contact_update")
    ticket, _user = reply(db, actor, ticket.id, text, now=now, close=True)
    _both_logs(db, actor, ticket, "contact_update_refused", now=now)
    return ticket


# --- four-eyes: removing a customer's authenticator app -----------------------------------


def request_totp_removal(db: Session, actor: StaffActor, ticket_id: object, reason: object, *,
                         now: datetime) -> StaffRequest:
    ticket = _ticket(db, ticket_id)
    if ticket.kind != support.KIND_CONTACT_UPDATE or ticket.status == support.STATUS_CLOSED:
        raise ValidationError("ticket", "staff.error.not_contact_update")
    if not _evidence_passed(db, ticket, actor, now):
        raise ValidationError("ticket", "staff.error.evidence_needed")
    user = _requester(db, ticket)
    if not stepup.totp.is_enrolled(user):
        raise ValidationError("ticket", "staff.error.no_app")
    if db.exec(select(StaffRequest).where(StaffRequest.user_id == user.id, StaffRequest.status == "pending")).first():
        raise ValidationError("ticket", "staff.error.request_pending")
    row = StaffRequest(kind="remove_totp", user_id=user.id, ticket_id=ticket.id,
                       reason=clean_text(reason, "reason", max_length=REASON_MAX, required=True),
                       requested_by=actor.staff_id, requested_at=now)
    db.add(row)
    db.flush()
    _both_logs(db, actor, ticket, "totp_removal_requested", now=now)
    return row


@dataclass(frozen=True)
class RequestRow:
    id: int
    customer: str
    ticket_id: int | None
    reason: str
    requested_by: str
    requested_at: datetime


def pending_requests(db: Session) -> list[RequestRow]:
    rows = db.exec(select(StaffRequest).where(StaffRequest.status == "pending").order_by(StaffRequest.id)).all()
    found = []
    for row in rows:
        user = db.get(User, row.user_id)
        account = db.get(Account, user.account_id)
        found.append(RequestRow(row.id, account.name, row.ticket_id, row.reason,
                                staff_core.label(db.get(StaffUser, row.requested_by)), row.requested_at))
    return found


def decide(db: Session, actor: StaffActor, admin: StaffUser, request_id: object, *, approve: bool,
           now: datetime) -> tuple[StaffRequest, User]:
    """A staff admin other than the requester approves or rejects (claimed once)."""
    if admin.role != staff_core.ROLE_ADMIN:
        raise ValidationError("request", "staff.error.admin_only")
    row_id = support._ticket_id(request_id)
    row = db.get(StaffRequest, row_id)
    if row is None or row.status != "pending":
        raise ValidationError("request", "staff.error.request_gone")
    if row.requested_by == admin.id:
        raise ValidationError("request", "staff.error.four_eyes")
    ticket = db.get(Ticket, row.ticket_id) if row.ticket_id is not None else None
    user = db.get(User, row.user_id)
    if approve and (row.requested_at <= now - REQUEST_VALID or ticket is None
                    or ticket.status == support.STATUS_CLOSED or not stepup.totp.is_enrolled(user)):
        raise ValidationError("request", "staff.error.request_stale")
    claimed = db.execute(update(StaffRequest).where(StaffRequest.id == row.id, StaffRequest.status == "pending")
                         .values(status="approved" if approve else "rejected", decided_by=admin.id, decided_at=now)
                         .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise ValidationError("request", "staff.error.request_gone")
    db.refresh(row)
    user = db.get(User, row.user_id)
    customer_actor = actor.for_account(user.account_id)
    if approve:
        stepup.remove_totp(db, user, now, customer_actor)
    action = "totp_removal_approved" if approve else "totp_removal_rejected"
    audit.record(db, customer_actor, Area.SUPPORT, action, now=now, target=f"#{row.ticket_id or ''}")
    _staff_audit(db, actor, action, now=now, account_id=user.account_id, ticket_id=row.ticket_id,
                 request=row.id)
    return row, user


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
