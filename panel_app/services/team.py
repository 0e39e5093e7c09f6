"""Technical administrators: the team overview, areas and removal.

Only the account owner manages the team. Personal data, payment methods, other
people's security and the team itself stay with the owner: only ``GRANTABLE_AREAS``
can be handed out. The guard reads a user's areas from the database at every event,
so a narrower grant applies at the administrator's next click; removal also ends
their sessions at once.

Inviting someone, and accepting an invitation, is ``services/invitations.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from panel_app.models import Account, Invitation, User
from panel_app.security import sessions
from panel_app.security.permissions import (
    GRANTABLE_AREAS,
    ROLE_ADMIN,
    ROLE_OWNER,
    Area,
    format_areas,
    parse_areas,
)
from panel_app.security.policy import POLICY
from panel_app.services import audit
from panel_app.services.audit import Actor
from panel_app.services.validation import NotFound, ValidationError
from panel_app.settings import get_settings

log = logging.getLogger(__name__)

INVITATION_TTL = POLICY.invitation_valid
TOKEN_HASH_PURPOSE = "invite"
_TOKEN_MIN_LENGTH = 20
_TOKEN_MAX_LENGTH = 100
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

STATUS_ACTIVE = "active"
STATUS_REMOVED = "removed"
STATUS_PENDING = "pending"
STATUS_EXPIRED = "expired"

# No such administrator or invitation in this account (never says which).
ERROR_NOT_FOUND = "team.error.not_found"


# --- errors -------------------------------------------------------------------------------


class OwnerOnly(ValidationError):
    """The actor is not the account owner (acting as themselves)."""

    def __init__(self) -> None:
        super().__init__("team", "team.error.owner_only")


# --- records ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberView:
    id: int
    email: str
    name: str
    role: str  # owner | admin
    areas: tuple[str, ...]  # Area values; empty for the owner (who has all)
    status: str  # active | removed
    created_at: datetime
    active_sessions: int


@dataclass(frozen=True)
class InvitationView:
    id: int
    email: str
    name: str
    areas: tuple[str, ...]
    status: str  # pending | expired
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class TeamOverview:
    members: tuple[MemberView, ...]
    invitations: tuple[InvitationView, ...]


@dataclass(frozen=True)
class RemovedAdmin:
    user_id: int
    email: str
    name: str
    sessions_ended: int


# --- helpers ------------------------------------------------------------------------------


def _acting_owner(db: Session, actor: Actor) -> User:
    """The owner acting as themselves, read from the database; anyone else is refused."""
    user = db.get(User, actor.user_id) if isinstance(actor.user_id, int) else None
    if (
        user is None
        or not user.is_active
        or user.role != ROLE_OWNER
        or user.account_id != actor.account_id
    ):
        raise OwnerOnly()
    return user


def _account_name(db: Session, account_id: int) -> str:
    account = db.get(Account, account_id)
    if account is None:  # pragma: no cover - foreign key
        return ""
    return account.company or account.name


def _display_name(user: User | None) -> str:
    if user is None:
        return ""
    return user.name or user.email


def _area_values(raw: str) -> tuple[str, ...]:
    return tuple(a.value for a in GRANTABLE_AREAS if a in parse_areas(raw))


def clean_area_choice(areas: object) -> frozenset[Area]:
    """A set of grantable areas from raw input (strings or Area members). At least one."""
    if isinstance(areas, str) or not isinstance(areas, Iterable):
        raise ValidationError("areas", "team.error.areas_invalid")
    grantable = {a.value: a for a in GRANTABLE_AREAS}
    chosen: set[Area] = set()
    for item in list(areas)[:50]:
        value = item.value if isinstance(item, Area) else item
        if not isinstance(value, str) or value not in grantable:
            raise ValidationError("areas", "team.error.areas_invalid")
        chosen.add(grantable[value])
    if not chosen:
        raise ValidationError("areas", "team.error.areas_required")
    return frozenset(chosen)


def _load_admin(db: Session, owner: User, admin_id: object) -> User:
    if isinstance(admin_id, bool) or not isinstance(admin_id, int):
        raise NotFound("admin", ERROR_NOT_FOUND)
    admin = db.get(User, admin_id)
    if admin is None or admin.account_id != owner.account_id or admin.role != ROLE_ADMIN:
        raise NotFound("admin", ERROR_NOT_FOUND)
    return admin


def _load_active_admin(db: Session, owner: User, admin_id: object) -> User:
    admin = _load_admin(db, owner, admin_id)
    if not admin.is_active:
        raise ValidationError("admin", "team.error.already_removed")
    return admin


def _member_view(db: Session, user: User, now: datetime, idle_seconds: int) -> MemberView:
    active = 0
    if user.is_active:
        active = len(sessions.active_sessions(db, user.id, now=now, idle_seconds=idle_seconds))
    return MemberView(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        areas=_area_values(user.areas) if user.role == ROLE_ADMIN else (),
        status=STATUS_ACTIVE if user.is_active else STATUS_REMOVED,
        created_at=user.created_at,
        active_sessions=active,
    )


# --- the owner's side ---------------------------------------------------------------------


def list_team(db: Session, actor: Actor, *, now: datetime) -> TeamOverview:
    """Owner first, then administrators (active before removed), then open invitations."""
    owner = _acting_owner(db, actor)
    idle_seconds = get_settings().session_idle_seconds
    users = db.exec(select(User).where(User.account_id == owner.account_id)).all()
    rank = {ROLE_OWNER: 0, ROLE_ADMIN: 1}
    users = sorted(users, key=lambda u: (rank.get(u.role, 2), not u.is_active, u.created_at, u.id))
    invitations = db.exec(
        select(Invitation)
        .where(Invitation.account_id == owner.account_id, Invitation.accepted_at.is_(None),
               Invitation.revoked_at.is_(None))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    ).all()
    return TeamOverview(
        members=tuple(_member_view(db, u, now, idle_seconds) for u in users),
        invitations=tuple(
            InvitationView(
                id=i.id,
                email=i.email,
                name=i.name,
                areas=_area_values(i.areas),
                status=STATUS_PENDING if i.expires_at > now else STATUS_EXPIRED,
                created_at=i.created_at,
                expires_at=i.expires_at,
            )
            for i in invitations
        ),
    )


def change_areas(db: Session, actor: Actor, admin_id: object, areas: object, *, now: datetime) -> MemberView:
    """Set an administrator's areas. Unchanged areas change (and audit) nothing."""
    owner = _acting_owner(db, actor)
    admin = _load_active_admin(db, owner, admin_id)
    new_raw = format_areas(clean_area_choice(areas))
    old_raw = format_areas(parse_areas(admin.areas))
    if new_raw != old_raw:
        admin.areas = new_raw
        db.add(admin)
        db.flush()
        audit.record(db, actor, Area.TEAM, "admin_areas_changed", now=now, target=admin.email,
                     before=old_raw, after=new_raw)
        if parse_areas(old_raw) - parse_areas(new_raw):
            # Narrowed: the admin signs in again, so nothing of a withdrawn area (sensitive
            # or not) stays in an open tab; the push loop empties them now.
            sessions.revoke_user_sessions(db, admin.id, reason="areas_narrowed", now=now)
    return _member_view(db, admin, now, get_settings().session_idle_seconds)


