"""Security notifications by email, in the user's language.

Sent after the change has committed, in the background: a slow mail server never
delays the user, and a failed notice never undoes a change (it is logged).
"""

from __future__ import annotations

import asyncio
from functools import partial
import logging

from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.i18n import formatting as fmt
from panel_app.i18n import normalize_language, t
from panel_app.models import User
from panel_app.services.user_agents import describe_user_agent

log = logging.getLogger(__name__)

KINDS = (
    "new_sign_in", "totp_added", "totp_removed", "recovery_code_used", "contact_changed",
    "auth_code_revealed", "admin_added", "admin_removed", "verification_failures",
    "contact_change_scheduled", "contact_change_reminder", "contact_change_cancelled", "contact_change_applied",
    "password_changed", "password_suspected", "password_reset_done", "password_reset_scheduled",
    "password_reset_applied", "device_remembered", "support_answered", "contact_change_confirmed",
    "passkey_added", "passkey_removed", "passkey_cloned",
)


def render(kind: str, language: str, **params: object) -> tuple[str, str]:
    if kind not in KINDS:
        raise ValueError(f"unknown notification {kind!r}")
    params.setdefault("when", fmt.moment(utcnow(), language))
    # A value may depend on the reader's language (a browser's description): a function of it.
    params = {name: value(language) if callable(value) else value for name, value in params.items()}
    subject = t(f"notice.{kind}.subject", language, **params)
    body = t(f"notice.{kind}.body", language, **params) + "\n\n" + t("notice.footer", language)
    return subject, body


def _recipient(user_id: int) -> tuple[str, str] | None:
    with transaction() as db:
        user = db.get(User, user_id)
        return (user.email, normalize_language(user.language)) if user is not None else None


async def notify_user(user_id: int, kind: str, *, to: str | None = None, **params: object) -> bool:
    """Email ``kind`` to the user (or to ``to``, e.g. an old address). True when sent."""
    from panel_app.delivery import send_email_notice

    recipient = await asyncio.to_thread(_recipient, user_id)
    if recipient is None:
        return False
    email, language = recipient
    subject, body = render(kind, language, **params)
    result = await send_email_notice(to or email, language, subject, body)
    if not result.ok:
        log.warning("security notice %s to user %s not delivered: %s", kind, user_id, result.error_code)
    return result.ok


async def notify_new_sign_in(user_id: int, *, ip: str, user_agent: str) -> bool:
    return await notify_user(user_id, "new_sign_in", browser=partial(describe_user_agent, user_agent),
                             ip=ip or "?")


def _channels(user_id: int) -> tuple[str, str | None, str] | None:
    with transaction() as db:
        user = db.get(User, user_id)
        return (user.email, user.phone, normalize_language(user.language)) if user is not None else None


async def notify_everywhere(user_id: int, kind: str, *, also_email: str | None = None,
                            also_phone: str | None = None, **params: object) -> int:
    """A notice on every channel the account has: its email address and, by WhatsApp, its
    mobile number (plus an old address or number the change just replaced). Returns how
    many went out."""
    from panel_app.delivery import send_email_notice, send_whatsapp_notice

    channels = await asyncio.to_thread(_channels, user_id)
    if channels is None:
        return 0
    email, phone, language = channels
    subject, body = render(kind, language, **params)
    sent = 0
    for address in dict.fromkeys(a for a in (also_email, email) if a):
        sent += (await send_email_notice(address, language, subject, body)).ok
    for number in dict.fromkeys(n for n in (also_phone, phone) if n):
        sent += (await send_whatsapp_notice(number, language, f"{subject}\n\n{body}")).ok
    if not sent:
        log.warning("security notice %s to user %s reached no channel", kind, user_id)
    return sent


def _reset_recipient(user_id: int) -> tuple[str, str, list[str]] | None:
    """Address, language and the second factors the reset page will offer (settled ones)."""
    from panel_app.services.password_reset import methods_for

    with transaction() as db:
        user = db.get(User, user_id)
        return (user.email, user.language, methods_for(db, user, utcnow())) if user is not None else None


def reset_second_factor_text(methods: list[str], language: str) -> str:
    """The reset mail's line on the second factor: exactly the account's methods (as the
    reset page will offer them), or that the new password will have to wait."""
    if not methods:
        return t("notice.password_reset_link.no_second_factor", language)
    names = [t(f"notice.password_reset_link.method.{name}", language) for name in methods]
    listed = names[0] if len(names) == 1 else (
        ", ".join(names[:-1]) + " " + t("notice.password_reset_link.or", language) + " " + names[-1])
    return t("notice.password_reset_link.confirm_with", language, methods=listed)


async def send_reset_link(user_id: int, token: str) -> bool:
    """The "forgot password" link, to the account's address only (the one it proves)."""
    from panel_app.delivery import send_email_notice
    from panel_app.services.password_reset import LINK_VALID_SECONDS
    from panel_app.settings import get_settings

    recipient = await asyncio.to_thread(_reset_recipient, user_id)
    if recipient is None:
        return False
    email, language, methods = recipient
    link = f"{get_settings().public_url}/reset?token={token}"
    subject = t("notice.password_reset_link.subject", language)
    body = t("notice.password_reset_link.body", language, link=link, minutes=LINK_VALID_SECONDS // 60,
             second_factor=reset_second_factor_text(methods, language))
    result = await send_email_notice(email, language, subject, body)
    if not result.ok:
        log.warning("password reset link to user %s not delivered: %s", user_id, result.error_code)
    return result.ok
