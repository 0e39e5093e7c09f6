"""Why the verification gate is shown, and what it unlocks: for the gate's own words.

The gate comes back when a grant ran out or was ended (lock, contact change); a first
entry has no reason to state. The domain named in a page's URL is stated only when it is
a well-formed domain name, so a crafted link cannot put a sentence into the gate (and no
database lookup says whether the account holds it before the verification).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote

import idna

FIRST = "first"  # no grant in this login session yet
EXPIRED = "expired"  # the last grant ran out
ENDED = "ended"  # the last grant was ended early (locked, a contact or password change)

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAX_DOMAIN_CHARS = 253


@dataclass(frozen=True)
class GateReturn:
    kind: str
    minutes: int = 0  # how long the last grant lasted (for EXPIRED)


def why_gate(login_session, now: datetime) -> GateReturn:
    """Why this login session meets the gate at ``now`` (its grant is not valid)."""
    verified_at = login_session.grant_verified_at
    if verified_at is None:
        return GateReturn(FIRST)
    expires_at = login_session.grant_expires_at
    if expires_at is None:  # ended on purpose (security/sessions.end_grant)
        return GateReturn(ENDED)
    if expires_at > now and login_session.revoked_at is None:
        return GateReturn(FIRST)  # still valid: nothing came back
    seconds = max(0, int((expires_at - verified_at).total_seconds()))
    return GateReturn(EXPIRED, max(1, round(seconds / 60)))


def domain_in_path(path: object) -> str:
    """The domain of a ``/domains/<domain>`` URL path (also behind a prefix), in its
    readable form, or "" when the path names none or not a well-formed one."""
    if not isinstance(path, str) or len(path) > 1000:
        return ""
    parts = [p for p in path.split("?")[0].split("/") if p]
    if len(parts) < 2 or parts[-2] != "domains":
        return ""
    raw = unquote(parts[-1]).strip().rstrip(".")
    if not raw or len(raw) > MAX_DOMAIN_CHARS:
        return ""
    try:
        ascii_name = raw.lower() if raw.isascii() else idna.encode(raw, uts46=True).decode("ascii")
    except (UnicodeError, ValueError):
        return ""
    labels = ascii_name.split(".")
    if len(labels) < 2 or len(ascii_name) > MAX_DOMAIN_CHARS or not all(_LABEL.match(label) for label in labels):
        return ""
    try:
        return idna.decode(ascii_name)
    except (UnicodeError, ValueError):
        return ascii_name
