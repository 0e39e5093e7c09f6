"""Email over SMTP (aiosmtplib).

``PANEL_SMTP_URL`` forms:

- ``smtp://user:pass@host:587``: STARTTLS. Required on port 587 and whenever
  credentials are given (a password never travels in clear text); on other ports
  without credentials (e.g. a local relay on 25) STARTTLS is used when offered.
- ``smtps://user:pass@host:465``: implicit TLS from the first byte.
- ``smtp+insecure://127.0.0.1:1025``: no TLS at all, for a local test server
  (aiosmtpd, MailHog, Mailpit). Allowed for any host in demo mode; in production
  only for a loopback address.

User and password may be percent-encoded (``%40`` for ``@``). Certificates are
verified against the system CA store. Neither the code nor the body is ever logged.
"""

from __future__ import annotations

import ipaddress
import logging
import ssl
from dataclasses import dataclass, field
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from urllib.parse import unquote, urlsplit

import aiosmtplib

from panel_app.delivery.base import (
    CHANNEL_EMAIL,
    ERROR_NOT_CONFIGURED,
    SMTP_AUTH,
    SMTP_REFUSED,
    SMTP_TEMPORARY,
    SMTP_TLS,
    SMTP_UNREACHABLE,
    DeliveryResult,
    mask_destination,
)
from panel_app.settings import Settings

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 10.0
TRANSPORT = "smtp"


class SmtpUrlError(ValueError):
    """PANEL_SMTP_URL cannot be used; the message says why (never contains the password)."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    use_tls: bool = False  # implicit TLS (smtps)
    start_tls: bool | None = None  # True: required, None: when offered, False: never


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_smtp_url(url: str, *, is_demo: bool = True) -> SmtpConfig:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise SmtpUrlError("PANEL_SMTP_URL is not a valid URL (check the port number).") from exc
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if not host:
        raise SmtpUrlError("PANEL_SMTP_URL needs a host, e.g. smtp://user:pass@mail.example.com:587.")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    if scheme == "smtps":
        return SmtpConfig(host, port or 465, username, password, use_tls=True, start_tls=False)
    if scheme == "smtp":
        port = port or 587
        if port == 465:  # the submission port with implicit TLS, whatever the scheme says
            return SmtpConfig(host, port, username, password, use_tls=True, start_tls=False)
        require_tls = port == 587 or username is not None
        return SmtpConfig(host, port, username, password, use_tls=False,
                          start_tls=True if require_tls else None)
    if scheme == "smtp+insecure":
        if not is_demo and not _is_loopback(host):
            raise SmtpUrlError(
                "smtp+insecure:// sends mail without encryption and is allowed in production only "
                "for a loopback address; use smtp:// (STARTTLS) or smtps:// instead."
            )
        return SmtpConfig(host, port or 25, username, password, use_tls=False, start_tls=False)
    raise SmtpUrlError("PANEL_SMTP_URL must start with smtp://, smtps:// or smtp+insecure://.")


def build_message(
    *, mail_from: str, to: str, subject: str, text: str, html: str | None, language: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    sender_address = parseaddr(mail_from)[1]
    domain = sender_address.rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    # after the body: setting content clears every Content-* header
    message["Content-Language"] = language
    return message


def _error_code_for(exc: BaseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return SMTP_AUTH
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [refusal.code for refusal in exc.recipients]
        return SMTP_REFUSED if any(code >= 500 for code in codes) else SMTP_TEMPORARY
    if isinstance(exc, aiosmtplib.SMTPConnectResponseError):
        return SMTP_UNREACHABLE
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return SMTP_REFUSED if exc.code >= 500 else SMTP_TEMPORARY
    if isinstance(exc, (aiosmtplib.SMTPTimeoutError, aiosmtplib.SMTPConnectError,
                        aiosmtplib.SMTPServerDisconnected, TimeoutError)):
        return SMTP_UNREACHABLE
    if isinstance(exc, ssl.SSLError) or "STARTTLS" in str(exc):
        return SMTP_TLS
    return SMTP_UNREACHABLE


async def send_email(
    settings: Settings, *, to: str, subject: str, text: str, html: str | None, language: str
) -> DeliveryResult:
    """Send one message; every failure becomes a ``failed`` result, never an exception."""
    try:
        config = parse_smtp_url(settings.smtp_url or "", is_demo=settings.is_demo)
    except SmtpUrlError as exc:
        log.error("email not sent: %s", exc)
        return DeliveryResult.failed(CHANNEL_EMAIL, ERROR_NOT_CONFIGURED, TRANSPORT)
    try:
        Address(addr_spec=to)  # refuses header injection and malformed addresses early
        message = build_message(
            mail_from=settings.mail_from, to=to, subject=subject, text=text, html=html, language=language
        )
    except (ValueError, TypeError, IndexError, MessageError):
        log.warning("email not sent: invalid recipient address %s",
                    mask_destination(CHANNEL_EMAIL, to, for_log=True))
        return DeliveryResult.failed(CHANNEL_EMAIL, SMTP_REFUSED, TRANSPORT)
    try:
        await aiosmtplib.send(
            message,
            hostname=config.host,
            port=config.port,
            username=config.username,
            password=config.password,
            use_tls=config.use_tls,
            start_tls=config.start_tls,
            timeout=SMTP_TIMEOUT_SECONDS,
            validate_certs=True,
        )
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        error_code = _error_code_for(exc)
        # The exception text may quote the server's reply, never our message body.
        log.warning("email to %s not sent (%s): %s", mask_destination(CHANNEL_EMAIL, to, for_log=True),
                    error_code, type(exc).__name__)
        return DeliveryResult.failed(CHANNEL_EMAIL, error_code, TRANSPORT)
    return DeliveryResult.sent(str(message["Message-ID"]), TRANSPORT)
