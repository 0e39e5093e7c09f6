"""Creating accounts and users (CLI, seed, invitations)."""

from __future__ import annotations

import secrets

from sqlmodel import Session, func, select

from panel_app.clock import utcnow
from panel_app.i18n import LANGUAGES
from panel_app.models import Account, User
from panel_app.security.permissions import ROLE_OWNER
from panel_app.security.passwords import MIN_PASSWORD_LENGTH, hash_password
from panel_app.services.validation import ValidationError, normalize_email, normalize_phone


def _new_customer_number(db: Session) -> str:
    count = db.exec(select(func.count()).select_from(Account)).one()
    return f"K{100001 + count}-{secrets.randbelow(90) + 10}"


def account_owner_id(db: Session, user: User) -> int | None:
    """The id of the owner of ``user``'s account (the user when they are the owner)."""
    if user.role == ROLE_OWNER:
        return user.id
    return db.exec(
        select(User.id).where(User.account_id == user.account_id, User.role == ROLE_OWNER).order_by(User.id)
    ).first()


def create_account_with_owner(
    db: Session,
    *,
    email: str,
    password: str,
    name: str = "",
    phone: str | None = None,
    company: str = "",
    language: str = "",
    is_demo: bool = False,
) -> User:
    email = normalize_email(email)
    phone = normalize_phone(phone) if phone else None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError("password", "validation.password_too_short")
    if db.exec(select(User).where(User.email == email)).first() is not None:
        raise ValidationError("email", "validation.email_taken")
    account = Account(customer_number=_new_customer_number(db), name=name or email, company=company,
                      is_demo=is_demo)
    db.add(account)
    db.flush()
    user = User(
        account_id=account.id,
        email=email,
        name=name,
        phone=phone,
        password_hash=hash_password(password),
        role="owner",
        language=language if language in LANGUAGES else "",
        created_at=utcnow(),
    )
    db.add(user)
    db.flush()
    return user


def change_password(db: Session, actor, user: User, *, current: object, new: object, now,
                    device_id: int | None = None) -> int:
    """Set a new password. Ends every step-up grant of the user and signs out every
    other session of the user (returns how many). Audited once, without passwords."""
    from panel_app.security import sessions
    from panel_app.security.passwords import password_problem, verify_password
    from panel_app.security.permissions import Area
    from panel_app.services.audit import record
    from panel_app.services.auth import check_current_password

    check_current_password(db, actor, user, current, now=now, device_id=device_id)
    problem = password_problem(new, user_inputs=(user.email, user.name))
    if problem is not None:
        raise ValidationError("new_password", problem)
    if verify_password(new, user.password_hash):
        raise ValidationError("new_password", "security.password.same")
    user.password_hash = hash_password(new)
    user.password_changed_at = now
    db.add(user)
    db.flush()
    sessions.end_user_grants(db, user.id, now=now)
    signed_out = sessions.revoke_user_sessions(db, user.id, reason="password_changed", now=now,
                                               except_session_id=actor.session_id)
    record(db, actor, Area.SECURITY, "password_changed", now=now, other_sessions_ended=signed_out)
    # Whoever knew the password and verified chose a new one: a reset scheduled without a
    # second factor (perhaps by someone holding only the mailbox) must not overwrite it later.
    from panel_app.services import factor_changes

    for change in factor_changes.pending(db, user.id):
        if change.kind == "password":
            factor_changes.cancel(db, actor, user, change.id, now=now, by=factor_changes.BY_PANEL)
    return signed_out
