"""What every channel speaks: the message to deliver, the result, and the error catalogue.

A result never carries the code. ``error_code`` is a short machine string (Meta's
numeric code such as ``"131026"``, or ``"smtp_refused"``); ``error_key`` is the i18n
key of a sentence for the user that says what happened and the way out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import phonenumbers

from panel_app.i18n import normalize_language
from panel_app.security.policy import POLICY

CHANNEL_EMAIL = "email"
CHANNEL_WHATSAPP = "whatsapp"
CHANNELS = (CHANNEL_EMAIL, CHANNEL_WHATSAPP)

STATUS_QUEUED = "queued"
STATUS_SENT = "sent"
STATUS_DELIVERED = "delivered"
STATUS_READ = "read"
STATUS_FAILED = "failed"

# How far a message has come. A status only ever moves up this ladder, because provider
# callbacks arrive out of order. "failed" outranks "sent" (a message accepted by the
# provider may fail later) but not "delivered"/"read": once the phone has the message,
# a late failure report (e.g. for a second device) does not take it away from the user.
STATUS_RANK = {
    STATUS_QUEUED: 0,
    STATUS_SENT: 1,
    STATUS_FAILED: 2,
    STATUS_DELIVERED: 3,
    STATUS_READ: 4,
}

# --- error codes -------------------------------------------------------------------------

# Ours (no provider involved).
ERROR_NOT_CONFIGURED = "not_configured"
ERROR_TIMEOUT = "timeout"
ERROR_UNREACHABLE = "unreachable"
ERROR_BAD_RESPONSE = "bad_response"

# SMTP.
SMTP_REFUSED = "smtp_refused"          # permanent 5xx: recipient/sender/data refused
SMTP_TEMPORARY = "smtp_temporary"      # 4xx: try again later
SMTP_UNREACHABLE = "smtp_unreachable"  # connect failed, timed out, connection dropped
SMTP_AUTH = "smtp_auth"                # our credentials were refused
SMTP_TLS = "smtp_tls"                  # TLS required but not offered / handshake failed

# WhatsApp Cloud API (Graph API error codes).
WA_UNDELIVERABLE = "131026"      # message undeliverable (not on WhatsApp, old app, blocked)
WA_INVALID_PARAMETER = "100"     # invalid parameter
WA_TEMPLATE_MISSING = "132001"   # template does not exist (in that language) or not approved
WA_RATE_LIMIT = "130429"         # Cloud API throughput reached
WA_PAIR_RATE_LIMIT = "131056"    # too many messages from us to this number
WA_TOKEN_INVALID = "190"         # OAuthException: access token expired or invalid
WA_AUTH_EXCEPTION = "0"          # AuthException: could not authenticate the app user

_ERROR_KEYS: dict[str, dict[str, str]] = {
    CHANNEL_EMAIL: {
        ERROR_NOT_CONFIGURED: "delivery.error.email_not_configured",
        SMTP_REFUSED: "delivery.error.email_refused",
        SMTP_TEMPORARY: "delivery.error.email_temporary",
        SMTP_UNREACHABLE: "delivery.error.email_unreachable",
        SMTP_AUTH: "delivery.error.email_unreachable",
        SMTP_TLS: "delivery.error.email_unreachable",
        ERROR_TIMEOUT: "delivery.error.email_unreachable",
        ERROR_UNREACHABLE: "delivery.error.email_unreachable",
    },
    CHANNEL_WHATSAPP: {
        ERROR_NOT_CONFIGURED: "delivery.error.whatsapp_not_configured",
        WA_UNDELIVERABLE: "delivery.error.whatsapp_undeliverable",
        WA_INVALID_PARAMETER: "delivery.error.whatsapp_rejected",
        WA_TEMPLATE_MISSING: "delivery.error.whatsapp_setup",
        WA_RATE_LIMIT: "delivery.error.whatsapp_busy",
        WA_PAIR_RATE_LIMIT: "delivery.error.whatsapp_too_many_to_number",
        WA_TOKEN_INVALID: "delivery.error.whatsapp_setup",
        WA_AUTH_EXCEPTION: "delivery.error.whatsapp_setup",
        ERROR_TIMEOUT: "delivery.error.whatsapp_unavailable",
        ERROR_UNREACHABLE: "delivery.error.whatsapp_unavailable",
        ERROR_BAD_RESPONSE: "delivery.error.whatsapp_unavailable",
    },
}
_FALLBACK_KEYS = {
    CHANNEL_EMAIL: "delivery.error.email_unreachable",
    CHANNEL_WHATSAPP: "delivery.error.whatsapp_failed",
}


def error_key_for(channel: str, error_code: str) -> str:
    """The user-facing sentence for a failure on ``channel`` (also for webhook errors)."""
    keys = _ERROR_KEYS.get(channel, _ERROR_KEYS[CHANNEL_EMAIL])
    if error_code in keys:
        return keys[error_code]
    if channel == CHANNEL_WHATSAPP and error_code.startswith("http_5"):
        return "delivery.error.whatsapp_unavailable"
    return _FALLBACK_KEYS.get(channel, "delivery.error.email_unreachable")


@dataclass(frozen=True)
class CodeMessage:
    """A one-time code to deliver. ``repr`` hides the code so it never lands in a log."""

    channel: str  # "email" | "whatsapp"
    destination: str  # email address or E.164 phone number
    code: str = field(repr=False)
    language: str = "en"  # "en" | "de"
    purpose: str = "stepup"
    code_id: int | None = None
    # How long the code is valid, for the text (the policy's number unless told otherwise).
    valid_minutes: int = field(default_factory=lambda: POLICY.text_values()["code_minutes"])

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown delivery channel {self.channel!r}")
        object.__setattr__(self, "language", normalize_language(self.language))


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    status: str  # "sent" | "failed"
    error_code: str = ""
    error_key: str = ""
    provider_message_id: str | None = None
    suggest_other_channel: bool = False
    transport: str = ""  # "smtp" | "cloud" | "outbox" | "" (nothing was attempted)

    @classmethod
    def sent(cls, provider_message_id: str | None, transport: str) -> DeliveryResult:
        return cls(ok=True, status=STATUS_SENT, provider_message_id=provider_message_id, transport=transport)

    @classmethod
    def failed(cls, channel: str, error_code: str, transport: str = "") -> DeliveryResult:
        # Every failure has a way out on the other channel (or another method); the
        # state layer decides whether the user actually has one.
        return cls(
            ok=False,
            status=STATUS_FAILED,
            error_code=error_code,
            error_key=error_key_for(channel, error_code),
            suggest_other_channel=True,
            transport=transport,
        )


# --- masked addresses and numbers ---------------------------------------------------------

BULLETS = "•••"


def mask_email(value: str) -> str:
    """``j•••@example.com``: first character, bullets, the domain."""
    local, _, domain = (value or "").rpartition("@")
    if not local:
        return f"{BULLETS}@{domain}" if domain else BULLETS
    return f"{local[0]}{BULLETS}@{domain}"


def mask_phone(value: str) -> str:
    """``+49 ••• ••• 12``: country code, bullets, the last two digits."""
    digits = "".join(c for c in (value or "") if c.isascii() and c.isdigit())
    last_two = digits[-2:] if len(digits) >= 2 else ""
    try:
        country = f"+{phonenumbers.parse(value, None).country_code} "
    except phonenumbers.NumberParseException:
        country = ""
    return f"{country}{BULLETS} {BULLETS} {last_two}".rstrip()


def mask_destination(channel: str, value: str, *, for_log: bool = False) -> str:
    """Enough of an address or number to recognise it, not enough to read it.

    For people (screens, mails, the activity log): ``j•••@example.com`` or
    ``+49 ••• ••• 12``, by ``channel``. ``for_log=True``, for log lines: plain ASCII,
    ``j***@example.com`` or ``+49***12``, its shape taken from the value itself, so a
    malformed one (a recipient that failed validation) is never written out whole.
    """
    if for_log:
        if "@" in value:
            local, _, domain = value.partition("@")
            return f"{local[:1]}***@{domain}"
        return f"{value[:3]}***{value[-2:]}" if len(value) > 5 else "***"
    if channel == CHANNEL_EMAIL:
        return mask_email(value)
    if channel == CHANNEL_WHATSAPP:
        return mask_phone(value)
    raise ValueError(f"no destination for channel {channel!r}")
