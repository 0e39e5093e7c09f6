"""Known devices: browsers that passed step-up for a user.

After a successful verification the browser fetches ``POST /api/session/device``
(api/session.py), which sets a long-lived random cookie (HttpOnly, SameSite=Strict);
the database keeps only its keyed hash. A login session started with that cookie,
or verified on that browser, carries the device's id (``LoginSession.device_id``).

Why: sign-in failures, step-up guesses and code sends of a known device count
against that device's own budget, those of every unknown device against one shared
budget of the account. Someone who has the password can exhaust the unknown budget,
never the owner's known browser, and gains nothing by opening new sessions. The
owner sees every known device on the Security page and can remove it.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, select

from panel_app.models import KnownDevice, LoginSession
from panel_app.security.crypto import keyed_hash
from panel_app.security.policy import POLICY

COOKIE_NAME = "panel_device"
LIFETIME_SECONDS = POLICY.device_lifetime_seconds
MAX_DEVICES_PER_USER = POLICY.devices_per_user
TOUCH_EVERY = POLICY.device_touch_every
_TOKEN_MAX_LENGTH = 100


def _hash(token: str) -> str:
    return keyed_hash(token, "device-token")


def find(db: Session, token: object, *, user_id: int | None = None) -> KnownDevice | None:
    """The device this cookie value stands for (of ``user_id`` when given); None for junk."""
    if not isinstance(token, str) or not 20 <= len(token) <= _TOKEN_MAX_LENGTH or not token.isascii():
        return None
    row = db.exec(select(KnownDevice).where(KnownDevice.token_hash == _hash(token))).first()
    if row is None or (user_id is not None and row.user_id != user_id):
        return None
    return row


def of_session(db: Session, login_session: LoginSession) -> int | None:
    """The known device of this login session (None when unknown or since removed)."""
    device_id = login_session.device_id
    if device_id is None:
        return None
    row = db.get(KnownDevice, device_id)
    return device_id if row is not None and row.user_id == login_session.user_id else None


def touch(db: Session, device: KnownDevice, *, now: datetime, ip: str = "") -> None:
    if now - device.last_used_at >= TOUCH_EVERY or (ip and device.ip != ip[:64]):
        device.last_used_at = now
        device.ip = ip[:64] or device.ip
        db.add(device)


def remember(db: Session, login_session: LoginSession, *, user_agent: str, ip: str,
             now: datetime) -> tuple[KnownDevice, str] | None:
    """A new known device for the session's user, bound to the session. Returns the row
    and the cookie value (shown to nobody but that browser's cookie jar), or None when the
    user has ``MAX_DEVICES_PER_USER`` already: an old one is never pushed out (whoever could
    mint devices would otherwise evict the owner's browser)."""
    if len(listed(db, login_session.user_id)) >= MAX_DEVICES_PER_USER:
        return None
    token = secrets.token_urlsafe(32)
    row = KnownDevice(user_id=login_session.user_id, token_hash=_hash(token), user_agent=user_agent[:300],
                      ip=ip[:64], first_used_at=now, last_used_at=now)
    db.add(row)
    db.flush()
    login_session.device_id = row.id
    db.add(login_session)
    db.flush()
    return row, token


def listed(db: Session, user_id: int) -> list[KnownDevice]:
    return list(db.exec(select(KnownDevice).where(KnownDevice.user_id == user_id)
                        .order_by(KnownDevice.last_used_at.desc())).all())


def forget(db: Session, user_id: int, device_id: int) -> bool:
    """Remove a known device of ``user_id``: its sessions count as unknown from now on."""
    row = db.get(KnownDevice, device_id)
    if row is None or row.user_id != user_id:
        return False
    db.execute(update(LoginSession).where(LoginSession.device_id == device_id)
               .values(device_id=None).execution_options(synchronize_session="fetch"))
    db.delete(row)
    db.flush()
    return True


def forget_all(db: Session, user_id: int) -> int:
    """After a password reset: no browser stays trusted."""
    rows = listed(db, user_id)
    for row in rows:
        forget(db, user_id, row.id)
    return len(rows)
