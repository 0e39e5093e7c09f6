"""Creating accounts and users (CLI, seed, invitations)."""

from __future__ import annotations

import secrets

from sqlmodel import Session, func, select

from panel_app.clock import utcnow
from panel_app.models import Account, User
from panel_app.security.passwords import MIN_PASSWORD_LENGTH, hash_password
from panel_app.services.validation import ValidationError, normalize_email, normalize_phone


def _new_customer_number(db: Session) -> str:
    count = db.exec(select(func.count()).select_from(Account)).one()
    return f"K{100001 + count}-{secrets.randbelow(90) + 10}"


def create_account_with_owner(
    db: Session,
    *,
    email: str,
    password: str,
    name: str = "",
    phone: str | None = None,
    company: str = "",
    language: str = "en",
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
        language=language if language in ("en", "de") else "en",
        created_at=utcnow(),
    )
    db.add(user)
    db.flush()
    return user