def revoke_admin(db: Session, actor: Actor, admin_id: object, *, now: datetime) -> RemovedAdmin:
    """Remove an administrator: no more login, every session and grant ends now."""
    owner = _acting_owner(db, actor)
    admin = _load_active_admin(db, owner, admin_id)
    admin.is_active = False
    db.add(admin)
    db.flush()
    ended = sessions.revoke_user_sessions(db, admin.id, reason="admin_removed", now=now)
    sessions.end_user_grants(db, admin.id, now=now)
    audit.record(db, actor, Area.TEAM, "admin_removed", now=now, target=admin.email, sessions=ended)
    return RemovedAdmin(user_id=admin.id, email=admin.email, name=admin.name, sessions_ended=ended)


def end_admin_sessions(db: Session, actor: Actor, admin_id: object, *, now: datetime) -> int:
    """Sign an administrator out everywhere (they may sign in again). Returns the count."""
    owner = _acting_owner(db, actor)
    admin = _load_active_admin(db, owner, admin_id)
    ended = sessions.revoke_user_sessions(db, admin.id, reason="ended_by_owner", now=now)
    sessions.end_user_grants(db, admin.id, now=now)
    audit.record(db, actor, Area.TEAM, "admin_sessions_ended", now=now, target=admin.email, sessions=ended)
    return ended


