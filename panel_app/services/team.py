"""Technical administrators: invitations, areas, removal, and accepting an invitation.

Only the account owner manages the team. An invitation is a random token that
lives in exactly one place, the email to the invited person: the database keeps
its keyed hash, the audit log never sees it. A link works once and for 7 days;
accepting it is one conditional UPDATE, so two clicks (or two tabs) cannot both
create a login.

Personal data, payment methods, other people's security and the team itself stay
with the owner: only ``GRANTABLE_AREAS`` can be handed out. The guard reads a
user's areas from the database at every event, so a narrower grant applies at the
administrator's next click; removal also ends their sessions at once.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import delete, update
from sqlmodel import Session, select

from panel_app.i18n import LANGUAGES, formatting, normalize_language, t
from panel_app.models import Account, Invitation, KnownBrowser, RecoveryCode, User
from panel_app.security import sessions
from panel_app.security.crypto import keyed_hash
from panel_app.security.passwords import MAX_PASSWORD_LENGTH, hash_password
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
from panel_app.security.passwords import password_problem
from panel_app.services.validation import NotFound, ValidationError, clean_text, normalize_email, normalize_phone
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


class InvitationInvalid(ValidationError):
    """Unknown, used, revoked or expired: the invited person cannot tell which, nor can anyone else."""

    def __init__(self) -> None:
        super().__init__("token", "invite.error.invalid")


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
class SentInvitation:
    """What the caller needs to email the link. The link (with the token) exists only here."""

    invitation_id: int
    email: str
    name: str
    areas: tuple[str, ...]
    expires_at: datetime
    language: str
    inviter_name: str
    account_name: str
    link: str = field(repr=False)


@dataclass(frozen=True)
class InvitationPreview:
    """Shown on the public acceptance page: who invited whom, for which account."""

    email: str
    name: str
    areas: tuple[str, ...]
    inviter_name: str
    account_name: str
    expires_at: datetime


@dataclass(frozen=True)
class RemovedAdmin:
    user_id: int
    email: str
    name: str
    sessions_ended: int


@dataclass(frozen=True)
class JoinedAdmin:
    user_id: int
    account_id: int
    email: str
    name: str
    areas: tuple[str, ...]
    owner_ids: tuple[int, ...]
    owner_languages: tuple[str, ...]


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


def _token_hash(token: str) -> str:
    return keyed_hash(token, TOKEN_HASH_PURPOSE)


def _plausible_token(token: object) -> bool:
    return (
        isinstance(token, str)
        and _TOKEN_MIN_LENGTH <= len(token) <= _TOKEN_MAX_LENGTH
        and all(c in _TOKEN_CHARS for c in token)
    )


def invitation_link(token: str, public_url: str | None = None) -> str:
    base = (public_url if public_url is not None else get_settings().public_url).rstrip("/")
    return f"{base}/invite?token={quote(token, safe='')}"


def _is_pending(invitation: Invitation) -> bool:
    return invitation.accepted_at is None and invitation.revoked_at is None


def _is_usable(invitation: Invitation, now: datetime) -> bool:
    return _is_pending(invitation) and invitation.expires_at > now


def _sent(
    db: Session, invitation: Invitation, owner: User, token: str, public_url: str | None
) -> SentInvitation:
    return SentInvitation(
        invitation_id=invitation.id,
        email=invitation.email,
        name=invitation.name,
        areas=_area_values(invitation.areas),
        expires_at=invitation.expires_at,
        language=normalize_language(owner.language),
        inviter_name=_display_name(owner),
        account_name=_account_name(db, owner.account_id),
        link=invitation_link(token, public_url),
    )


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


def _load_pending_invitation(db: Session, owner: User, invitation_id: object) -> Invitation:
    if isinstance(invitation_id, bool) or not isinstance(invitation_id, int):
        raise NotFound("invitation", ERROR_NOT_FOUND)
    invitation = db.get(Invitation, invitation_id)
    if invitation is None or invitation.account_id != owner.account_id or not _is_pending(invitation):
        raise NotFound("invitation", ERROR_NOT_FOUND)
    return invitation


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


def invite_admin(
    db: Session,
    actor: Actor,
    *,
    email: object,
    areas: object,
    now: datetime,
    name: object = "",
    public_url: str | None = None,
) -> SentInvitation:
    """Create an invitation; the caller emails ``result.link`` (``send_invitation_email``).

    Only this account's own members are checked: whether an address has a login in
    another account is nobody's business here.
    """
    owner = _acting_owner(db, actor)
    clean_email = normalize_email(email)
    clean_name = clean_text(name, "name", max_length=200)
    chosen = clean_area_choice(areas)

    member = db.exec(
        select(User).where(User.email == clean_email, User.account_id == owner.account_id)
    ).first()
    if member is not None and (member.is_active or member.role != ROLE_ADMIN):
        raise ValidationError("email", "team.error.already_member")
    open_invitation = db.exec(
        select(Invitation).where(
            Invitation.account_id == owner.account_id,
            Invitation.email == clean_email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
    ).first()
    if open_invitation is not None:
        raise ValidationError("email", "team.error.already_invited")

    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        account_id=owner.account_id,
        email=clean_email,
        name=clean_name,
        areas=format_areas(chosen),
        token_hash=_token_hash(token),
        created_by_user_id=owner.id,
        created_at=now,
        expires_at=now + INVITATION_TTL,
    )
    db.add(invitation)
    db.flush()
    audit.record(db, actor, Area.TEAM, "admin_invited", now=now, target=clean_email, areas=invitation.areas)
    return _sent(db, invitation, owner, token, public_url)


def resend_invitation(
    db: Session, actor: Actor, invitation_id: object, *, now: datetime, public_url: str | None = None
) -> SentInvitation:
    """A new token (the old link stops working) and a fresh 7 days."""
    owner = _acting_owner(db, actor)
    invitation = _load_pending_invitation(db, owner, invitation_id)
    token = secrets.token_urlsafe(32)
    invitation.token_hash = _token_hash(token)
    invitation.expires_at = now + INVITATION_TTL
    invitation.created_by_user_id = owner.id
    db.add(invitation)
    db.flush()
    audit.record(db, actor, Area.TEAM, "invitation_resent", now=now, target=invitation.email)
    return _sent(db, invitation, owner, token, public_url)


def revoke_invitation(db: Session, actor: Actor, invitation_id: object, *, now: datetime) -> str:
    """Withdraw an open invitation; returns its email address."""
    owner = _acting_owner(db, actor)
    invitation = _load_pending_invitation(db, owner, invitation_id)
    invitation.revoked_at = now
    db.add(invitation)
    db.flush()
    audit.record(db, actor, Area.TEAM, "invitation_revoked", now=now, target=invitation.email)
    return invitation.email


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


# --- the invitation email -----------------------------------------------------------------


def render_invitation_email(invite: SentInvitation) -> tuple[str, str]:
    """(subject, text) in the inviting owner's language. The link is in the text."""
    lang = invite.language
    areas = ", ".join(t(f"activity.area.{a}", lang) for a in invite.areas)
    subject = t("invite.mail.subject", lang, account=invite.account_name)
    parts = [
        t("invite.mail.greeting", lang),
        t("invite.mail.intro", lang, inviter=invite.inviter_name, account=invite.account_name, areas=areas),
        t("invite.mail.action", lang),
        invite.link,
        t("invite.mail.validity", lang, expires=formatting.moment(invite.expires_at, lang)),
        t("invite.mail.not_expected", lang),
        t("delivery.mail.signature", lang),
    ]
    return subject, "\n\n".join(parts) + "\n"


