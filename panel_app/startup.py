"""Checks run when the app starts: refuse unsafe production configurations."""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import Session, select

from panel_app.db import get_engine
from panel_app.models import Account
from panel_app.settings import SettingsError, get_settings, load_secret_key


LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def production_problems() -> list[str]:
    settings = get_settings()
    problems = []
    try:
        load_secret_key(settings)
    except SettingsError as exc:
        problems.append(str(exc))
    if settings.is_demo and urlsplit(settings.public_url).hostname not in LOCAL_HOSTS:
        problems.append(
            f"Demo mode publishes every code sent at /dev/outbox and shows the demo passwords, so it only "
            f"runs on this machine, and PANEL_PUBLIC_URL is {settings.public_url}. Set PANEL_ENV=production "
            "for a real deployment."
        )
    if not settings.is_demo:
        try:
            with Session(get_engine()) as db:
                if db.exec(select(Account).where(Account.is_demo)).first() is not None:
                    problems.append(
                        "The database holds demo data (demo accounts with published passwords). "
                        "Use a fresh database for production (PANEL_DATABASE_URL), or remove the demo "
                        "accounts with `python -m panel_app.cli remove-demo`."
                    )
        except (OperationalError, ProgrammingError):
            problems.append("The database is not migrated: run `python -m panel_app.cli migrate`.")
    return problems


def check_startup() -> None:
    from panel_app import logs

    logs.configure(production=not get_settings().is_demo, events=get_settings().log_events)
    try:
        problems = production_problems()
    except SettingsError as exc:
        problems = [str(exc)]
    if problems:
        sys.stderr.write("Panel refuses to start:\n" + "".join(f"  - {p}\n" for p in problems))
        raise SystemExit(2)
