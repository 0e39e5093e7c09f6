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
# Every user has these for themselves (their own factors, sessions and log entries).
SELF_AREAS = frozenset({Area.DASHBOARD, Area.HELP, Area.SECURITY, Area.ACTIVITY, Area.AUTH})

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