async def send_invitation_email(invite: SentInvitation) -> bool:
    """Email the link (background task). Never raises; the link is never logged."""
    from panel_app.delivery import send_email_notice

    subject, text = render_invitation_email(invite)
    try:
        result = await send_email_notice(invite.email, invite.language, subject, text)
    except Exception as exc:  # noqa: BLE001 - a failed mail must not surface in a handler
        log.warning("invitation %s not delivered: %s", invite.invitation_id, type(exc).__name__)
        return False
    if not result.ok:
        log.warning("invitation %s not delivered: %s", invite.invitation_id, result.error_code)
    return result.ok


# --- the invited person's side (public, no login) -----------------------------------------


def _find_usable(db: Session, token: object, now: datetime) -> Invitation | None:
    if not _plausible_token(token):
        return None
    invitation = db.exec(select(Invitation).where(Invitation.token_hash == _token_hash(token))).first()
    if invitation is None or not _is_usable(invitation, now):
        return None
    return invitation


def describe_invitation(db: Session, token: object, *, now: datetime) -> InvitationPreview | None:
    """What the acceptance page shows, or None for any link that does not work (no reason given)."""
    invitation = _find_usable(db, token, now)
    if invitation is None:
        return None
    inviter = db.get(User, invitation.created_by_user_id)
    return InvitationPreview(
        email=invitation.email,
        name=invitation.name,
        areas=_area_values(invitation.areas),
        inviter_name=_display_name(inviter),
        account_name=_account_name(db, invitation.account_id),
        expires_at=invitation.expires_at,
    )


