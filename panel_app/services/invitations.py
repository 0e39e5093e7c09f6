"""Invitations to the team: sending, resending, withdrawing, and accepting one.

An invitation is a random token that lives in exactly one place, the email to the
invited person: the database keeps its keyed hash, the audit log never sees it. A
link works once and for 7 days; accepting it is one conditional UPDATE, so two clicks
(or two tabs) cannot both create a login.

Who may invite, and to which areas, is the team's rule (``services/team.py``).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from panel_app.i18n import LANGUAGES, formatting, normalize_language, t
from panel_app.models import Invitation, KnownBrowser, RecoveryCode, User
from panel_app.security.crypto import keyed_hash
from panel_app.security.passwords import MAX_PASSWORD_LENGTH, hash_password, password_problem
from panel_app.security.permissions import ROLE_ADMIN, ROLE_OWNER, Area, format_areas, parse_areas
from panel_app.services import audit, authenticator_setup
from panel_app.services.audit import Actor
from panel_app.services.team import (
    _TOKEN_CHARS,
    _TOKEN_MAX_LENGTH,
    _TOKEN_MIN_LENGTH,
    ERROR_NOT_FOUND,
    INVITATION_TTL,
    TOKEN_HASH_PURPOSE,
    _account_name,
    _acting_owner,
    _area_values,
    _display_name,
    clean_area_choice,
)
from panel_app.services.validation import NotFound, ValidationError, clean_text, normalize_email, normalize_phone
from panel_app.settings import get_settings

log = logging.getLogger(__name__)


# --- errors -------------------------------------------------------------------------------


class InvitationInvalid(ValidationError):
    """Unknown, used, revoked or expired: the invited person cannot tell which, nor can anyone else."""

    def __init__(self) -> None:
        super().__init__("token", "invite.error.invalid")


# --- records ------------------------------------------------------------------------------


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
class JoinedAdmin:
    user_id: int
    account_id: int
    email: str
    name: str
    areas: tuple[str, ...]
    owner_ids: tuple[int, ...]
    owner_languages: tuple[str, ...]


# --- helpers ------------------------------------------------------------------------------


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


def _load_pending_invitation(db: Session, owner: User, invitation_id: object) -> Invitation:
    if isinstance(invitation_id, bool) or not isinstance(invitation_id, int):
        raise NotFound("invitation", ERROR_NOT_FOUND)
    invitation = db.get(Invitation, invitation_id)
    if invitation is None or invitation.account_id != owner.account_id or not _is_pending(invitation):
        raise NotFound("invitation", ERROR_NOT_FOUND)
    return invitation


# --- the owner's side ---------------------------------------------------------------------


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
        # A second accept racing the first sees the first one's user: the link is used up.
        if db.exec(select(Invitation.accepted_at).where(Invitation.id == invitation.id)).one() is not None:
            raise InvitationInvalid()
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
        authenticator_setup.forget_all(db, user.id)
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
    try:
        db.flush()
    except IntegrityError:  # another invitation to the address was accepted meanwhile
        raise ValidationError("email", "invite.error.email_taken") from None

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
