"""Admin command line: ``python -m panel_app.cli COMMAND``.

Support staff and tests create accounts with it; ``make run`` migrates and seeds.
"""

from __future__ import annotations

import argparse
import json
import sys

from sqlmodel import select

from panel_app.i18n import LANGUAGES
from panel_app.settings import SettingsError, create_secret_key, get_settings


def _cmd_migrate(_args) -> int:
    from panel_app import migrate

    migrate.upgrade()
    print("Database is up to date.")
    return 0


def _cmd_create_user(args) -> int:
    from panel_app.db import transaction
    from panel_app.services.accounts import create_account_with_owner
    from panel_app.services.validation import ValidationError
    from panel_app.i18n import t

    try:
        with transaction() as db:
            user = create_account_with_owner(db, email=args.email, password=args.password, phone=args.phone,
                                             name=args.name or "", language=args.language)
    except ValidationError as exc:
        print(f"error: {exc.field}: {t(exc.message_key, 'en', **exc.params)}", file=sys.stderr)
        return 1
    print(f"Created account {user.account_id} with owner {user.email}.")
    return 0


def _cmd_seed_demo(_args) -> int:
    from panel_app.db import transaction
    from panel_app.seed import seed_demo

    if not get_settings().is_demo:
        print("error: demo data only in PANEL_ENV=demo.", file=sys.stderr)
        return 1
    from panel_app.seed import seed_demo_staff

    with transaction() as db:
        created = seed_demo(db)
        staff_secrets = seed_demo_staff(db)
    print("Demo data created." if created else "Demo data already present.")
    for email, secret in staff_secrets:  # demo mode only: fixed, published secrets
        print(f"Demo support login {email}: authenticator secret {secret}")
    return 0


def _cmd_create_staff(args) -> int:
    from panel_app.clock import utcnow
    from panel_app.db import transaction
    from panel_app.i18n import t
    from panel_app.security import staff
    from panel_app.services.validation import ValidationError

    try:
        with transaction() as db:
            member, token = staff.create(db, email=args.email, name=args.name, admin=args.admin, now=utcnow())
    except ValidationError as exc:
        print(f"error: {exc.field}: {t(exc.message_key, 'en', **exc.params)}", file=sys.stderr)
        return 1
    role = "staff admin" if args.admin else "support agent"
    print(f"Created {role} {member.email}. One-time set-up link (valid 72 hours, give it to them only):")
    print(f"{get_settings().public_url}/staff/setup?token={token}")
    return 0


def _cmd_remove_demo(_args) -> int:
    from panel_app.db import transaction
    from panel_app.seed import remove_demo

    with transaction() as db:
        count = remove_demo(db)
    print(f"Removed {count} demo account(s).")
    return 0


def _cmd_create_secret_key(_args) -> int:
    path = get_settings().secret_key_file
    if path.exists():
        print(f"A secret key already exists at {path}; not replacing it.", file=sys.stderr)
        return 1
    create_secret_key(path)
    print(f"Created {path} (mode 0600). Back it up: stored secrets cannot be read without it.")
    return 0


def _cmd_outbox(args) -> int:
    from panel_app.db import transaction
    from panel_app.models import OutboxMessage

    if not get_settings().is_demo:
        print("error: the outbox exists only in PANEL_ENV=demo.", file=sys.stderr)
        return 1
    with transaction() as db:
        query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(args.last)
        if args.to:
            query = query.where(OutboxMessage.recipient == args.to.strip().lower())
        rows = list(reversed(db.exec(query).all()))
    if args.json:
        print(json.dumps([{"id": r.id, "channel": r.channel, "to": r.recipient, "subject": r.subject,
                           "text": r.text, "created_at": r.created_at.isoformat()} for r in rows], indent=2))
    else:
        for r in rows:
            print(f"#{r.id} {r.created_at:%Y-%m-%d %H:%M:%S} [{r.channel}] to {r.recipient}")
            if r.subject:
                print(f"  Subject: {r.subject}")
            for line in r.text.splitlines():
                print(f"  {line}")
            print()
        if not rows:
            print("The outbox is empty.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m panel_app.cli", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="upgrade the database schema").set_defaults(func=_cmd_migrate)
    p = sub.add_parser("create-user", help="create an account with this user as owner")
    p.add_argument("--email", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--phone")
    p.add_argument("--name")
    p.add_argument("--language", default="", choices=["", *LANGUAGES])
    p.set_defaults(func=_cmd_create_user)
    p = sub.add_parser("create-staff", help="create a support agent (or --admin) and print a set-up link")
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--admin", action="store_true")
    p.set_defaults(func=_cmd_create_staff)
    sub.add_parser("seed-demo", help="create the demo data once").set_defaults(func=_cmd_seed_demo)
    sub.add_parser("remove-demo", help="delete demo accounts").set_defaults(func=_cmd_remove_demo)
    sub.add_parser("create-secret-key", help="create PANEL_SECRET_KEY_FILE").set_defaults(func=_cmd_create_secret_key)
    p = sub.add_parser("outbox", help="print the demo outbox")
    p.add_argument("--to")
    p.add_argument("--last", type=int, default=20)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_outbox)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
