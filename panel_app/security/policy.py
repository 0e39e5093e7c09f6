"""Every number of the security rules, in one place.

The modules that enforce a rule keep their old constant names as aliases of these values
(``codes.MAX_TRIES_PER_CODE`` is ``POLICY.code_tries``), so there is one source and no copy
that can drift. Texts that state a number take it from here too: the translation function
fills the placeholders of ``text_values`` (``{stepup_minutes}``, ``{code_digits}``, ...) in
every catalog text, so "valid for 10 minutes" follows ``PANEL_STEPUP_TTL_SECONDS``.

The numbers that come from the settings (``PANEL_*``) are properties read at call time,
never copied at import.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from panel_app.settings import get_settings


@dataclass(frozen=True)
class Backoff:
    """A failure schedule: ``free_failures`` without delay, then a delay that doubles from
    ``base_delay_seconds`` up to ``max_delay_seconds`` (``security/throttle.py`` enforces it)."""

    free_failures: int
    base_delay_seconds: int
    max_delay_seconds: int

    def delay_after(self, failures: int) -> int:
        """Seconds to wait after ``failures`` consecutive failures (0 = none)."""
        excess = failures - self.free_failures
        if excess < 0:
            return 0
        return min(self.base_delay_seconds * (2 ** min(excess, 40)), self.max_delay_seconds)


@dataclass(frozen=True)
class SecurityPolicy:
    # One-time codes by email or WhatsApp (security/codes.py).
    code_digits: int = 6
    code_valid_seconds: int = 10 * 60
    code_tries: int = 5  # tries per code; the fifth wrong one kills it
    code_resend_cooldown_seconds: int = 60
    code_sends_per_window: int = 5  # per user, channel and device budget
    code_send_window_seconds: int = 3600

    # Step-up guesses (services/stepup.py): the doubling schedule, and the fixed cap of
    # failures per window that unknown browsers (and app/recovery guesses) share.
    stepup_backoff: Backoff = Backoff(free_failures=5, base_delay_seconds=30, max_delay_seconds=3600)
    stepup_failures_per_window: int = 25
    stepup_window_seconds: int = 24 * 3600

    # Sign-in throttles (security/throttle.py, services/auth.py, security/staff.py).
    login_account_backoff: Backoff = Backoff(free_failures=5, base_delay_seconds=1, max_delay_seconds=15 * 60)
    login_ip_backoff: Backoff = Backoff(free_failures=20, base_delay_seconds=1, max_delay_seconds=15 * 60)
    # Passkey sign-in (api/passkey.py): options (a challenge row each) per client IP and
    # window; challenges live 2 minutes and are deleted once expired.
    passkey_options_per_ip: int = 60
    passkey_options_window_seconds: int = 5 * 60
    # Passkey options of one password reset, per window (services/password_reset.py).
    passkey_reset_options: int = 30
    passkey_reset_options_window_seconds: int = 3600
    # "At most once a minute" (e.g. one log line while a script hammers a lock).
    once_a_minute: Backoff = Backoff(free_failures=0, base_delay_seconds=60, max_delay_seconds=60)

    # Authenticator apps (security/totp.py): SHA1, this many digits, steps of this many
    # seconds, and this many steps accepted before and after the current one.
    totp_digits: int = 6
    totp_step_seconds: int = 30
    totp_valid_window: int = 1

    # Passwords (security/passwords.py).
    password_min_length: int = 10

    # Self-service password reset (services/password_reset.py); requests are per window.
    reset_link_valid_seconds: int = 30 * 60
    reset_requests_per_address_and_ip: int = 3
    reset_requests_per_address: int = 20  # from all IPs: who knows only the address must use many
    reset_requests_per_ip: int = 10
    reset_request_window_seconds: int = 3600

    # Team invitations (services/team.py).
    invitation_valid: timedelta = timedelta(days=7)

    # Known browsers (security/devices.py).
    device_lifetime_seconds: int = 400 * 24 * 3600  # browsers cap cookie lifetimes at 400 days
    devices_per_user: int = 20  # then no new one until the user removes one (never evicted)
    device_touch_every: timedelta = timedelta(minutes=10)

    # A revealed transfer auth code is wiped from the page after this long (state/dns.py).
    auth_code_visible_seconds: int = 60

    # Recovery codes (security/recovery.py).
    recovery_code_count: int = 10
    recovery_code_groups: int = 3
    recovery_code_group_length: int = 4

    # Support console (security/staff.py, services/staff_support.py).
    staff_setup_valid: timedelta = timedelta(hours=72)
    staff_session_absolute: timedelta = timedelta(hours=10)
    staff_grant_seconds: int = 10 * 60
    staff_stepup_backoff: Backoff = Backoff(free_failures=5, base_delay_seconds=30, max_delay_seconds=3600)
    # The identity checklist is a *screening* (what the caller says on the phone), not a proof:
    # every item is shown by the panel to a session verified by email alone (the customer
    # number on the dashboard, invoice numbers and totals under invoices, "•••• 4242" under
    # payment methods, the postal code in the profile), so whoever holds the password and
    # the mailbox can read them all. A passed screening lets the agent schedule a change
    # (waiting period, cancellable) and send a letter by post; the letter's code is the proof.
    evidence_items: tuple[str, ...] = ("customer_number", "invoice", "payment_last4", "postal_code")
    evidence_needed: int = 3
    evidence_valid: timedelta = timedelta(minutes=30)  # a passed check authorises a change for this long
    # Failed checks per ticket before it is closed to checks: the form must not become a way to
    # find the stored values by trying (an agent, or a caller talking an agent through it).
    evidence_failed_checks_per_ticket: int = 3
    evidence_failed_checks_per_agent_hour: int = 10
    four_eyes_request_valid: timedelta = timedelta(hours=24)  # an unapproved request lapses
    # Letters by post with a one-time code (services/postal_letters.py): the code has the
    # recovery codes' format (12 characters of 31, about 59 bits), is valid this long, single
    # use, and dies after this many tries; a used letter proves the identity on its ticket
    # (for a four-eyes app removal) for ``letter_proof_valid``.
    letter_valid: timedelta = timedelta(days=14)
    letter_tries: int = 5
    letter_proof_valid: timedelta = timedelta(days=14)

    # From the settings, read at call time.
    @property
    def stepup_ttl_seconds(self) -> int:
        return get_settings().stepup_ttl_seconds

    @property
    def session_idle_seconds(self) -> int:
        return get_settings().session_idle_seconds

    @property
    def session_absolute_seconds(self) -> int:
        return get_settings().session_absolute_seconds

    @property
    def factor_change_delay_seconds(self) -> int:
        return get_settings().factor_change_delay_seconds

    @property
    def staff_idle_seconds(self) -> int:
        return get_settings().staff_idle_seconds

    @property
    def recovery_code_length(self) -> int:
        return self.recovery_code_groups * self.recovery_code_group_length

    def text_values(self) -> dict[str, int]:
        """The numbers texts may state, by placeholder name (``{stepup_minutes}``)."""
        return {
            "stepup_minutes": max(1, round(self.stepup_ttl_seconds / 60)),
            "staff_grant_minutes": max(1, round(self.staff_grant_seconds / 60)),
            "code_digits": self.code_digits,
            "totp_digits": self.totp_digits,
            "code_minutes": max(1, round(self.code_valid_seconds / 60)),
            "recovery_code_length": self.recovery_code_length,
            "password_min_length": self.password_min_length,
            "reset_link_minutes": max(1, round(self.reset_link_valid_seconds / 60)),
            "invitation_days": self.invitation_valid.days,
            "evidence_needed": self.evidence_needed,
            "evidence_items": len(self.evidence_items),
            "evidence_minutes": round(self.evidence_valid.total_seconds() / 60),
            "four_eyes_hours": round(self.four_eyes_request_valid.total_seconds() / 3600),
            "letter_days": self.letter_valid.days,
            "letter_tries": self.letter_tries,
            "staff_setup_hours": round(self.staff_setup_valid.total_seconds() / 3600),
            "factor_change_hours": max(1, self.factor_change_delay_seconds // 3600),
        }


POLICY = SecurityPolicy()
