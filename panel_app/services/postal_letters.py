"""A letter by post with a one-time code: the proof a stolen mailbox cannot give.

Whoever holds a customer's password and mailbox sees everything the panel shows after an
email verification, so nothing the panel shows can prove an identity on the phone (the
identity checklist is a screening, ``staff_recovery.check_evidence``). What they cannot
reach is the letterbox at the postal address on file. After a passed screening an agent
asks for a letter from the ticket (``request_letter``): a code in the recovery codes'
format (12 characters of 31, grouped in fours), stored only as a keyed hash bound to the
letter and the user, printed only in the PDF that goes to the post (``delivery/post.py``;
in demo mode the outbox). At most one live letter per ticket; valid ``POLICY.letter_valid``;
single use; ``POLICY.letter_tries`` tries, each counted before the comparison.

The customer enters the code on /support/letter with a login only (they may have lost
every second factor): the letter is bound to the user who opened the ticket, so neither
another customer nor a technical administrator of the same account can use it. A correct
code completes at once the support-made change the letter was asked for
(``factor_changes.apply_now``: the one other way such a change completes is its waiting
period without a cancellation), and proves the identity on its ticket: only then may an
agent ask for the removal of the customer's app (four-eyes, ``staff_recovery``).

Wrong tries do not count in the step-up guess budget: the code is one of 31^12, five tries
per letter, and letters are made only by staff after a screening (each is audited and
costs postage), so the budget would add no bound worth having and would let a mistyped
letter code lock the owner out of their own verification.

Audit (both logs, never the code): ``postal_letter_requested``, ``postal_letter_code_wrong``,
``postal_letter_used``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, select

from panel_app.delivery.post import LetterPost, LetterToPost, PostalAddress, configured_post
from panel_app.i18n import normalize_language, t
from panel_app.models import Account, FactorChange, PostalLetter, StaffAuditEvent, Ticket, TicketMessage, User
from panel_app.security import recovery
from panel_app.security.crypto import constant_time_equal, keyed_hash
from panel_app.security.permissions import Area
from panel_app.security.policy import POLICY
from panel_app.services import audit, billing, factor_changes, letter_pdf, support
from panel_app.services.audit import Actor
from panel_app.services.staff_support import StaffActor, _both_logs, _requester, _ticket, require_evidence
from panel_app.services.validation import ValidationError
from panel_app.settings import get_settings

LETTER_VALID = POLICY.letter_valid
MAX_TRIES = POLICY.letter_tries
PROOF_VALID = POLICY.letter_proof_valid
LETTER_PATH = "/support/letter"
CHANGE_LABEL = "Letter by post"  # who completed a change, in the activity log

STATE_LIVE, STATE_USED, STATE_EXPIRED, STATE_SPENT, STATE_CLOSED = "live", "used", "expired", "spent", "closed"
ERROR_KEYS = {
    STATE_USED: "letter.error.used",
    STATE_EXPIRED: "letter.error.expired",
    STATE_SPENT: "letter.error.too_many",
    STATE_CLOSED: "letter.error.closed",
}
ERROR_NONE = "letter.error.none"
ERROR_FORMAT = "letter.error.format"
ERROR_WRONG = "letter.error.wrong"


_new_code = recovery.generate_code  # "abcd-efgh-jkmn": the recovery codes' alphabet and length


def _code_hash(normalized: str, letter_id: int, user_id: int) -> str:
    return keyed_hash(normalized, f"postal-letter:{letter_id}:{user_id}")


def _state(db: Session, row: PostalLetter, now: datetime) -> str:
    if row.used_at is not None:
        return STATE_USED
    if row.expires_at <= now:
        return STATE_EXPIRED
    if row.attempts >= MAX_TRIES:
        return STATE_SPENT
    ticket = db.get(Ticket, row.ticket_id)
    if ticket is None or ticket.status == support.STATUS_CLOSED:
        return STATE_CLOSED
    return STATE_LIVE


def _support_change(db: Session, ticket: Ticket) -> FactorChange | None:
    """The newest change of an address or number support scheduled from ``ticket`` that still waits."""
    return db.exec(select(FactorChange).where(
        FactorChange.ticket_id == ticket.id, FactorChange.user_id == ticket.user_id,
        FactorChange.cancelled_at.is_(None), FactorChange.applied_at.is_(None),
        FactorChange.kind.in_(("email", "phone"))).order_by(FactorChange.id.desc())).first()


def address_of(account: Account) -> PostalAddress:
    return PostalAddress(account.name, account.company, account.street, account.postal_code, account.city,
                         account.country)


# --- the agent --------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestedLetter:
    letter_id: int
    user_id: int
    ticket_id: int
    expires_at: datetime


def request_letter(db: Session, actor: StaffActor, ticket_id: object, *, now: datetime,
                   post: LetterPost | None = None) -> RequestedLetter:
    """After a passed screening by this agent: a letter with a new code to the postal
    address on file, bound to the ticket's requester and to the support-made change that
    waits (if any). The ticket's thread tells the customer where to enter the code."""
    ticket = _ticket(db, ticket_id)
    if ticket.kind != support.KIND_CONTACT_UPDATE or ticket.status == support.STATUS_CLOSED:
        raise ValidationError("ticket", "staff.error.not_contact_update")
    require_evidence(db, ticket, actor, now)  # this agent's pass, not withdrawn by a failed check since
    user = _requester(db, ticket)
    account = db.get(Account, user.account_id)
    address = address_of(account)
    if not address.complete:
        raise ValidationError("ticket", "staff.error.letter_no_address")
    post = post or configured_post()
    if post is None:
        raise ValidationError("ticket", "staff.error.letter_no_service")
    # One letter at a time per ticket, also with two agents at once (row / write lock first).
    db.execute(update(Ticket).where(Ticket.id == ticket.id).values(updated_at=Ticket.updated_at)
               .execution_options(synchronize_session=False))
    for earlier in db.exec(select(PostalLetter).where(PostalLetter.ticket_id == ticket.id)).all():
        if _state(db, earlier, now) == STATE_LIVE:
            raise ValidationError("ticket", "staff.error.letter_live")
    change = _support_change(db, ticket)
    lang = normalize_language(user.language)
    url = f"{get_settings().public_url}{LETTER_PATH}"
    with db.begin_nested():  # a letter that could not be posted leaves nothing behind
        row = PostalLetter(user_id=user.id, ticket_id=ticket.id, factor_change_id=change.id if change else None,
                           requested_by=actor.staff_id, created_at=now, expires_at=now + LETTER_VALID)
        db.add(row)
        db.flush()
        code = _new_code()
        row.code_hash = _code_hash(recovery.normalize_recovery_code(code)[0], row.id, user.id)
        pdf = letter_pdf.render_letter(seller=billing.SELLER, address=address, code=code, ticket_id=ticket.id,
                                       expires_at=row.expires_at, url=url, lang=lang, now=now)
        sent = post.send(db, LetterToPost(address, lang, f"letter-{row.id} ticket-{ticket.id}",
                                          t("letter.post_subject", lang, ticket=ticket.id), pdf), now=now)
        if not sent.ok:
            raise ValidationError("ticket", "staff.error.letter_failed")
        row.delivery_reference = sent.reference[:100]
        db.add(row)
        db.add(TicketMessage(ticket_id=ticket.id, author_user_id=None, author_label=actor.label,
                             body=t("letter.ticket_message", lang, url=url,
                                    date=t("letter.until", lang, date=_day(row.expires_at, lang))),
                             created_at=now))
        ticket.status, ticket.updated_at = support.STATUS_ANSWERED, now
        db.add(ticket)
        db.flush()
        _both_logs(db, actor, ticket, "postal_letter_requested", now=now, letter=row.id,
                   change=change.kind if change else "", expires_at=row.expires_at.isoformat(timespec="minutes"))
    return RequestedLetter(row.id, user.id, ticket.id, row.expires_at)


