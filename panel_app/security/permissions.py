"""Areas of the panel and who may enter them."""

from __future__ import annotations

import enum


class Area(str, enum.Enum):
    DASHBOARD = "dashboard"
    SERVICES = "services"
    SUPPORT = "support"
    HELP = "help"
    DOMAINS = "domains"
    PROFILE = "profile"
    INVOICES = "invoices"
    PAYMENTS = "payments"
    EMAIL = "email"
    SECURITY = "security"
    TEAM = "team"
    ACTIVITY = "activity"
    AUTH = "auth"  # login, sessions, verification: audit-only area


# Areas that need a fresh second factor (step-up grant).
SENSITIVE_AREAS = frozenset(
    {Area.PROFILE, Area.INVOICES, Area.PAYMENTS, Area.DOMAINS, Area.EMAIL, Area.SECURITY,
     Area.TEAM, Area.ACTIVITY}
)
# What an owner may hand to a technical administrator.
GRANTABLE_AREAS = (Area.DOMAINS, Area.EMAIL, Area.SERVICES, Area.SUPPORT, Area.INVOICES)
# Every user may open these for their own person: their contact details (/profile), factors,
# sessions and known browsers (/security), their own log entries (/activity) and their own
# support tickets (/support). What belongs to the account in them (the contract data on
# /profile, every other user's tickets) needs ``acts_for_account``.
SELF_AREAS = frozenset({Area.DASHBOARD, Area.HELP, Area.PROFILE, Area.SECURITY, Area.ACTIVITY, Area.SUPPORT,
                        Area.AUTH})

ROLE_OWNER = "owner"
ROLE_ADMIN = "admin"


def parse_areas(raw: str) -> frozenset[Area]:
    granted = set()
    for part in (raw or "").split(","):
        part = part.strip()
        if part in {a.value for a in GRANTABLE_AREAS}:
            granted.add(Area(part))
    return frozenset(granted)


def format_areas(areas) -> str:
    values = {Area(a).value for a in areas}
    return ",".join(a.value for a in GRANTABLE_AREAS if a.value in values)


def allowed_areas(role: str, areas_raw: str) -> frozenset[Area]:
    if role == ROLE_OWNER:
        return frozenset(Area)
    if role == ROLE_ADMIN:
        return SELF_AREAS | parse_areas(areas_raw)
    return frozenset()


def may_enter(role: str, areas_raw: str, area: Area) -> bool:
    return area in allowed_areas(role, areas_raw)


def acts_for_account(role: str, areas_raw: str, area: Area) -> bool:
    """Whether the user sees and changes the *account's* side of ``area``, beyond their own
    person: the owner everywhere; a technical administrator only in an area the owner granted
    (so never the contract data on /profile, which no grant covers; every ticket of the
    account only with the support area)."""
    if role == ROLE_OWNER:
        return True
    if role == ROLE_ADMIN:
        return area in parse_areas(areas_raw)
    return False
