"""Support staff recovering a customer's access ("I have no access to my email or phone").

The agent asks the customer for evidence they can give without the lost factor and
types what they said; ``check_evidence`` compares it with the account (customer number,
the number and gross amount of a recent invoice, the last four digits of a payment
method, the postal code on file) and answers only *which items matched*. That is a
screening, not a proof: the panel shows every one of these items to a session verified
by email alone, so whoever stole the password and the mailbox can read them all
(``POLICY.evidence_items``; a technical administrator is asked only what their areas show
them). With ``EVIDENCE_NEEDED`` matches (every item, when the requester's role shows fewer)
and no failed check since, the agent may schedule the
new address or number through ``factor_changes`` (the waiting period and announcements
of a self-service change without the old factor; cancellable by the customer), send a
letter by post with a one-time code (``postal_letters``: its code completes the change at
once and proves the identity on the ticket), or refuse with a reason the customer reads.
Removing a customer's authenticator app needs the letter's proof and a second person: an
agent requests it, naming the app; a staff admin other than the requester approves
(four-eyes), and the approval removes that app only, never one set up since.

The tickets themselves, the staff actor and both logs are ``services/staff_support.py``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, func, select

from panel_app.models import (Account, EvidenceCheck, Invoice, InvoiceLine, PaymentMethod, StaffRequest, StaffUser,
                              Ticket, User)
from panel_app.security import staff as staff_core
from panel_app.security.crypto import keyed_hash
from panel_app.security.permissions import Area
from panel_app.services import audit, authenticator_setup, billing, factor_changes, postal_letters, support
from panel_app.services.methods import authenticator
from panel_app.services.staff_support import (
    MAX_FAILED_CHECKS,
    MAX_FAILED_CHECKS_PER_AGENT_HOUR,
    REASON_MAX,
    RECENT_INVOICES,
    REQUEST_VALID,
    StaffActor,
    _both_logs,
    _requester,
    _staff_audit,
    _ticket,
    evidence_items_for,
    evidence_needed_for,
    reply,
    require_evidence,
)
from panel_app.services.validation import ValidationError, clean_text


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


def _matches(db: Session, user: User, answers: dict, items: tuple[str, ...]) -> list[str]:
    """Which of ``items`` (those the requester's role shows them) match what was said."""
    account = db.get(Account, user.account_id)
    matched = []
    if ("customer_number" in items and _norm(answers.get("customer_number"))
            and _norm(answers.get("customer_number")) == _norm(account.customer_number)):
        matched.append("customer_number")
    said_number, said_amount = _norm(answers.get("invoice_number")), _amount_cents(answers.get("invoice_amount"))
    if "invoice" in items and said_number and said_amount is not None:
        recent = db.exec(select(Invoice).where(Invoice.account_id == account.id)
                         .order_by(Invoice.issue_date.desc()).limit(RECENT_INVOICES)).all()
        for invoice in recent:
            lines = db.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)).all()
            gross = billing.compute_amounts(lines, reverse_charge=invoice.reverse_charge).gross_cents
            if _norm(invoice.number) == said_number and gross == said_amount:
                matched.append("invoice")
                break
    last4 = _norm(answers.get("payment_last4"), 8)
    if "payment_last4" in items and len(last4) == 4 and last4 in {m.last4 for m in db.exec(select(PaymentMethod).where(
            PaymentMethod.account_id == account.id)).all()}:
        matched.append("payment_last4")
    if ("postal_code" in items and _norm(answers.get("postal_code"), 20)
            and _norm(answers.get("postal_code"), 20) == _norm(account.postal_code)):
        matched.append("postal_code")
    return matched


def _serialize_on_ticket(db: Session, ticket: Ticket) -> None:
    """Row lock (PostgreSQL) or write lock (SQLite): parallel checks are counted one by one."""
    db.execute(update(Ticket).where(Ticket.id == ticket.id).values(updated_at=Ticket.updated_at)
               .execution_options(synchronize_session=False))


def check_evidence(db: Session, actor: StaffActor, ticket_id: object, answers: object, *,
                   now: datetime) -> tuple[list[str], bool]:
    """Compare what the customer said; returns (items that matched, passed). Only on a
    "contact details update" ticket; each check is recorded (no value is). Only the items
    the requester's role shows them count (``evidence_items_for``). A check that fails
    withdraws every earlier pass on the ticket (``staff_support.evidence_standing``)."""
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
    items = evidence_items_for(user)
    matched = _matches(db, user, answers if isinstance(answers, dict) else {}, items)
    passed = len(matched) >= evidence_needed_for(items)
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
    require_evidence(db, ticket, actor, now)
    if kind not in ("email", "phone"):
        raise ValidationError("kind", "validation.invalid")
    user = _requester(db, ticket)
    if any(pending.kind == kind for pending in factor_changes.pending(db, user.id)):
        # The customer's own waiting change (or another agent's) is not replaced from here.
        raise ValidationError("kind", "staff.error.change_pending")
    change = factor_changes.schedule(db, actor.for_account(user.account_id), user, kind, new_value, now=now,
                                     delay_seconds=delay_seconds, requested_by=actor.label, ticket_id=ticket.id,
                                     by=factor_changes.BY_PANEL)
    _staff_audit(db, actor, "contact_change_scheduled", now=now, account_id=ticket.account_id, ticket_id=ticket.id,
                 kind=kind, effective_at=change.effective_at.isoformat(timespec="minutes"))
    return change, user