def _day(moment: datetime, lang: str) -> str:
    from panel_app.i18n import formatting

    return formatting.day(moment, lang)


@dataclass(frozen=True)
class LetterInfo:
    """What the console shows of a letter: never the code."""

    id: int
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    state: str
    change_kind: str  # "" when it completes no change


def letters_of_ticket(db: Session, ticket_id: int, now: datetime) -> list[LetterInfo]:
    rows = db.exec(select(PostalLetter).where(PostalLetter.ticket_id == ticket_id).order_by(PostalLetter.id)).all()
    found = []
    for row in rows:
        change = db.get(FactorChange, row.factor_change_id) if row.factor_change_id is not None else None
        found.append(LetterInfo(row.id, row.created_at, row.expires_at, row.used_at, _state(db, row, now),
                                change.kind if change is not None else ""))
    return found


def identity_proven(db: Session, ticket_id: int, now: datetime) -> bool:
    """The ticket's requester entered the code of a letter of this ticket recently."""
    ticket = db.get(Ticket, ticket_id)
    if ticket is None or ticket.user_id is None:
        return False
    return db.exec(select(PostalLetter.id).where(
        PostalLetter.ticket_id == ticket.id, PostalLetter.user_id == ticket.user_id,
        PostalLetter.used_at.is_not(None), PostalLetter.used_at > now - PROOF_VALID)).first() is not None


