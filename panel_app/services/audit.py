"""The activity log: one entry per change or security event, written in the same
transaction as the change. Never pass a code, a secret or a password here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from panel_app.models import AuditEvent, User
from panel_app.security.permissions import Area


@dataclass(frozen=True)
class Actor:
    """Who is acting, from where. Built by the state layer from the live session."""

    user_id: int | None
    account_id: int
    label: str
    ip: str = ""
    user_agent: str = ""
    session_id: int | None = None

    @classmethod
    def for_user(cls, user: User, *, ip: str = "", user_agent: str = "", session_id: int | None = None) -> Actor:
        return cls(user.id, user.account_id, user.email, ip[:64], user_agent[:300], session_id)


_FORBIDDEN_DETAIL_KEYS = {"code", "password", "secret", "token", "otp", "auth_code", "iban", "number"}


def record(
    db: Session, actor: Actor, area: Area, action: str, *, now: datetime, target: str = "", **detail
) -> AuditEvent:
    leaked = _FORBIDDEN_DETAIL_KEYS & set(detail)
    if leaked:  # a programming error: refuse rather than store a secret
        raise ValueError(f"audit detail must not contain {sorted(leaked)}")
    event = AuditEvent(
        account_id=actor.account_id,
        actor_user_id=actor.user_id,
        actor_label=actor.label[:254],
        area=Area(area).value,
        action=action[:60],
        target=str(target)[:300],
        detail=json.dumps(detail, sort_keys=True, default=str) if detail else "",
        ip=actor.ip,
        user_agent=actor.user_agent,
        created_at=now,
    )
    db.add(event)
    db.flush()
    return event
