"""The interface every step-up verification method implements (after django-otp's
``Device``): whether a user has it, since when, sending a challenge, checking an answer.

What all methods share stays out of here, in ``services/stepup.py``: the try is
reserved in the guess budget before ``verify`` runs, and a success opens the grant.
A method only answers for its own factor. No reflex import.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from sqlmodel import Session

from panel_app.models import User
from panel_app.security import codes

NAME_MAX_LENGTH = 10  # LoginSession.grant_method, User.preferred_channel


class InputKind(StrEnum):
    """What the code field expects."""

    DIGITS = "digits"  # a six-digit code: numeric keyboard
    TEXT = "text"  # a longer code typed as text (a recovery code)
    PASSKEY = "passkey"  # no code: the browser's passkey prompt answers


@dataclass(frozen=True)
class CodeScope:
    """Where a sent code belongs: the step-up of a login session, or a password reset
    (no session, its own purpose)."""

    session_id: int | None
    purpose: str


@dataclass(frozen=True)
class MethodCheck:
    """The outcome of comparing an answer. ``reason`` goes to the audit log, ``error_key``
    to the screen."""

    ok: bool
    reason: str | None = None
    error_key: str | None = None
    tries_left: int | None = None  # a sent code after a wrong try
    used_recovery_code: bool = False  # the user is told on every channel
    recovery_codes_left: int | None = None
    cloned: bool = False  # a passkey's counter went back: the user is told on every channel
    credential_name: str | None = None  # the passkey that answered (audit)


class StepUpMethod:
    """One verification method. Instances are stateless; register one in ``methods``.

    The guess bound of ``services/stepup.py`` holds for a method only if one guess hits
    with probability at most 3 in 1,000,000, and ``verify`` claims what it accepts
    atomically (a conditional UPDATE), so one answer never opens two grants.
    """

    name: ClassVar[str]  # stored as the grant's method and the preferred channel
    label_key: ClassVar[str]  # i18n key of its name on the gate and the Security page
    input_kind: ClassVar[InputKind] = InputKind.DIGITS
    # What the gate says while the method is chosen; None for methods that send a code
    # (the gate shows the send controls instead).
    hint_key: ClassVar[str | None] = None
    order: ClassVar[int] = 100  # position on the gate, lowest first
    # A fallback (recovery codes) is not one of the choices: the gate offers it as a link
    # (``link_key``), and it is never the preferred method.
    fallback: ClassVar[bool] = False
    link_key: ClassVar[str | None] = None
    sends_code: ClassVar[bool] = False
    # Its guesses also count in the user's cap across all browsers: a factor that whoever
    # holds the mailbox (who can make any browser known) must not win by trying.
    capped_per_user: ClassVar[bool] = True
    # It may be the second factor of a password reset, whose link proved the mailbox;
    # its name on the reset page (None: ``label_key``).
    proves_password_reset: ClassVar[bool] = False
    reset_label_key: ClassVar[str | None] = None
    # The factor a grant through this method proves, when it is not the method's own name
    # (a recovery code proves the app; a WhatsApp code the mobile number, kind "phone"):
    # the rules of ``services/factor_rules.py`` speak of factors, not methods.
    proves_factor: ClassVar[str | None] = None

    @property
    def factor(self) -> str:
        return self.proves_factor or self.name

    def is_available(self, db: Session, user: User) -> bool:
        raise NotImplementedError

    def set_up_at(self, db: Session, user: User) -> datetime | None:
        """When the factor was set up or last changed; None: since before anything was
        tracked (counts as settled)."""
        return None

    def is_settled(self, db: Session, user: User, now: datetime, settle_seconds: int) -> bool:
        """Available, and set up at least ``settle_seconds`` ago: whoever holds the mailbox
        can add a factor with an email code, so a new one must not yet outrank the others."""
        if not self.is_available(db, user):
            return False
        set_up = self.set_up_at(db, user)
        return set_up is None or (now - set_up).total_seconds() >= settle_seconds

    def destination(self, user: User) -> str | None:
        """Where a code goes (methods that send one)."""
        return None

    def challenge(self, db: Session, *, user: User, scope: CodeScope, now: datetime,
                  device_id: int | None) -> codes.IssueOutcome | None:
        """Send what the user answers (a code; the caller hands it to delivery), or None
        when the user already has it (an app, a recovery code)."""
        return None

    def normalize(self, submitted: object) -> tuple[str | None, str | None]:
        """``(value, None)`` or ``(None, error_key)``: malformed input is never compared."""
        value, reason = codes.normalize_digits(submitted)
        return (value, None) if value is not None else (None, codes.error_key_for(reason))

    def nothing_to_compare(self, db: Session, *, user: User, scope: CodeScope,
                           now: datetime) -> MethodCheck | None:
        """A failure known without comparing anything (no live code), which spends no try."""
        return None

    def verify(self, db: Session, *, user: User, scope: CodeScope, value: str, now: datetime) -> MethodCheck:
        """Compare a normalized answer; the try has already been counted."""
        raise NotImplementedError
