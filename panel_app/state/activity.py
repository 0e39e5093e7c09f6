"""/activity: the account's activity log, filtered, paged, exported as CSV.

Read-only by design: there is no handler that changes or deletes an entry. The
service applies the viewer's scope (owner: everything; administrator: their own
entries) in the query itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import reflex as rx

from panel_app.i18n import t
from panel_app.security.permissions import ROLE_OWNER, Area
from panel_app.services import activity
from panel_app.services.audit import record
from panel_app.services.validation import ValidationError
from panel_app.state import guard
from panel_app.state.auth import AuthState
from panel_app.state.gated import GatedPage
from panel_app.state.rows import Option

_FILTER_FIELDS = ("actor", "area", "from", "to")


@dataclass(frozen=True, slots=True)
class EventRow:
    """One entry of the activity log, formatted."""

    id: str
    time: str
    actor: str
    role: str
    is_owner: str  # "1" or ""
    area: str
    action: str
    target: str
    ip: str
    browser: str


class ActivityState(GatedPage, AuthState):
    area: ClassVar[Area] = Area.ACTIVITY

    rows: list[EventRow] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    range_text: str = ""
    page_text: str = ""
    is_owner: bool = False
    filter_actor: str = activity.ACTOR_ALL
    filter_area: str = activity.AREA_ALL
    filter_from: str = ""
    filter_to: str = ""
    actor_options: list[Option] = []
    area_options: list[Option] = []
    filter_error: str = ""
    form_key: int = 0

    def _filters(self) -> activity.ActivityFilters:
        try:
            return activity.parse_filters({"actor": self.filter_actor, "area": self.filter_area,
                                           "from": self.filter_from, "to": self.filter_to})
        except ValidationError:
            self._clear_filter_values()
            return activity.ActivityFilters()

    def _clear_filter_values(self) -> None:
        self.filter_actor = activity.ACTOR_ALL
        self.filter_area = activity.AREA_ALL
        self.filter_from = self.filter_to = ""

    def _load(self, ctx: guard.GuardContext) -> None:
        lang = ctx.lang
        viewer = ctx.user
        self.is_owner = viewer.role == ROLE_OWNER
        filters = self._filters()
        self.page = self._current_page()
        rows, total = activity.query_events(ctx.db, viewer, filters, self.page, lang=lang)
        pages = activity.page_count(total)
        if self.page > pages:
            self.page = pages
            rows, total = activity.query_events(ctx.db, viewer, filters, self.page, lang=lang)
        self.total, self.pages = total, pages
        first = (self.page - 1) * activity.PAGE_SIZE + 1
        self.range_text = (t("activity.range", lang, first=first, last=first + len(rows) - 1, total=total)
                           if rows else "")
        self.page_text = t("activity.page", lang, page=self.page, pages=pages)
        self.rows = [
            EventRow(
                id=str(r.id),
                time=ctx.moment(r.created_at),
                actor=r.actor_label or t("activity.role.system", lang),
                role=activity.role_label(r.actor_role, lang),
                is_owner="1" if r.actor_role == ROLE_OWNER else "",
                area=activity.area_label(r.area, lang),
                action=activity.action_label(r.action, lang),
                target=r.target or "—",
                ip=r.ip or "—",
                browser=r.browser or "—",
            )
            for r in rows
        ]
        everyone = Option(value=activity.ACTOR_ALL, label=t("activity.filter.all_people", lang))
        self.actor_options = [everyone] + [
            Option(value=value,
             label=(f"{label} ({activity.role_label(role, lang)})" if value != activity.ACTOR_SYSTEM
                       else t("activity.role.system", lang)))
            for value, label, role in activity.actor_choices(ctx.db, viewer)
        ]
        self.area_options = [Option(value=activity.AREA_ALL, label=t("activity.filter.all_areas", lang))] + [
            Option(value=a.value, label=activity.area_label(a.value, lang)) for a in Area
        ]

    @guard.requires_stepup()
    def load(self):
        """on_load: fresh records on every visit (the log grows while the page is away)."""
        self._reload()

    @guard.requires_stepup()
    def apply_filters(self, form_data: dict):
        if not isinstance(form_data, dict):
            return
        raw = {name: form_data.get(name) for name in _FILTER_FIELDS}
        try:
            activity.parse_filters(raw)
        except ValidationError as exc:
            self.filter_error = t(exc.message_key, self.lang, **exc.params)
            return
        self.filter_error = ""
        self.filter_actor = raw["actor"] or activity.ACTOR_ALL
        self.filter_area = raw["area"] or activity.AREA_ALL
        self.filter_from = raw["from"] or ""
        self.filter_to = raw["to"] or ""
        self.page = 1
        self._reload()

    @guard.requires_stepup()
    def clear_filters(self):
        self._clear_filter_values()
        self.filter_error = ""
        self.page = 1
        self.form_key += 1
        self._reload()

    def _current_page(self) -> int:
        page = self.page
        return page if isinstance(page, int) and not isinstance(page, bool) and page >= 1 else 1

    @guard.requires_stepup()
    def next_page(self):
        self.page = self._current_page() + 1  # _load pulls it back to the last page
        self._reload()

    @guard.requires_stepup()
    def previous_page(self):
        self.page = max(1, self._current_page() - 1)
        self._reload()

    @guard.requires_stepup()
    def export_csv(self):
        ctx = guard.current()
        filters = self._filters()
        data = activity.export_csv(ctx.db, ctx.user, filters, lang=ctx.lang)
        record(ctx.db, ctx.actor, Area.ACTIVITY, "activity_exported", now=ctx.now,
               filter_actor=self.filter_actor, filter_area=self.filter_area, date_from=self.filter_from,
               date_to=self.filter_to)
        return rx.download(data=data, filename=f"activity-{ctx.now.strftime('%Y-%m-%d')}.csv")
