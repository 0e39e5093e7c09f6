"""Database tables (SQLModel). Never hand these rows to Reflex vars: every field
would be sent to the browser. States copy what they show into display records.

Times are naive UTC. Secrets are stored encrypted (``*_enc``), codes and
passwords only as hashes (``*_hash``).
"""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import BigInteger, Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from panel_app.clock import utcnow


class Account(SQLModel, table=True):
    """The contract holder (customer)."""

    id: int | None = Field(default=None, primary_key=True)
    customer_number: str = Field(unique=True, max_length=20)
    name: str = Field(max_length=200)
    company: str = Field(default="", max_length=200)
    street: str = Field(default="", max_length=200)
    postal_code: str = Field(default="", max_length=20)
    city: str = Field(default="", max_length=100)
    country: str = Field(default="DE", max_length=2)
    vat_id: str = Field(default="", max_length=20)
    is_demo: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)


class User(SQLModel, table=True):
    """A person who logs in: the account owner or a technical administrator."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    email: str = Field(unique=True, index=True, max_length=254)
    name: str = Field(default="", max_length=200)
    phone: str | None = Field(default=None, max_length=20)  # E.164
    password_hash: str = Field(max_length=255)
    role: str = Field(default="owner", max_length=10)  # owner | admin
    areas: str = Field(default="", max_length=200)  # comma-separated Area values (admins)
    preferred_channel: str = Field(default="email", max_length=10)  # a step-up method's name
    # The language the user chose ("de"); empty until then: the browser's language shows
    # (i18n.effective_language) and mails go out in English.
    language: str = Field(default="", max_length=5)
    stepup_failures: int = Field(default=0)
    stepup_locked_until: datetime | None = None
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    password_changed_at: datetime = Field(default_factory=utcnow)
    # When each contact factor last changed (None: since created_at).
    email_changed_at: datetime | None = None
    phone_changed_at: datetime | None = None
    # When a second factor (the app) was last removed: for the waiting period after, the
    # account counts as still having it (services/factor_rules.py), so that removing a new
    # factor never leaves a channel free to move itself at once.
    factor_removed_at: datetime | None = None
    # A scheduled contact change waits (services/factor_changes.py): the panel shows a banner.
    factor_change_pending: bool = Field(default=False)


class Authenticator(SQLModel, table=True):
    """A second factor with a secret of its own: one row per user and ``type`` (``totp``:
    the authenticator app, ``services/methods/authenticator.py``).

    ``secret_enc`` is the active secret, ``confirmed_at`` when it was proved with a first
    code (the set-up instant of the "settled factor" rules); ``pending_secret_enc`` is a
    new secret waiting for its first code (the active one stays in force until then).
    ``last_step`` is the newest TOTP time step accepted: claimed with one conditional
    UPDATE, so no step is ever accepted twice.
    """

    __table_args__ = (UniqueConstraint("user_id", "type", name="uq_authenticator_user_type"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    type: str = Field(max_length=20)
    secret_enc: str | None = Field(default=None, max_length=500)
    pending_secret_enc: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    confirmed_at: datetime | None = None
    last_step: int | None = None


class LoginSession(SQLModel, table=True):
    """A server-side login session. The browser holds the token; we hold its hash.

    The step-up grant lives here, so it is shared by every tab of the session.
    """

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime  # absolute lifetime
    revoked_at: datetime | None = None
    revoked_reason: str = Field(default="", max_length=40)
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=300)
    grant_verified_at: datetime | None = None
    grant_expires_at: datetime | None = None
    grant_method: str | None = Field(default=None, max_length=10)
    # When this session confirmed a newly set-up authenticator app (the instant of its
    # ``Authenticator.confirmed_at``): for a few minutes it may renew the recovery codes it
    # was just shown (``services/recovery_codes.py``). Never set for another session.
    app_confirmed_at: datetime | None = None
    # The known browser this session signed in from or was verified on (None: unknown).
    # Its guesses and code sends count against that browser's own budget.
    device_id: int | None = Field(default=None, index=True)


class FactorChange(SQLModel, table=True):
    """A new email address, mobile number (or password) that waits: set without the proof that
    would move it at once (``services/factor_rules.py``), or by support.

    It is scheduled, not done: it takes effect at ``effective_at``, is announced at once
    and again before then on every channel the account has, and a session verified with a
    settled factor it does not replace can cancel it. Until then the new value authorises
    nothing (it is not on the user).
    """

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    kind: str = Field(max_length=10)  # email | phone | password
    new_value_enc: str = Field(max_length=600)
    requested_at: datetime
    requested_by: str = Field(default="", max_length=200)
    # The support ticket it was scheduled from (a letter by post on that ticket completes it).
    ticket_id: int | None = None
    effective_at: datetime = Field(index=True)
    reminded_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancelled_by: str = Field(default="", max_length=200)
    applied_at: datetime | None = None


class OpenTab(SQLModel, table=True):
    """A browser tab (Reflex client token) bound to a login session.

    The server keeps each tab's state (in memory or Redis) after the tab is gone,
    and Reflex hands it to anyone presenting the token. These rows let the server
    find every tab of a session when its grant or the session itself ends, wipe
    what the tab holds and push the change to it, whether or not it is connected.
    ``due_at`` is the next instant the tab must be looked at (grant end, idle or
    absolute session end, or now when something changed).
    """

    id: int | None = Field(default=None, primary_key=True)
    client_token: str = Field(unique=True, index=True, max_length=64)
    login_session_id: int = Field(foreign_key="loginsession.id", index=True)
    holds_sensitive: bool = Field(default=False)
    shows_grant_until: datetime | None = None
    due_at: datetime = Field(index=True)
    created_at: datetime = Field(default_factory=utcnow)


class Throttle(SQLModel, table=True):
    """Failure counters with growing delays (login per account / per IP)."""

    key: str = Field(primary_key=True, max_length=300)
    failures: int = Field(default=0)
    last_failure_at: datetime | None = None
    locked_until: datetime | None = None


class VerificationCode(SQLModel, table=True):
    """A one-time code sent by email or WhatsApp, stored only as a keyed hash."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    session_id: int | None = Field(default=None, foreign_key="loginsession.id", index=True)
    purpose: str = Field(max_length=40)  # stepup | confirm_email | confirm_phone | ...
    channel: str = Field(max_length=10)  # email | whatsapp
    destination: str = Field(max_length=254)
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    attempts: int = Field(default=0)
    consumed_at: datetime | None = None
    replaced_at: datetime | None = None
    delivery_status: str = Field(default="queued", max_length=20)  # queued|sent|delivered|read|failed
    delivery_error: str = Field(default="", max_length=40)
    provider_message_id: str | None = Field(default=None, index=True, max_length=200)
    # The known browser that asked for it (None: an unknown one): the hourly send limit
    # is kept per known browser and once for all unknown ones.
    device_id: int | None = Field(default=None)