def cancel_change(db: Session, actor: StaffActor, ticket_id: object, change_id: object, reason: object, *,
                  now: datetime) -> tuple[factor_changes.PendingChange, User]:
    """A waiting change of the ticket's customer that they say they did not ask for: support
    cancels it (the one canceller besides a settled factor the change does not replace). The
    reason is posted in the ticket and both logs; the caller announces it on every channel."""
    text = support.clean_body(reason, "reason", max_length=REASON_MAX)
    ticket = _ticket(db, ticket_id)
    if ticket.status == support.STATUS_CLOSED:
        raise ValidationError("ticket", "support.error.ticket_closed")
    user = _requester(db, ticket)
    change = factor_changes.cancel(db, actor.for_account(user.account_id), user, change_id, now=now,
                                   by=factor_changes.BY_PANEL)
    reply(db, actor, ticket.id, text, now=now)
    _both_logs(db, actor, ticket, "contact_change_cancelled", now=now, kind=change.kind)
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


def _app_binding(db: Session, user: User) -> tuple[int, str, str] | None:
    """``(row id, fingerprint, active secret ciphertext)`` of the user's confirmed app.

    Replacing the app keeps its row (the new secret moves into ``secret_enc``), so the row
    id alone cannot tell the old app from the new one. The fingerprint is a keyed hash of
    the active secret's ciphertext: every confirmation writes a new ciphertext (a new
    secret, and Fernet's random IV), so unlike ``confirmed_at`` it differs even for two
    set-ups within the same clock tick, and it reveals nothing of the secret."""
    row = authenticator.row_of(db, user.id)
    if row is None or not row.secret_enc or row.confirmed_at is None:
        return None
    return row.id, keyed_hash(row.secret_enc, f"staff-request-app:{row.id}"), row.secret_enc


def request_totp_removal(db: Session, actor: StaffActor, ticket_id: object, reason: object, *,
                         now: datetime) -> StaffRequest:
    """Ask for the removal of the customer's app: only after the customer entered the code
    of a letter by post of this ticket (a screening alone proves nothing a stolen mailbox
    could not read). The request names the app it removes."""
    ticket = _ticket(db, ticket_id)
    if ticket.kind != support.KIND_CONTACT_UPDATE or ticket.status == support.STATUS_CLOSED:
        raise ValidationError("ticket", "staff.error.not_contact_update")
    if not postal_letters.identity_proven(db, ticket.id, now):
        raise ValidationError("ticket", "staff.error.letter_needed")
    user = _requester(db, ticket)
    binding = _app_binding(db, user)
    if binding is None:
        raise ValidationError("ticket", "staff.error.no_app")
    if db.exec(select(StaffRequest).where(StaffRequest.user_id == user.id, StaffRequest.status == "pending")).first():
        raise ValidationError("ticket", "staff.error.request_pending")
    row = StaffRequest(kind="remove_totp", user_id=user.id, ticket_id=ticket.id,
                       reason=clean_text(reason, "reason", max_length=REASON_MAX, required=True),
                       requested_by=actor.staff_id, requested_at=now, authenticator_id=binding[0],
                       authenticator_fingerprint=binding[1])
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
                    or ticket.status == support.STATUS_CLOSED or not authenticator.is_enrolled(db, user)):
        raise ValidationError("request", "staff.error.request_stale")
    binding = _app_binding(db, user) if approve else None
    if approve and (binding is None or row.authenticator_id is None
                    or (binding[0], binding[1]) != (row.authenticator_id, row.authenticator_fingerprint)):
        # The app was replaced or removed (and perhaps set up again) since the request.
        raise ValidationError("request", "staff.error.request_app_changed")
    customer_actor = actor.for_account(user.account_id)
    with db.begin_nested():  # the claim stands only together with the removal it approves
        claimed = db.execute(update(StaffRequest).where(StaffRequest.id == row.id, StaffRequest.status == "pending")
                             .values(status="approved" if approve else "rejected", decided_by=admin.id,
                                     decided_at=now)
                             .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            raise ValidationError("request", "staff.error.request_gone")
        # Conditional on the secret read above: an app set up between that check and this
        # removal is not the one the request names, and stays.
        if approve and not authenticator_setup.remove_totp(db, user, now, customer_actor,
                                                           only_secret_enc=binding[2]):
            raise ValidationError("request", "staff.error.request_app_changed")
    db.refresh(row)
    action = "totp_removal_approved" if approve else "totp_removal_rejected"
    audit.record(db, customer_actor, Area.SUPPORT, action, now=now, target=f"#{row.ticket_id or ''}")
    _staff_audit(db, actor, action, now=now, account_id=user.account_id, ticket_id=row.ticket_id,
                 request=row.id)
    return row, user