def accept_invitation(
    db: Session,
    token: object,
    *,
    name: object,
    password: object,
    phone: object,
    language: object,
    now: datetime,
    ip: str = "",
    user_agent: str = "",
) -> JoinedAdmin:
    """Create the administrator's login from a valid invitation (once).

    Raises ``InvitationInvalid`` for a link that does not work and ``ValidationError``
    for a field. The invitation is claimed by a conditional UPDATE in the same
    transaction as the new user, so exactly one of two concurrent accepts wins.
    """
    invitation = _find_usable(db, token, now)
    if invitation is None:
        raise InvitationInvalid()
    clean_name = clean_text(name, "name", max_length=200, required=True)
    account_name = _account_name(db, invitation.account_id)
    problem = password_problem(
        password, user_inputs=(invitation.email, invitation.email.split("@")[0], clean_name, account_name)
    )
    if problem is not None:
        params = {"max": MAX_PASSWORD_LENGTH} if problem == "mail.error.password_too_long" else {}
        raise ValidationError("password", problem, **params)
    clean_phone = normalize_phone(phone)
    if not isinstance(language, str) or language not in LANGUAGES:
        raise ValidationError("language", "validation.invalid")

    existing = db.exec(select(User).where(User.email == invitation.email)).first()
    rejoining = (
        existing is not None
        and existing.account_id == invitation.account_id
        and existing.role == ROLE_ADMIN
        and not existing.is_active
    )
    if existing is not None and not rejoining:
        # Only ever the invited address itself, and only to someone holding a live link to it.
        raise ValidationError("email", "invite.error.email_taken")

    password_hash = hash_password(password)  # slow: before the write lock is taken

    claimed = db.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.token_hash == invitation.token_hash,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(accepted_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise InvitationInvalid()

    areas_raw = format_areas(parse_areas(invitation.areas))
    if rejoining:
        user = existing
        # A returning administrator starts from scratch: old factors and codes are gone.
        db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        db.execute(delete(KnownBrowser).where(KnownBrowser.user_id == user.id))
        user.totp_secret_enc = None
        user.totp_enabled_at = None
        user.totp_last_step = None
        user.totp_pending_secret_enc = None
        user.stepup_failures = 0
        user.stepup_locked_until = None
        user.preferred_channel = "email"
        user.is_active = True
    else:
        user = User(account_id=invitation.account_id, email=invitation.email, role=ROLE_ADMIN, created_at=now)
    user.name = clean_name
    user.phone = clean_phone
    user.password_hash = password_hash
    user.password_changed_at = now
    user.language = language
    user.areas = areas_raw
    db.add(user)
    db.flush()

    joined_actor = Actor.for_user(user, ip=ip, user_agent=user_agent)
    audit.record(db, joined_actor, Area.TEAM, "admin_joined", now=now, target=user.email, areas=areas_raw,
                 invitation=invitation.id)
    owners = db.exec(
        select(User).where(User.account_id == invitation.account_id, User.role == ROLE_OWNER,
                           User.is_active.is_(True)).order_by(User.id)
    ).all()
    return JoinedAdmin(
        user_id=user.id,
        account_id=user.account_id,
        email=user.email,
        name=user.name,
        areas=_area_values(areas_raw),
        owner_ids=tuple(o.id for o in owners),
        owner_languages=tuple(normalize_language(o.language) for o in owners),
    )
