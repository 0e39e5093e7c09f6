"""The one rule for moving a factor: what a grant may change at once, what waits, and who may
cancel what waits. Every path that replaces or removes a factor asks here (the profile's email
and phone change, the app's replacement and removal, cancelling a waiting change).

Whoever holds the password and one channel a code is sent to (a mailbox, a WhatsApp account)
can verify with that channel as often as they like. So:

- A change that replaces or removes a factor takes effect **at once** only when it is proven
  by that factor itself (a code to the current address or number, or a grant obtained with it)
  and, when that factor is such a channel, also by another *settled* factor of the account (a
  grant through it, or a code to it) — unless the account has no other factor at all (one still
  new counts, and so does one removed within the waiting period). A device
  that holds its own secret (the authenticator app; a passkey later) proves itself: a stolen
  channel cannot produce it.
- Otherwise an address or number is **scheduled** (``factor_changes``: the waiting period,
  announced on every channel, a banner) and the app is **refused**; an app that has not settled
  yet may be removed by any verification, so whoever added one with a stolen mailbox can be
  thrown out by the owner.
- A waiting change is **cancelled** only by a grant from a settled factor that the change does
  not replace (or by support staff): a new email address cannot be cancelled by an email grant,
  nor a new number by a WhatsApp grant, nor by a factor added since.

A grant obtained through channel X therefore never moves X or any other factor at once while
the account has another factor. Adding a device the account does not have yet is not a move: it
is announced on every channel and counts for nothing until it has settled. Adding a channel
through a channel alone, while another factor guards the account, waits like a move (it would
settle into a factor the owner never had). Replacing a waiting change is cancelling it.

"Settled": set up at least the factor-change waiting period ago (``StepUpMethod.is_settled``).
No reflex import.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from panel_app.models import User
from panel_app.services import methods
from panel_app.settings import get_settings

# The factors a change names (``FactorChange.kind``, the profile's contact kinds, the app).
EMAIL, PHONE, APP, PASSKEY = "email", "phone", "totp", "passkey"
PASSWORD = "password"  # not a second factor: never "replaced" by a waiting change of a factor


class Decision(StrEnum):
    AT_ONCE = "at_once"
    SCHEDULE = "schedule"
    REFUSE = "refuse"


def factor_of(method_name: object) -> str | None:
    """The factor a grant obtained with ``method_name`` proves (a recovery code: the app)."""
    method = methods.get(method_name)
    return method.factor if method is not None else None


def _methods_of(factor: str) -> list[methods.StepUpMethod]:
    return [method for method in methods.registered() if method.factor == factor]


def is_channel(factor: str) -> bool:
    """A factor a code is sent to: holding the channel is holding the factor, for good."""
    return any(method.sends_code for method in _methods_of(factor))


def _all_factors() -> set[str]:
    return {method.factor for method in methods.registered()}


def has_factor(db: Session, user: User, factor: str) -> bool:
    return any(method.is_available(db, user) for method in _methods_of(factor))


def settled_factors(db: Session, user: User, now: datetime) -> set[str]:
    settle_seconds = get_settings().factor_change_delay_seconds
    return {method.factor for method in methods.registered()
            if method.is_settled(db, user, now, settle_seconds)}


def _recently_removed(user: User, now: datetime) -> bool:
    removed = user.factor_removed_at
    return removed is not None and (now - removed).total_seconds() < get_settings().factor_change_delay_seconds


def decide(db: Session, user: User, *, factor: str, grant_method: object, proven: frozenset[str] = frozenset(),
           removing: bool = False, now: datetime) -> Decision:
    """May a session verified with ``grant_method`` add, replace (or remove) ``factor`` at once?

    ``proven``: factors this change proved on top of the grant (a code to the current address
    or number). The caller acts on the answer; a change it schedules waits, one it refuses
    does not happen."""
    proofs = set(proven) | ({factor_of(grant_method)} - {None})
    settled = settled_factors(db, user, now)
    # Stricter than "another settled factor": a factor still new counts as one the owner may
    # hold, and so does one removed within the waiting period (it proves nothing, but its
    # removal must not leave a channel free to move itself).
    others = {other for other in _all_factors() if other != factor and has_factor(db, user, other)}
    recently_removed = _recently_removed(user, now)
    if not has_factor(db, user, factor):
        # An addition. A device (app, passkey) is new and settles later; any verification may
        # remove it meanwhile. A channel added through another channel alone would settle into
        # a factor the owner never had: it waits, unless a settled device vouches for it or the
        # account has nothing else.
        if not is_channel(factor) or any(p in settled and not is_channel(p) for p in proofs):
            return Decision.AT_ONCE
        return Decision.AT_ONCE if not others - proofs and not recently_removed else Decision.SCHEDULE
    if factor in proofs:
        if not is_channel(factor) or (proofs - {factor}) & settled or not (others or recently_removed):
            return Decision.AT_ONCE
        return Decision.SCHEDULE
    if removing and factor not in settled:
        return Decision.AT_ONCE
    return Decision.SCHEDULE if is_channel(factor) else Decision.REFUSE


def may_cancel(db: Session, user: User, *, kind: str, grant_method: object, now: datetime) -> bool:
    """May a session verified with ``grant_method`` cancel a waiting change of ``kind``?"""
    grant_factor = factor_of(grant_method)
    return grant_factor is not None and grant_factor != kind and grant_factor in settled_factors(db, user, now)


def cancelling_factors(db: Session, user: User, *, kind: str, now: datetime) -> list[str]:
    """The method names whose grant may cancel a waiting change of ``kind`` (for the advice)."""
    settled = settled_factors(db, user, now) - {kind}
    return [method.name for method in methods.registered() if method.factor in settled and not method.fallback]
