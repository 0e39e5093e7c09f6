"""Reflex states under pytest, the way the state manager builds them for one tab:
a fresh state tree whose connection carries a session cookie, handlers called
directly and run through the real guard and database."""

from __future__ import annotations

import hashlib
from datetime import datetime

import reflex as rx
from reflex.istate.data import RouterData

from panel_app.clock import utcnow
from panel_app.db import get_engine, transaction
from panel_app.models import User
from panel_app.security import sessions


def login_token(user: User, now: datetime | None = None, *, grant_method: str | None = None,
                ip: str = "192.0.2.50", device_id: int | None = None) -> str:
    """A live login session for ``user`` (optionally holding a grant, optionally on a known
    device); returns its cookie token."""
    now = now or utcnow()
    with transaction() as db:
        row, token = sessions.create_session(db, db.get(User, user.id), ip=ip, user_agent="pytest", now=now,
                                             absolute_seconds=12 * 3600)
        row.device_id = device_id
        if grant_method:
            sessions.start_grant(db, row, method=grant_method, now=now, ttl_seconds=600)
    return token


def tab_state(state_cls, token: str | None, path: str = "/", query: dict | None = None, ip: str = "192.0.2.50",
              cookies: dict | None = None):
    """The ``state_cls`` instance of a new tab whose websocket carries ``token`` (and ``cookies``)."""
    root = rx.State(_reflex_internal_init=True)
    headers = {"user-agent": "pytest"}
    jar = dict(cookies or {})
    if token is not None:
        jar[sessions.COOKIE_NAME] = token
    if jar:
        headers["cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
    query = dict(query or {})
    root.router = RouterData.from_router_data({
        "headers": headers,
        "ip": ip,
        "pathname": path,
        "asPath": path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""),
        "query": query,
    })
    return root.get_substate(state_cls.get_full_name().split(".")[1:])


def db_fingerprint(volatile_tables: set[str]) -> dict[str, str]:
    """A digest per table of every row, ``volatile_tables`` left out."""
    from sqlmodel import SQLModel

    digests = {}
    with get_engine().connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name not in volatile_tables:
                rows = conn.execute(table.select().order_by(*table.primary_key.columns)).all()
                digests[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests
