"""Email for a domain: mailboxes, forwarders and the catch-all address.

Reads take the ``account_id`` whose domains may be seen; changes take the acting
``Actor`` and ``now`` and write exactly one audit entry (area ``email``). Another
customer's domain, mailbox or forwarder is reported exactly like a missing one
(``NotFound``). Passwords are stored only as argon2 hashes and never audited.

Addresses: the local part is lower-cased and must be a subset of the RFC 5321
Dot-string: atoms of letters, digits, "-" and "_" joined by single dots, at most
64 characters. "+" is left out on purpose: mail servers read "name+tag" as the
sub-address "tag" of "name", so such a mailbox would never receive mail.

Loops: mail must never circle. Before a forwarder or catch-all is set, and before
a forwarder or mailbox is removed (its address then falls to the catch-all), the
route is followed through every domain this panel hosts; a change that would lead
back to where it started is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import idna
from sqlmodel import Session, col, select

from panel_app.models import Domain, MailForwarder, Mailbox
from panel_app.security.passwords import MAX_PASSWORD_LENGTH, hash_password, password_problem
from panel_app.security.permissions import Area
from panel_app.services import audit
from panel_app.services.audit import Actor
from panel_app.services.domains import load_domain
from panel_app.services.validation import NotFound, ValidationError, clean_text, normalize_email

QUOTA_MIN_MB = 100
QUOTA_MAX_MB = 51200
DEFAULT_QUOTA_MB = 1024
LOCAL_PART_MAX = 64
_MAX_HOPS = 50

_LOCAL_PART_RE = re.compile(r"^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$")
_NUMBER_RE = re.compile(r"^[0-9]{1,10}$")


# --- display records -------------------------------------------------------------------


@dataclass(frozen=True)
class MailboxView:
    id: int
    address: str
    local_part: str
    quota_mb: int
    used_mb: int
    used_percent: int  # 0..100, for the usage bar


@dataclass(frozen=True)
class ForwarderView:
    id: int
    address: str
    local_part: str
    destination: str


@dataclass(frozen=True)
class MailOverview:
    domain: str
    mailboxes: list[MailboxView]
    forwarders: list[ForwarderView]
    catch_all: str  # "" when off


def _mailbox_view(box: Mailbox, domain: Domain) -> MailboxView:
    percent = round(box.used_mb * 100 / box.quota_mb) if box.quota_mb > 0 else 0
    return MailboxView(id=box.id, address=f"{box.local_part}@{domain.name}", local_part=box.local_part,
                       quota_mb=box.quota_mb, used_mb=box.used_mb, used_percent=max(0, min(100, percent)))


def _forwarder_view(fwd: MailForwarder, domain: Domain) -> ForwarderView:
    return ForwarderView(id=fwd.id, address=f"{fwd.local_part}@{domain.name}", local_part=fwd.local_part,
                         destination=fwd.destination)


# --- validation ---------------------------------------------------------------------


def normalize_local_part(raw: object, field: str = "local_part") -> str:
    text = clean_text(raw, field, max_length=LOCAL_PART_MAX, required=True).lower()
    if "+" in text:
        raise ValidationError(field, "mail.error.local_part_plus")
    if not text.isascii() or not _LOCAL_PART_RE.match(text):
        raise ValidationError(field, "mail.error.local_part_invalid")
    return text


def _quota(raw: object) -> int:
    number = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        number = raw
    elif isinstance(raw, float) and raw.is_integer():
        number = int(raw)
    elif isinstance(raw, str) and _NUMBER_RE.match(raw.strip()):
        number = int(raw.strip())
    elif raw is None or (isinstance(raw, str) and not raw.strip()):
        raise ValidationError("quota_mb", "validation.required")
    if number is None or not QUOTA_MIN_MB <= number <= QUOTA_MAX_MB:
        raise ValidationError("quota_mb", "mail.error.quota_range", min=QUOTA_MIN_MB, max=QUOTA_MAX_MB)
    return number




def _checked_password_hash(password: object, local_part: str, domain: Domain) -> str:
    labels = domain.name.split(".")
    problem = password_problem(password, user_inputs=(local_part, f"{local_part}@{domain.name}", domain.name,
                                                      labels[0]))
    if problem is not None:
        params = {"max": MAX_PASSWORD_LENGTH} if problem == "mail.error.password_too_long" else {}
        raise ValidationError("password", problem, **params)
    return hash_password(password)


# --- routing (loop detection) ---------------------------------------------------------------


def _ascii_address(address: str) -> str:
    local, _, domain_part = address.rpartition("@")
    if not domain_part.isascii():
        try:
            domain_part = idna.encode(domain_part, uts46=True).decode("ascii")
        except (UnicodeError, ValueError):
            pass
    return f"{local.lower()}@{domain_part.lower()}"


class _Routes:
    """Where mail to an address goes next, with pending changes laid over the database."""

    def __init__(self, db: Session, *, forwarders: dict[str, str | None] | None = None,
                 catch_alls: dict[str, str] | None = None, removed_mailboxes: set[str] | None = None):
        self.db = db
        self.forwarders = forwarders or {}  # address -> destination, None = removed
        self.catch_alls = catch_alls or {}  # domain name -> destination ("" = off)
        self.removed_mailboxes = removed_mailboxes or set()
        self._domains: dict[str, Domain | None] = {}

    def _domain(self, name: str) -> Domain | None:
        if name not in self._domains:
            self._domains[name] = self.db.exec(select(Domain).where(Domain.name == name)).first()
        return self._domains[name]

    def next_hop(self, address: str) -> tuple[str | None, str] | None:
        """(catch-all node or None, next address), or None where mail stops
        (a mailbox, a domain hosted elsewhere, or a bounce)."""
        local, _, domain_name = address.rpartition("@")
        domain = self._domain(domain_name)
        if domain is None:
            return None
        if address not in self.removed_mailboxes and self.db.exec(
            select(Mailbox.id).where(Mailbox.domain_id == domain.id, Mailbox.local_part == local)
        ).first() is not None:
            return None
        if address in self.forwarders:
            destination = self.forwarders[address]
        else:
            destination = self.db.exec(select(MailForwarder.destination).where(
                MailForwarder.domain_id == domain.id, MailForwarder.local_part == local)).first()
        if destination:
            return None, _ascii_address(destination)
        catch_all = self.catch_alls.get(domain_name, domain.catch_all)
        if catch_all:
            return f"*@{domain_name}", _ascii_address(catch_all)
        return None

    def loops(self, start: str, destination: str) -> bool:
        """Would mail leaving ``start`` for ``destination`` come back around?"""
        seen = {start}
        current = _ascii_address(destination)
        for _ in range(_MAX_HOPS):
            if current in seen:
                return True
            seen.add(current)
            hop = self.next_hop(current)
            if hop is None:
                return False
            via_catch_all, current = hop
            if via_catch_all is not None:
                if via_catch_all in seen:
                    return True
                seen.add(via_catch_all)
        return True  # a chain this long is a loop for all practical purposes


def _catch_all_still_safe(routes: _Routes, domain: Domain) -> bool:
    """After an address disappears, mail to it falls to the catch-all."""
    return not domain.catch_all or not routes.loops(f"*@{domain.name}", domain.catch_all)


# --- lookups --------------------------------------------------------------------------------


def _mailboxes(db: Session, domain: Domain) -> list[Mailbox]:
    return list(db.exec(select(Mailbox).where(Mailbox.domain_id == domain.id)
                        .order_by(col(Mailbox.local_part))).all())


def _forwarders(db: Session, domain: Domain) -> list[MailForwarder]:
    return list(db.exec(select(MailForwarder).where(MailForwarder.domain_id == domain.id)
                        .order_by(col(MailForwarder.local_part))).all())


def _load_mailbox(db: Session, domain: Domain, mailbox_id: object) -> Mailbox:
    if isinstance(mailbox_id, bool) or not isinstance(mailbox_id, int):
        raise NotFound("mailbox", "mail.error.mailbox_not_found")
    box = db.exec(select(Mailbox).where(Mailbox.id == mailbox_id, Mailbox.domain_id == domain.id)).first()
    if box is None:
        raise NotFound("mailbox", "mail.error.mailbox_not_found")
    return box


def _load_forwarder(db: Session, domain: Domain, forwarder_id: object) -> MailForwarder:
    if isinstance(forwarder_id, bool) or not isinstance(forwarder_id, int):
        raise NotFound("forwarder", "mail.error.forwarder_not_found")
    fwd = db.exec(select(MailForwarder).where(MailForwarder.id == forwarder_id,
                                              MailForwarder.domain_id == domain.id)).first()
    if fwd is None:
        raise NotFound("forwarder", "mail.error.forwarder_not_found")
    return fwd


def _address_taken(db: Session, domain: Domain, local_part: str) -> bool:
    box = db.exec(select(Mailbox.id).where(Mailbox.domain_id == domain.id,
                                           Mailbox.local_part == local_part)).first()
    fwd = db.exec(select(MailForwarder.id).where(MailForwarder.domain_id == domain.id,
                                                 MailForwarder.local_part == local_part)).first()
    return box is not None or fwd is not None


# --- reads -------------------------------------------------------------------------------------


def list_mailboxes(db: Session, account_id: int, domain_name: str) -> list[MailboxView]:
    domain = load_domain(db, account_id, domain_name)
    return [_mailbox_view(b, domain) for b in _mailboxes(db, domain)]


def list_forwarders(db: Session, account_id: int, domain_name: str) -> list[ForwarderView]:
    domain = load_domain(db, account_id, domain_name)
    return [_forwarder_view(f, domain) for f in _forwarders(db, domain)]


def get_mail_overview(db: Session, account_id: int, domain_name: str) -> MailOverview:
    domain = load_domain(db, account_id, domain_name)
    return MailOverview(domain=domain.name,
                        mailboxes=[_mailbox_view(b, domain) for b in _mailboxes(db, domain)],
                        forwarders=[_forwarder_view(f, domain) for f in _forwarders(db, domain)],
                        catch_all=domain.catch_all)


def default_domain(db: Session, account_id: int) -> str:
    """The domain /email opens on when none is asked for: the first (by name) that has
    mailboxes, else the first; "" without domains."""
    names = list(db.exec(select(Domain.name).where(Domain.account_id == account_id)
                         .order_by(col(Domain.name))).all())
    with_boxes = db.exec(
        select(Domain.name).join(Mailbox, col(Mailbox.domain_id) == col(Domain.id))
        .where(Domain.account_id == account_id).order_by(col(Domain.name)).limit(1)
    ).first()
    return with_boxes or (names[0] if names else "")


# --- mailboxes -------------------------------------------------------------------------------


def create_mailbox(
    db: Session, actor: Actor, domain_name: str, local_part: str, password: str,
    quota_mb: int | str = DEFAULT_QUOTA_MB, *, now: datetime,
) -> MailboxView:
    domain = load_domain(db, actor.account_id, domain_name, for_update=True)
    local_part = normalize_local_part(local_part)
    if _address_taken(db, domain, local_part):
        raise ValidationError("local_part", "mail.error.address_taken")
    quota = _quota(quota_mb)
    password_hash = _checked_password_hash(password, local_part, domain)
    box = Mailbox(domain_id=domain.id, local_part=local_part, password_hash=password_hash, quota_mb=quota,
                  used_mb=0, created_at=now)
    db.add(box)
    audit.record(db, actor, Area.EMAIL, "mailbox_created", now=now, target=f"{local_part}@{domain.name}",
                 quota_mb=quota)
    db.flush()
    return _mailbox_view(box, domain)


def change_mailbox_password(
    db: Session, actor: Actor, domain_name: str, mailbox_id: int, new_password: str, *, now: datetime
) -> None:
    domain = load_domain(db, actor.account_id, domain_name)
    box = _load_mailbox(db, domain, mailbox_id)
    box.password_hash = _checked_password_hash(new_password, box.local_part, domain)
    db.add(box)
    audit.record(db, actor, Area.EMAIL, "mailbox_password_changed", now=now,
                 target=f"{box.local_part}@{domain.name}")
    db.flush()


def set_mailbox_quota(
    db: Session, actor: Actor, domain_name: str, mailbox_id: int, quota_mb: int | str, *, now: datetime
) -> MailboxView:
    """Change the quota; not below what the mailbox already holds. Setting the
    quota it already has changes nothing and writes no audit entry."""
    domain = load_domain(db, actor.account_id, domain_name)
    box = _load_mailbox(db, domain, mailbox_id)
    quota = _quota(quota_mb)
    if quota < box.used_mb:
        raise ValidationError("quota_mb", "mail.error.quota_below_usage", used=box.used_mb)
    if quota != box.quota_mb:
        old = box.quota_mb
        box.quota_mb = quota
        db.add(box)
        audit.record(db, actor, Area.EMAIL, "mailbox_quota_changed", now=now,
                     target=f"{box.local_part}@{domain.name}", quota_mb=quota, old_quota_mb=old)
        db.flush()
    return _mailbox_view(box, domain)


def delete_mailbox(
    db: Session, actor: Actor, domain_name: str, mailbox_id: int, confirmation: str, *, now: datetime
) -> None:
    """Delete a mailbox (and the mail in it). ``confirmation`` must be the full
    address, typed by the user (case does not matter)."""
    domain = load_domain(db, actor.account_id, domain_name, for_update=True)
    box = _load_mailbox(db, domain, mailbox_id)
    address = f"{box.local_part}@{domain.name}"
    typed = confirmation.strip().lower() if isinstance(confirmation, str) else ""
    accepted = {address}
    try:
        accepted.add(f"{box.local_part}@{idna.decode(domain.name)}".lower())
    except (UnicodeError, ValueError):
        pass
    if typed not in accepted:
        raise ValidationError("confirmation", "mail.error.confirmation_mismatch", address=address)
    if domain.catch_all and _ascii_address(domain.catch_all) == address:
        raise ValidationError("mailbox", "mail.error.mailbox_is_catch_all")
    if not _catch_all_still_safe(_Routes(db, removed_mailboxes={address}), domain):
        raise ValidationError("mailbox", "mail.error.delete_would_loop")
    db.delete(box)
    audit.record(db, actor, Area.EMAIL, "mailbox_deleted", now=now, target=address)
    db.flush()


# --- forwarders and catch-all --------------------------------------------------------------


def create_forwarder(
    db: Session, actor: Actor, domain_name: str, local_part: str, destination: str, *, now: datetime
) -> ForwarderView:
    domain = load_domain(db, actor.account_id, domain_name, for_update=True)
    local_part = normalize_local_part(local_part)
    if _address_taken(db, domain, local_part):
        raise ValidationError("local_part", "mail.error.address_taken")
    destination = normalize_email(destination, "destination")
    address = f"{local_part}@{domain.name}"
    if _ascii_address(destination) == address:
        raise ValidationError("destination", "mail.error.forward_to_itself")
    if _Routes(db, forwarders={address: destination}).loops(address, destination):
        raise ValidationError("destination", "mail.error.forward_loop")
    fwd = MailForwarder(domain_id=domain.id, local_part=local_part, destination=destination)
    db.add(fwd)
    audit.record(db, actor, Area.EMAIL, "forwarder_created", now=now, target=address, destination=destination)
    db.flush()
    return _forwarder_view(fwd, domain)


def delete_forwarder(
    db: Session, actor: Actor, domain_name: str, forwarder_id: int, *, now: datetime
) -> None:
    domain = load_domain(db, actor.account_id, domain_name, for_update=True)
    fwd = _load_forwarder(db, domain, forwarder_id)
    address = f"{fwd.local_part}@{domain.name}"
    if not _catch_all_still_safe(_Routes(db, forwarders={address: None}), domain):
        raise ValidationError("forwarder", "mail.error.delete_would_loop")
    db.delete(fwd)
    audit.record(db, actor, Area.EMAIL, "forwarder_deleted", now=now, target=address,
                 destination=fwd.destination)
    db.flush()


def set_catch_all(
    db: Session, actor: Actor, domain_name: str, destination: str | None, *, now: datetime
) -> str:
    """Where mail to unknown addresses of the domain goes; empty turns it off.
    Returns the stored value. Setting the current value writes no audit entry."""
    domain = load_domain(db, actor.account_id, domain_name, for_update=True)
    if destination is None or (isinstance(destination, str) and not destination.strip()):
        value = ""
    else:
        value = normalize_email(destination, "catch_all")
        if _Routes(db, catch_alls={domain.name: value}).loops(f"*@{domain.name}", value):
            raise ValidationError("catch_all", "mail.error.forward_loop")
    if value != domain.catch_all:
        domain.catch_all = value
        db.add(domain)
        audit.record(db, actor, Area.EMAIL, "catch_all_set" if value else "catch_all_off", now=now,
                     target=domain.name, destination=value)
        db.flush()
    return value