class RecoveryCode(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    used_at: datetime | None = None


class AuditEvent(SQLModel, table=True):
    """The activity log. Append-only: the panel offers no way to change or delete."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    actor_user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    actor_label: str = Field(default="", max_length=254)
    area: str = Field(max_length=20, index=True)
    action: str = Field(max_length=60)
    target: str = Field(default="", max_length=300)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class OutboxMessage(SQLModel, table=True):
    """Demo mode only: messages that would have been sent."""

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=10)
    recipient: str = Field(max_length=254, index=True)
    subject: str = Field(default="", max_length=300)
    text: str = Field(sa_column=Column(Text, nullable=False))
    html: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)
    # A letter by post arrives as its PDF (the only place its one-time code is written).
    attachment_name: str = Field(default="", max_length=100)
    attachment: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class DemoSetting(SQLModel, table=True):
    """Demo controls (fault injection, shortened TTL). Ignored outside demo mode."""

    key: str = Field(primary_key=True, max_length=60)
    value: str = Field(default="", max_length=200)


class KnownBrowser(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    fingerprint: str = Field(max_length=64)
    first_seen_at: datetime = Field(default_factory=utcnow)


class KnownDevice(SQLModel, table=True):
    """A browser that passed step-up: it holds a long-lived random HttpOnly cookie, the
    database its keyed hash. Sign-in and verification from it keep their own budgets,
    so someone guessing from an unknown device cannot lock the owner out of it."""

    # Ids are never reused (SQLite would reuse a deleted rowid): budgets are keyed by them.
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    user_agent: str = Field(default="", max_length=300)
    ip: str = Field(default="", max_length=64)  # last seen from
    first_used_at: datetime
    last_used_at: datetime


class PasswordReset(SQLModel, table=True):
    """A "forgot password" link: single use, 30 minutes, stored as a keyed hash. The new
    password is only set after a second factor that is not the mailbox."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    created_at: datetime
    expires_at: datetime
    ip: str = Field(default="", max_length=64)
    factor_method: str | None = Field(default=None, max_length=10)  # set once verified
    factor_verified_at: datetime | None = None
    used_at: datetime | None = None


class Invitation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    email: str = Field(max_length=254)
    name: str = Field(default="", max_length=200)
    areas: str = Field(default="", max_length=200)
    token_hash: str = Field(unique=True, max_length=64)
    created_by_user_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    accepted_at: datetime | None = None
    revoked_at: datetime | None = None


# --- hosting products -------------------------------------------------------


class Service(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    name: str = Field(max_length=200)
    plan: str = Field(max_length=100)
    status: str = Field(default="active", max_length=20)
    started_on: date
    renews_on: date
    price_cents: int = 0
    disk_used_mb: int = 0
    disk_quota_mb: int = 0
    traffic_used_gb: int = 0
    traffic_quota_gb: int = 0


class Domain(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    name: str = Field(unique=True, max_length=253)
    status: str = Field(default="active", max_length=20)
    registered_on: date
    expires_on: date
    auto_renew: bool = True
    transfer_lock: bool = True
    auth_code_enc: str = Field(default="", max_length=500)
    catch_all: str = Field(default="", max_length=254)
    # Bumped by the database itself (triggers of migration 0010) in the transaction of every
    # write of the domain's records or DNS changes, by the panel or by any other tool: the
    # key of the parsed-zone cache (services/dns_zone_cache.py) in every worker. A new
    # domain starts at a random number, so one that reuses a deleted domain's id never
    # meets the zone cached for it.
    zone_version: int = Field(default_factory=lambda: secrets.randbelow(2**52),
                              sa_column=Column(BigInteger, nullable=False, server_default="0"))


class DnsRecord(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    domain_id: int = Field(foreign_key="domain.id", index=True)
    name: str = Field(max_length=253)  # relative to the zone; "@" is the apex
    rtype: str = Field(max_length=10)
    ttl: int = 3600
    value: str = Field(sa_column=Column(Text, nullable=False))  # presentation format rdata


class DnsChange(SQLModel, table=True):
    """Zone snapshot taken before each change, so the last change can be undone."""

    id: int | None = Field(default=None, primary_key=True)
    domain_id: int = Field(foreign_key="domain.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    actor_user_id: int | None = Field(default=None, foreign_key="user.id")
    summary: str = Field(default="", max_length=300)
    snapshot: str = Field(sa_column=Column(Text, nullable=False))  # JSON of records before
    undone_at: datetime | None = None


class Mailbox(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("domain_id", "local_part"),)
    id: int | None = Field(default=None, primary_key=True)
    domain_id: int = Field(foreign_key="domain.id", index=True)
    local_part: str = Field(max_length=64)
    password_hash: str = Field(max_length=255)
    quota_mb: int = 1024
    used_mb: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class MailForwarder(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    domain_id: int = Field(foreign_key="domain.id", index=True)
    local_part: str = Field(max_length=64)
    destination: str = Field(max_length=254)


# --- billing ------------------------------------------------------------------


class Invoice(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    number: str = Field(unique=True, max_length=30)
    issue_date: date
    supply_date: date
    due_date: date
    status: str = Field(default="open", max_length=10)  # paid | open (overdue is derived)
    currency: str = Field(default="EUR", max_length=3)
    reverse_charge: bool = False
    # The buyer and the seller as the invoice was issued with them (JSON, ``services/billing.py``):
    # written once at issue and never changed, so an address edited later never reaches an
    # invoice already issued. "" only for a row made outside ``billing.issue_invoice``.
    buyer_snapshot: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    seller_snapshot: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class InvoiceLine(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    description: str = Field(max_length=300)
    quantity: int = 1
    unit_net_cents: int = 0
    vat_rate_percent: int = 19


class Document(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    title: str = Field(max_length=200)
    kind: str = Field(default="contract", max_length=20)
    issued_on: date
    body: str = Field(sa_column=Column(Text, nullable=False))


class PaymentMethod(SQLModel, table=True):
    """Only what can be shown masked plus an opaque token: never a full number."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    kind: str = Field(max_length=10)  # card | sepa
    brand: str = Field(default="", max_length=20)
    last4: str = Field(max_length=4)
    country: str = Field(default="", max_length=2)  # SEPA: IBAN country
    exp_month: int | None = None
    exp_year: int | None = None
    holder: str = Field(default="", max_length=200)
    token: str = Field(max_length=64)
    is_default: bool = False
    created_at: datetime = Field(default_factory=utcnow)


# --- support ------------------------------------------------------------------


class Ticket(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id")
    subject: str = Field(max_length=200)
    kind: str = Field(default="general", max_length=20)  # general|technical|billing|contact_update
    status: str = Field(default="open", max_length=10)  # open | answered | closed
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class TicketMessage(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    author_user_id: int | None = Field(default=None, foreign_key="user.id")
    author_label: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


# --- the provider's support staff (separate from customers: own table, cookie, pages) ---


class StaffUser(SQLModel, table=True):
    """A support agent (``staff``) or a support admin (``staff_admin``) of the provider.
    An authenticator app is mandatory (set up at the first sign-in)."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True, max_length=254)
    name: str = Field(max_length=200)
    role: str = Field(default="staff", max_length=12)  # staff | staff_admin
    password_hash: str | None = Field(default=None, max_length=255)  # None until set up
    setup_token_hash: str | None = Field(default=None, max_length=64, index=True)
    setup_expires_at: datetime | None = None
    totp_secret_enc: str | None = Field(default=None, max_length=500)
    totp_enabled_at: datetime | None = None
    totp_last_step: int | None = None
    totp_pending_secret_enc: str | None = Field(default=None, max_length=500)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)


class StaffSession(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staffuser.id", index=True)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    grant_expires_at: datetime | None = None
    grant_method: str | None = Field(default=None, max_length=12)  # totp | passkey (security/staff.py)
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=300)


class StaffAuditEvent(SQLModel, table=True):
    """Every staff action (append-only); staff admins read it."""

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int | None = Field(default=None, foreign_key="staffuser.id", index=True)
    staff_label: str = Field(default="", max_length=254)
    action: str = Field(max_length=60)
    account_id: int | None = Field(default=None, index=True)
    ticket_id: int | None = Field(default=None)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    ip: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class EvidenceCheck(SQLModel, table=True):
    """One identity check on a "contact details update" ticket: which items matched (the
    agent typed what the customer said; the stored values are never shown)."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    staff_id: int = Field(foreign_key="staffuser.id")
    matched: str = Field(default="", max_length=200)  # comma-separated item names
    passed: bool = Field(default=False)
    created_at: datetime


class StaffRequest(SQLModel, table=True):
    """An action that needs a second staff member (four-eyes): removing a customer's
    authenticator app. Requested by one, approved or rejected by a staff admin."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # remove_totp
    user_id: int = Field(foreign_key="user.id", index=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    reason: str = Field(default="", max_length=500)
    requested_by: int = Field(foreign_key="staffuser.id")
    requested_at: datetime
    decided_by: int | None = Field(default=None, foreign_key="staffuser.id")
    decided_at: datetime | None = None
    status: str = Field(default="pending", max_length=10)  # pending | approved | rejected
    # The app the request names (``services/staff_recovery.py``): its row and a keyed hash
    # of its active secret's ciphertext. A replaced app keeps its row, so the row alone
    # would not tell it apart; approval after a change of either is refused as stale.
    authenticator_id: int | None = None
    authenticator_fingerprint: str | None = Field(default=None, max_length=64)


class PostalLetter(SQLModel, table=True):
    """A letter by post to the address on file, holding a one-time code (``services/
    postal_letters.py``): the proof a stolen mailbox cannot give. Requested by an agent on a
    "contact details update" ticket; the code is stored only as a keyed hash, valid
    ``POLICY.letter_valid``, single use, ``POLICY.letter_tries`` tries. ``factor_change_id``:
    the support-made change a correct code completes at once (None: the letter only proves
    the identity on the ticket, e.g. for removing the customer's app)."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    factor_change_id: int | None = Field(default=None, foreign_key="factorchange.id")
    code_hash: str = Field(default="", max_length=64)
    requested_by: int = Field(foreign_key="staffuser.id")
    created_at: datetime
    expires_at: datetime
    attempts: int = Field(default=0)  # well-formed tries, counted before the comparison
    used_at: datetime | None = None
    delivery_reference: str = Field(default="", max_length=100)



class WebAuthnCredential(SQLModel, table=True):
    """A passkey or security key (``services/passkeys.py``) of a customer (``user_id``) or of a
    support agent (``staff_id``); exactly one of the two is set.

    ``credential_id`` is the authenticator's id (base64url); ``public_key`` the COSE key it
    signs with. ``sign_count`` is the newest counter seen (claimed with a conditional UPDATE;
    one that goes back means a cloned authenticator). ``synced``: a multi-device (synced)
    passkey rather than one bound to its device, from the authenticator data.
    """

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="staffuser.id", index=True)
    credential_id: str = Field(unique=True, index=True, max_length=1400)
    public_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sign_count: int = Field(default=0)
    transports: str = Field(default="", max_length=200)  # comma-separated hints for the browser
    aaguid: str = Field(default="", max_length=36)
    synced: bool = Field(default=False)
    backed_up: bool = Field(default=False)
    name: str = Field(max_length=60)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None


class WebAuthnChallenge(SQLModel, table=True):
    """A WebAuthn challenge: random, single use (``used_at``, claimed with a conditional
    UPDATE), 2 minutes, bound to its purpose and to a login session (``session_id``), a staff
    session (``staff_session_id``) or, before sign-in, a keyed hash of this browser's
    pre-login cookie or of the password reset (``binding_hash``)."""

    id: int | None = Field(default=None, primary_key=True)
    challenge: str = Field(unique=True, index=True, max_length=100)  # base64url
    purpose: str = Field(max_length=12)
    user_id: int | None = Field(default=None, index=True)
    staff_id: int | None = Field(default=None)
    session_id: int | None = Field(default=None)
    staff_session_id: int | None = Field(default=None)
    binding_hash: str | None = Field(default=None, max_length=64)
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