# --- the customer -----------------------------------------------------------------------


@dataclass(frozen=True)
class LetterStatus:
    created_at: datetime
    expires_at: datetime
    state: str
    tries_left: int


def _newest(db: Session, user_id: int) -> PostalLetter | None:
    return db.exec(select(PostalLetter).where(PostalLetter.user_id == user_id)
                   .order_by(PostalLetter.id.desc())).first()


def status_of(db: Session, user_id: int, now: datetime) -> LetterStatus | None:
    """The user's newest letter (the one a code is checked against), or None."""
    row = _newest(db, user_id)
    if row is None:
        return None
    return LetterStatus(row.created_at, row.expires_at, _state(db, row, now), max(0, MAX_TRIES - row.attempts))


@dataclass(frozen=True)
class RedeemOutcome:
    ok: bool
    error_key: str = ""
    tries_left: int | None = None
    applied: factor_changes.AppliedChange | None = field(default=None, repr=False)
    change_missed: bool = False  # the letter was for a change that no longer waits


def _staff_log(db: Session, row: PostalLetter, ticket: Ticket | None, action: str, now: datetime, **detail) -> None:
    db.add(StaffAuditEvent(staff_id=None, staff_label="Customer", action=action,
                           account_id=ticket.account_id if ticket else None, ticket_id=row.ticket_id,
                           detail=json.dumps(detail, sort_keys=True, default=str), created_at=now))


def redeem(db: Session, actor: Actor, user: User, submitted: object, *, now: datetime) -> RedeemOutcome:
    """Check a code the signed-in ``user`` typed against their newest letter; a correct one
    uses the letter up and completes its change. Malformed input is not a try."""
    normalized, _reason = recovery.normalize_recovery_code(submitted)
    if normalized is None:
        return RedeemOutcome(False, ERROR_FORMAT)
    row = _newest(db, user.id)
    if row is None or row.user_id != user.id or actor.user_id != user.id:
        return RedeemOutcome(False, ERROR_NONE)
    state = _state(db, row, now)
    if state != STATE_LIVE:
        return RedeemOutcome(False, ERROR_KEYS[state])
    counted = db.execute(update(PostalLetter).where(
        PostalLetter.id == row.id, PostalLetter.used_at.is_(None), PostalLetter.expires_at > now,
        PostalLetter.attempts < MAX_TRIES).values(attempts=PostalLetter.attempts + 1)
        .execution_options(synchronize_session=False))
    db.refresh(row)
    if counted.rowcount != 1:  # used or spent by a parallel try
        return RedeemOutcome(False, ERROR_KEYS.get(_state(db, row, now), ERROR_KEYS[STATE_USED]))
    ticket = db.get(Ticket, row.ticket_id)
    if not constant_time_equal(_code_hash(normalized, row.id, user.id), row.code_hash):
        left = max(0, MAX_TRIES - row.attempts)
        audit.record(db, actor, Area.SUPPORT, "postal_letter_code_wrong", now=now, target=f"#{row.ticket_id}",
                     tries_left=left)
        _staff_log(db, row, ticket, "postal_letter_code_wrong", now, letter=row.id, tries_left=left)
        return RedeemOutcome(False, ERROR_WRONG if left else ERROR_KEYS[STATE_SPENT], tries_left=left)
    claimed = db.execute(update(PostalLetter).where(PostalLetter.id == row.id, PostalLetter.used_at.is_(None))
                         .values(used_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        return RedeemOutcome(False, ERROR_KEYS[STATE_USED])
    # The change the letter was asked for; else one support scheduled from its ticket since.
    later = _support_change(db, ticket) if row.factor_change_id is None and ticket is not None else None
    change_id = row.factor_change_id or (later.id if later is not None else None)
    applied = None
    if change_id is not None:
        applied = factor_changes.apply_now(db, change_id, user_id=user.id, now=now, label=CHANGE_LABEL)
    audit.record(db, actor, Area.SUPPORT, "postal_letter_used", now=now, target=f"#{row.ticket_id}",
                 change=applied.change.kind if applied else "")
    _staff_log(db, row, ticket, "postal_letter_used", now, letter=row.id,
               change=applied.change.kind if applied else "")
    db.flush()
    return RedeemOutcome(True, applied=applied, change_missed=change_id is not None and applied is None)
