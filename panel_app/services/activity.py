"""Reading the activity log: filters, pages and a CSV export.

The log is append-only: this module only reads. The owner sees every entry of the
account; a technical administrator sees only what they did themselves. That scope
is applied here, in the query, for every caller, so no filter can widen it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, false
from sqlmodel import Session, func, select

from panel_app.i18n import CATALOGS, normalize_language, t
from panel_app.models import AuditEvent, User
from panel_app.security.permissions import ROLE_ADMIN, ROLE_OWNER, Area
from panel_app.services.user_agents import describe_user_agent
from panel_app.services.validation import ValidationError

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
EXPORT_MAX_ROWS = 20_000  # the file travels to the browser as a data URL
ACTOR_ALL = "all"
ACTOR_SYSTEM = "system"
AREA_ALL = "all"
# A spreadsheet treats a cell starting with one of these as a formula (CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_AREA_VALUES = frozenset(a.value for a in Area)


@dataclass(frozen=True)
class ActivityFilters:
    actor_user_id: int | None = None  # one person's entries
    actor_system: bool = False  # entries made by support staff or the system (no user)
    area: str = ""  # an Area value, "" for all
    date_from: date | None = None  # inclusive, UTC
    date_to: date | None = None  # inclusive, UTC


@dataclass(frozen=True)
class ActivityRow:
    id: int
    created_at: datetime
    actor_user_id: int | None
    actor_label: str
    actor_role: str  # owner | admin | "" (support or system)
    area: str
    action: str
    target: str
    ip: str
    browser: str
    detail: str


EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2999, 12, 31)


def _parse_date(value: object, field: str) -> date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _DATE_RE.match(value):
        raise ValidationError(field, "activity.error.date_invalid")
    try:
        parsed = date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError(field, "activity.error.date_invalid") from exc
    # The log starts in this century; a far-off date (9999-12-31, whose next day does not
    # exist) is a typing error, not a filter.
    if not EARLIEST_DATE <= parsed <= LATEST_DATE:
        raise ValidationError(field, "activity.error.date_invalid")
    return parsed


def parse_filters(raw: object) -> ActivityFilters:
    """Filters from a form (``actor``, ``area``, ``from``, ``to``); raises ``ValidationError``."""
    if not isinstance(raw, dict):
        raise ValidationError("filters", "validation.invalid")
    actor = raw.get("actor") or ACTOR_ALL
    actor_user_id, actor_system = None, False
    if not isinstance(actor, str) or len(actor) > 12:
        raise ValidationError("actor", "validation.invalid")
    if actor == ACTOR_SYSTEM:
        actor_system = True
    elif actor != ACTOR_ALL:
        if not (actor.isascii() and actor.isdigit()):
            raise ValidationError("actor", "validation.invalid")
        actor_user_id = int(actor)
    area = raw.get("area") or AREA_ALL
    if not isinstance(area, str) or (area != AREA_ALL and area not in _AREA_VALUES):
        raise ValidationError("area", "validation.invalid")
    date_from = _parse_date(raw.get("from"), "from")
    date_to = _parse_date(raw.get("to"), "to")
    if date_from and date_to and date_from > date_to:
        raise ValidationError("to", "activity.error.range")
    return ActivityFilters(actor_user_id=actor_user_id, actor_system=actor_system,
                           area="" if area == AREA_ALL else area, date_from=date_from, date_to=date_to)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _conditions(viewer: User, filters: ActivityFilters) -> list:
    conditions = [AuditEvent.account_id == viewer.account_id]
    if viewer.role == ROLE_OWNER:
        pass
    elif viewer.role == ROLE_ADMIN:
        conditions.append(AuditEvent.actor_user_id == viewer.id)
    else:  # an unknown role sees nothing
        conditions.append(false())
    if filters.actor_system:
        conditions.append(AuditEvent.actor_user_id.is_(None))
    elif filters.actor_user_id is not None:
        conditions.append(AuditEvent.actor_user_id == filters.actor_user_id)
    if filters.area:
        conditions.append(AuditEvent.area == filters.area)
    if filters.date_from is not None:
        conditions.append(AuditEvent.created_at >= _start_of(filters.date_from))
    if filters.date_to is not None:
        conditions.append(AuditEvent.created_at < _start_of(filters.date_to + timedelta(days=1)))
    return conditions


def _roles(db: Session, account_id: int) -> dict[int, str]:
    rows = db.exec(select(User.id, User.role).where(User.account_id == account_id)).all()
    return {user_id: role for user_id, role in rows}


def _row(event: AuditEvent, roles: dict[int, str], lang: str = "en") -> ActivityRow:
    return ActivityRow(
        id=event.id,
        created_at=event.created_at,
        actor_user_id=event.actor_user_id,
        actor_label=event.actor_label,
        actor_role=roles.get(event.actor_user_id, "") if event.actor_user_id is not None else "",
        area=event.area,
        action=event.action,
        target=event.target,
        ip=event.ip,
        browser=describe_user_agent(event.user_agent, lang) if event.user_agent else "",
        detail=event.detail,
    )


def query_events(
    db: Session,
    viewer: User,
    filters: ActivityFilters | None = None,
    page: int = 1,
    *,
    page_size: int = PAGE_SIZE,
    lang: str = "en",
) -> tuple[list[ActivityRow], int]:
    """One page of entries (newest first) and the total matching the filters."""
    filters = filters or ActivityFilters()
    page = page if isinstance(page, int) and not isinstance(page, bool) and page >= 1 else 1
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    where = and_(*_conditions(viewer, filters))
    total = db.exec(select(func.count()).select_from(AuditEvent).where(where)).one()
    events = db.exec(
        select(AuditEvent).where(where).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * page_size).limit(page_size)
    ).all()
    roles = _roles(db, viewer.account_id)
    return [_row(e, roles, lang) for e in events], int(total)


def page_count(total: int, page_size: int = PAGE_SIZE) -> int:
    return max(1, -(-int(total) // page_size))


def actor_choices(db: Session, viewer: User) -> list[tuple[str, str, str]]:
    """(value, label, role) for the actor filter: the owner picks anyone, an administrator only themselves."""
    if viewer.role != ROLE_OWNER:
        return [(str(viewer.id), viewer.email, viewer.role)]
    users = db.exec(select(User).where(User.account_id == viewer.account_id).order_by(User.id)).all()
    users = sorted(users, key=lambda u: (u.role != ROLE_OWNER, u.id))
    choices = [(str(u.id), u.email, u.role) for u in users]
    has_system = db.exec(
        select(AuditEvent.id)
        .where(AuditEvent.account_id == viewer.account_id, AuditEvent.actor_user_id.is_(None))
        .limit(1)
    ).first()
    if has_system is not None:
        choices.append((ACTOR_SYSTEM, "", ""))
    return choices


# --- labels -------------------------------------------------------------------------------


def action_label(action: str, lang: str) -> str:
    """The translated action where the catalog has one, the raw name otherwise."""
    key = f"activity.action.{action}"
    return t(key, lang) if key in CATALOGS["en"] else action


def area_label(area: str, lang: str) -> str:
    key = f"activity.area.{area}"
    return t(key, lang) if key in CATALOGS["en"] else area


def role_label(role: str, lang: str) -> str:
    if role == ROLE_OWNER:
        return t("activity.role.owner", lang)
    if role == ROLE_ADMIN:
        return t("activity.role.admin", lang)
    return t("activity.role.system", lang)


# --- CSV ----------------------------------------------------------------------------------


def safe_cell(value: object) -> str:
    """A cell a spreadsheet will show as text: formula starters get a leading quote."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_PREFIXES):
        return "'" + text
    return text


def export_csv(
    db: Session, viewer: User, filters: ActivityFilters | None = None, *, lang: str = "en"
) -> bytes:
    """Every entry the viewer may see that matches the filters, newest first, as UTF-8 CSV (with BOM,
    so spreadsheet programs read umlauts correctly)."""
    lang = normalize_language(lang)
    filters = filters or ActivityFilters()
    where = and_(*_conditions(viewer, filters))
    events = db.exec(
        select(AuditEvent).where(where).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(EXPORT_MAX_ROWS)
    ).all()
    roles = _roles(db, viewer.account_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([t(f"activity.csv.{column}", lang) for column in
                     ("time", "actor", "role", "area", "action", "action_label", "target", "ip", "browser",
                      "detail")])
    for event in events:
        row = _row(event, roles)  # the export names browsers in English, as before
        writer.writerow([safe_cell(v) for v in (
            row.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            row.actor_label or t("activity.role.system", lang),
            role_label(row.actor_role, lang),
            area_label(row.area, lang),
            row.action,
            action_label(row.action, lang),
            row.target,
            row.ip,
            row.browser,
            row.detail,
        )])
    return buffer.getvalue().encode("utf-8-sig")
