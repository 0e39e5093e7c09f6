"""Changes of an email address, mobile number (or password) that wait: slowly and loudly.

Whoever holds the password and one stolen channel must not be able to move a factor
(``services/factor_rules.py`` decides which changes wait). A waiting change takes effect
after ``PANEL_FACTOR_CHANGE_DELAY_SECONDS`` (72 h), is announced at once and again before
it takes effect on every channel the account has (the old email, the old number by
WhatsApp, a banner in the panel), and a session verified with a settled factor it does
not replace, or support, can cancel it with one click; replacing it with another change
needs the same. Until then the new value is stored encrypted here and authorises nothing.
The support console schedules through the same functions, and a letter by post completes
its change at once (``apply_now``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import update
from sqlmodel import Session, select

from panel_app.delivery.base import BULLETS, mask_email, mask_phone
from panel_app.i18n import t
from panel_app.models import FactorChange, User
from panel_app.security import crypto
from panel_app.security.permissions import Area
from panel_app.services import audit, factor_rules, profile
from panel_app.services.audit import Actor
from panel_app.services.validation import ValidationError, parse_row_id
from panel_app.settings import get_settings

KINDS = ("email", "phone", "password")  # password: a reset without a second factor
# ``cancel``'s and ``schedule``'s ``by`` when no customer grant decides: the support console
# (its own staff checks), or the panel itself (a new password replaces a waiting reset, a
# reset link replaces an earlier one). Not a method name.
BY_PANEL = "panel"
# The second announcement goes out this long before the change takes effect (or at half
# the waiting period when that is shorter).
REMINDER_BEFORE = timedelta(hours=24)


@dataclass(frozen=True)
class PendingChange:
    id: int
    kind: str
    new_value: str  # for the masked display and the announcements, never logged
    effective_at: datetime
    requested_by: str

    @property
    def masked(self) -> str:
        """What screens and notices show of the new value (nothing of a password)."""
        return {"email": mask_email, "phone": mask_phone}.get(self.kind, lambda _v: BULLETS)(self.new_value)


def announcement_params(change: PendingChange) -> dict:
    """What every announcement of a waiting change carries: the cancel link, and (in the
    reader's language) who can use it: not the channel the change replaces."""
    return {"cancel_url": f"{get_settings().public_url}/profile?cancel_change={change.id}",
            "cancel_how": partial(t, f"notice.cancel_how.{change.kind}")}


def _pending_query(user_id: int):
    return select(FactorChange).where(FactorChange.user_id == user_id, FactorChange.cancelled_at.is_(None),
                                      FactorChange.applied_at.is_(None))


def _view(row: FactorChange) -> PendingChange:
    return PendingChange(row.id, row.kind, crypto.decrypt(row.new_value_enc), row.effective_at, row.requested_by)


def pending(db: Session, user_id: int) -> list[PendingChange]:
    rows = db.exec(_pending_query(user_id).order_by(FactorChange.effective_at)).all()
    return [_view(row) for row in rows]


def _refresh_flag(db: Session, user: User) -> None:
    user.factor_change_pending = db.exec(_pending_query(user.id)).first() is not None
    db.add(user)
    db.flush()


def waiting_blocks(db: Session, user: User, kind: str, *, by: str, now: datetime) -> bool:
    """A change of ``kind`` waits that ``by`` may not cancel, so it may not replace it either."""
    if by == BY_PANEL or db.exec(_pending_query(user.id).where(FactorChange.kind == kind)).first() is None:
        return False
    return not factor_rules.may_cancel(db, user, kind=kind, grant_method=by, now=now)


def schedule(db: Session, actor: Actor, user: User, kind: str, new_value: object, *, now: datetime,
             delay_seconds: int, requested_by: str, by: str, ticket_id: int | None = None) -> PendingChange:
    """Schedule ``kind`` to become ``new_value`` after ``delay_seconds``. A change of the
    same kind that was still waiting is replaced (and that is audited too) — only when ``by``
    (as in ``cancel``) may cancel it: replacing is cancelling. ``ticket_id``: the support
    ticket it comes from."""
    if kind not in KINDS:
        raise ValidationError("kind", "validation.invalid")
    # A password arrives hashed (services/password_reset.py), an address or number is checked.
    value = new_value if kind == "password" else profile.normalized_contact(db, user, kind, new_value)
    if waiting_blocks(db, user, kind, by=by, now=now):
        raise ValidationError("change", "profile.scheduled.already_waiting")
    for earlier in db.exec(_pending_query(user.id).where(FactorChange.kind == kind)).all():
        earlier.cancelled_at, earlier.cancelled_by = now, "replaced"
        db.add(earlier)
    row = FactorChange(user_id=user.id, kind=kind, new_value_enc=crypto.encrypt(value), requested_at=now,
                       requested_by=requested_by[:200], ticket_id=ticket_id,
                       effective_at=now + timedelta(seconds=delay_seconds))
    db.add(row)
    db.flush()
    _refresh_flag(db, user)
    audit.record(db, actor, Area.PROFILE, "contact_change_scheduled", now=now, target=str(user.id), kind=kind,
                 effective_at=row.effective_at.isoformat(timespec="minutes"), requested_by=requested_by[:200])
    return _view(row)


def cancel(db: Session, actor: Actor, user: User, change_id: object, *, now: datetime, by: str) -> PendingChange:
    """Cancel a waiting change of ``user``. ``by``: the method of the canceller's grant, which
    must be a settled factor the change does not replace (``factor_rules.may_cancel``), or
    ``BY_PANEL``."""
    row_id = parse_row_id(change_id)
    row = db.get(FactorChange, row_id) if row_id is not None else None
    if row is None or row.user_id != user.id:
        raise ValidationError("change", "profile.scheduled.not_found")
    if by != BY_PANEL and not factor_rules.may_cancel(db, user, kind=row.kind, grant_method=by, now=now):
        audit.record(db, actor, Area.PROFILE, "contact_change_cancel_refused", now=now, target=str(user.id),
                     kind=row.kind, method=by)
        raise ValidationError("change", "profile.scheduled.cancel_needs_other", kind=row.kind)
    claimed = db.execute(
        update(FactorChange)
        .where(FactorChange.id == row_id, FactorChange.user_id == user.id, FactorChange.cancelled_at.is_(None),
               FactorChange.applied_at.is_(None))
        .values(cancelled_at=now, cancelled_by=actor.label[:200]).execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # already cancelled, or just applied: never both
        raise ValidationError("change", "profile.scheduled.not_found")
    row = db.get(FactorChange, row_id, populate_existing=True)
    _refresh_flag(db, user)
    audit.record(db, actor, Area.PROFILE, "contact_change_cancelled", now=now, target=str(user.id), kind=row.kind)
    return _view(row)


@dataclass(frozen=True)
class AppliedChange:
    change: PendingChange
    user_id: int
    old_value: str


def _apply_claimed(db: Session, row: FactorChange, *, now: datetime, label: str) -> AppliedChange | None:
    """Set what a change claimed for applying holds (``applied_at`` already set by the caller's
    conditional update); None, and the change marked invalid, when it no longer fits."""
    user = db.get(User, row.user_id)
    change = _view(row)
    actor = Actor(None, user.account_id, label[:200])
    try:  # set_contact checks everything before it writes anything
        if row.kind == "password":
            from panel_app.services.password_reset import set_new_password

            set_new_password(db, actor, user, change.new_value, now=now, reason="password_reset")
            old_value = ""
        else:
            old_value = profile.set_contact(db, actor, user, row.kind, change.new_value, now)
    except ValidationError:  # meanwhile taken by someone else, or no longer valid
        row.applied_at, row.cancelled_at, row.cancelled_by = None, now, "invalid"
        db.add(row)
        audit.record(db, actor, Area.PROFILE, "contact_change_failed", now=now, target=str(user.id), kind=row.kind)
        _refresh_flag(db, user)
        return None
    _refresh_flag(db, user)
    return AppliedChange(change, user.id, old_value)


def _claim(db: Session, now: datetime, *conditions) -> bool:
    """Claim a waiting change for applying: once, whatever runs at the same time."""
    claimed = db.execute(update(FactorChange).where(FactorChange.applied_at.is_(None),
                                                    FactorChange.cancelled_at.is_(None), *conditions)
                         .values(applied_at=now).execution_options(synchronize_session=False))
    return claimed.rowcount == 1


def apply_due(db: Session, *, now: datetime, limit: int = 100) -> list[AppliedChange]:
    """Apply the changes whose waiting period is over. Each is claimed with a conditional
    update, so with several workers every change is applied exactly once."""
    due = db.exec(select(FactorChange).where(FactorChange.effective_at <= now, FactorChange.cancelled_at.is_(None),
                                             FactorChange.applied_at.is_(None)).limit(limit)).all()
    applied = []
    for row in due:
        if not _claim(db, now, FactorChange.id == row.id):
            continue
        done = _apply_claimed(db, row, now=now, label=f"Scheduled change ({row.requested_by or 'panel'})")
        if done is not None:
            applied.append(done)
    db.flush()
    return applied


def remind_due(db: Session, *, now: datetime, delay_seconds: int) -> list[tuple[int, PendingChange]]:
    """Changes close to taking effect that have not been announced a second time yet."""
    before = min(REMINDER_BEFORE, timedelta(seconds=delay_seconds // 2))
    due = db.exec(select(FactorChange).where(FactorChange.effective_at <= now + before,
                                             FactorChange.effective_at > now,
                                             FactorChange.reminded_at.is_(None),
                                             FactorChange.cancelled_at.is_(None),
                                             FactorChange.applied_at.is_(None))).all()
    found = []
    for row in due:
        claimed = db.execute(update(FactorChange).where(FactorChange.id == row.id,
                                                        FactorChange.reminded_at.is_(None))
                             .values(reminded_at=now).execution_options(synchronize_session=False))
        if claimed.rowcount == 1:
            found.append((row.user_id, _view(row)))
    return found


def apply_now(db: Session, change_id: int, *, user_id: int, now: datetime, label: str) -> AppliedChange | None:
    """Apply one waiting change of ``user_id`` at once, before its waiting period is over (a
    support-made change completed with the code of a letter by post, ``services/postal_letters.py``).
    None when the change is no longer waiting (cancelled, applied, someone else's) or no longer
    valid. ``label``: who completed it, for the activity log."""
    if not _claim(db, now, FactorChange.id == change_id, FactorChange.user_id == user_id):
        return None
    row = db.get(FactorChange, change_id, populate_existing=True)
    done = _apply_claimed(db, row, now=now, label=label)
    db.flush()
    return done
