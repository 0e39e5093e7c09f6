"""Domains: the account's list, the lookup every domain service starts from, the
transfer lock and the auth code. The DNS zone of a domain is ``services.dns_zone``.

Reads take the ``account_id`` whose domains may be seen; changes take the acting
``Actor`` and ``now``. Every lookup is scoped to the account: another customer's
domain is reported exactly like a missing one (``NotFound``). Services flush, never
commit.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import date, datetime

import dns.exception
import idna
from sqlmodel import Session, col, select

from panel_app.models import Domain
from panel_app.security import crypto
from panel_app.security.permissions import Area
from panel_app.services import audit, dns_names
from panel_app.services.audit import Actor
from panel_app.services.dns_names import APEX
from panel_app.services.validation import NotFound, Unreadable, ValidationError

AUTH_CODE_LENGTH = 16
# Registries want upper and lower case letters, digits and symbols. Look-alikes
# (0/O, 1/l/I) are left out for people who copy by hand; symbols that need escaping
# in EPP XML, shells or URLs (& < > " ' \ space) are left out for tools.
_AUTH_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_AUTH_LOWER = "abcdefghijkmnopqrstuvwxyz"
_AUTH_DIGITS = "23456789"
_AUTH_SYMBOLS = "!#$%*+-=?@^_~"
_AUTH_CLASSES = (_AUTH_UPPER, _AUTH_LOWER, _AUTH_DIGITS, _AUTH_SYMBOLS)

ZONE_UNREADABLE = "dnsui.zone_unreadable"


def reports_unreadable(message_key: str = ZONE_UNREADABLE):
    """Data of the zone that cannot be parsed (by the rules or by dnspython itself) ends
    the call as ``Unreadable(message_key)``; the panel's other errors pass unchanged."""

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except Unreadable:
                raise Unreadable("zone", message_key) from None
            except ValidationError:
                raise
            except (dns.exception.DNSException, ValueError):  # UnicodeError is a ValueError
                raise Unreadable("zone", message_key) from None

        return wrapper

    return decorate


# --- display records (plain data for the UI, never SQLModel rows) -----------------------


@dataclass(frozen=True)
class DomainSummary:
    name: str  # ASCII (punycode) name, the key for every other call
    display_name: str  # Unicode for people
    status: str
    registered_on: date
    expires_on: date
    auto_renew: bool
    transfer_lock: bool


# --- lookups --------------------------------------------------------------------------


def _domain_key(domain_name: object) -> str | None:
    if not isinstance(domain_name, str):
        return None
    text = domain_name.strip().rstrip(".")
    if not text or len(text) > 300:
        return None
    if text.isascii():
        return text.lower()
    try:
        return idna.encode(text, uts46=True).decode("ascii")
    except (UnicodeError, ValueError):
        return None


def load_domain(db: Session, account_id: int, domain_name: object, *, for_update: bool = False) -> Domain:
    """The account's domain by name, or ``NotFound``. For other services (mail)."""
    key = _domain_key(domain_name)
    if key is None:
        raise NotFound("domain", "domains.error.not_found")
    query = select(Domain).where(Domain.name == key, Domain.account_id == account_id)
    if for_update:  # serialises concurrent changes of one zone (PostgreSQL)
        query = query.with_for_update()
    domain = db.exec(query).first()
    if domain is None:
        raise NotFound("domain", "domains.error.not_found")
    return domain


@dataclass(frozen=True)
class ZoneKey:
    """What names one domain's zone in the zone cache: its row, its name, and the zone's
    version as the database holds it now."""

    domain_id: int
    name: str
    version: int


def zone_key(db: Session, account_id: int, domain_name: object) -> ZoneKey:
    """The account's domain with its zone version (one query, of columns: never a stale
    row of the session's identity map), or ``NotFound`` like ``load_domain``."""
    key = _domain_key(domain_name)
    if key is None:
        raise NotFound("domain", "domains.error.not_found")
    row = db.exec(select(Domain.id, Domain.name, Domain.zone_version)
                  .where(Domain.name == key, Domain.account_id == account_id)).first()
    if row is None:
        raise NotFound("domain", "domains.error.not_found")
    return ZoneKey(domain_id=row[0], name=row[1], version=row[2])


def zone_version(db: Session, domain_id: int) -> int | None:
    """The zone version the database holds now (None: the domain is gone)."""
    return db.exec(select(Domain.zone_version).where(Domain.id == domain_id)).first()


def _summary(domain: Domain) -> DomainSummary:
    return DomainSummary(
        name=domain.name,
        display_name=dns_names.display_name(APEX, domain.name),
        status=domain.status,
        registered_on=domain.registered_on,
        expires_on=domain.expires_on,
        auto_renew=domain.auto_renew,
        transfer_lock=domain.transfer_lock,
    )


# --- reads ----------------------------------------------------------------------------


@reports_unreadable()
def list_domains(db: Session, account_id: int) -> list[DomainSummary]:
    """The account's domains, by name. Nothing sensitive (no DNS, no auth code)."""
    rows = db.exec(select(Domain).where(Domain.account_id == account_id).order_by(col(Domain.name))).all()
    return [_summary(d) for d in rows]


@reports_unreadable()
def get_domain(db: Session, account_id: int, domain_name: str) -> DomainSummary:
    return _summary(load_domain(db, account_id, domain_name))


# --- transfer lock and auth code ---------------------------------------------------------


@reports_unreadable()
def set_transfer_lock(
    db: Session, actor: Actor, domain_name: str, locked: bool, *, now: datetime
) -> DomainSummary:
    """Turn the transfer lock on or off. Setting the state it already has changes
    nothing and writes no audit entry."""
    if not isinstance(locked, bool):
        raise ValidationError("transfer_lock", "validation.invalid")
    domain = load_domain(db, actor.account_id, domain_name, for_update=True)
    if domain.transfer_lock != locked:
        domain.transfer_lock = locked
        db.add(domain)
        audit.record(db, actor, Area.DOMAINS, "transfer_lock_on" if locked else "transfer_lock_off",
                     now=now, target=domain.name)
    return _summary(domain)


def reveal_auth_code(db: Session, actor: Actor, domain_name: str, *, now: datetime) -> str:
    """Decrypt and return the auth code (audited as ``auth_code_revealed``; the
    caller notifies the owner). The code never enters the audit entry."""
    domain = load_domain(db, actor.account_id, domain_name)
    if not domain.auth_code_enc:
        raise ValidationError("auth_code", "domains.error.no_auth_code")
    try:
        code = crypto.decrypt(domain.auth_code_enc)
    except crypto.DecryptionError:
        raise ValidationError("auth_code", "domains.error.auth_code_unreadable") from None
    audit.record(db, actor, Area.DOMAINS, "auth_code_revealed", now=now, target=domain.name)
    return code


def new_auth_code() -> str:
    """16 characters, at least one of each class, from the OS's CSPRNG."""
    pool = "".join(_AUTH_CLASSES)
    chars = [secrets.choice(cls) for cls in _AUTH_CLASSES]
    chars += [secrets.choice(pool) for _ in range(AUTH_CODE_LENGTH - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def regenerate_auth_code(db: Session, actor: Actor, domain_name: str, *, now: datetime) -> str:
    """Replace the auth code with a new random one (stored encrypted) and return it
    once, for display (audited as ``auth_code_regenerated``, without the code)."""
    domain = load_domain(db, actor.account_id, domain_name, for_update=True)
    code = new_auth_code()
    domain.auth_code_enc = crypto.encrypt(code)
    db.add(domain)
    audit.record(db, actor, Area.DOMAINS, "auth_code_regenerated", now=now, target=domain.name)
    return code
