"""States of the standard sections: a login is enough, nothing sensitive is held.

Display rows are frozen dataclasses of strings, built here from the services' records.
"""

from __future__ import annotations

from dataclasses import dataclass

from panel_app.i18n import formatting as fmt
from panel_app.i18n import t
from panel_app.models import Account
from panel_app.security.permissions import Area
from panel_app.services import hosting, support
from panel_app.state import guard
from panel_app.state.auth import AuthState


@dataclass(frozen=True, slots=True)
class ServiceRow:
    name: str
    plan: str
    status: str
    renews: str
    price: str
    disk: str
    disk_percent: str
    traffic: str
    traffic_percent: str


@dataclass(frozen=True, slots=True)
class DomainRow:
    name: str
    status: str
    expires: str
    auto_renew: str
    locked: str


def _service_rows(ctx: guard.GuardContext) -> list[ServiceRow]:
    lang = ctx.lang
    return [
        ServiceRow(
            name=s.name,
            plan=s.plan,
            status=t(f"status.{s.status}", lang) if s.status in ("active", "suspended", "cancelled") else s.status,
            renews=fmt.day(s.renews_on, lang),
            price=fmt.money(s.price_cents, s.currency, lang),
            disk=f"{fmt.megabytes(s.disk_used_mb, lang)} / {fmt.megabytes(s.disk_quota_mb, lang)}",
            disk_percent=str(s.disk_percent),
            traffic=f"{s.traffic_used_gb} / {s.traffic_quota_gb} GB" if s.traffic_quota_gb else "—",
            traffic_percent=str(s.traffic_percent),
        )
        for s in hosting.list_services(ctx.db, ctx.user.account_id)
    ]


class DashboardState(AuthState):
    customer_number: str = ""
    account_name: str = ""
    service_count: int = 0
    domain_count: int = 0
    open_tickets: int = 0
    next_renewal: str = ""
    services: list[ServiceRow] = []
    domains: list[DomainRow] = []

    @guard.requires_login(Area.DASHBOARD)
    def load(self):
        ctx = guard.current()
        account = ctx.db.get(Account, ctx.user.account_id)
        summary = hosting.dashboard_summary(ctx.db, account.id)
        self.customer_number = account.customer_number
        self.account_name = account.company or account.name
        self.service_count = summary.active_service_count
        self.domain_count = summary.domain_count
        # The tickets this user may read in /support (their own, or the account's).
        self.open_tickets = support.open_ticket_count(ctx.db, support.scope_for(ctx.user))
        self.next_renewal = fmt.day(summary.next_renewal, ctx.lang)
        self.services = _service_rows(ctx) if Area.SERVICES.value in self.areas else []
        self.domains = _domain_rows(ctx) if Area.DOMAINS.value in self.areas else []
        self._denied_notice()


class ServicesState(AuthState):
    services: list[ServiceRow] = []

    @guard.requires_login(Area.SERVICES)
    def load(self):
        self.services = _service_rows(guard.current())


def _domain_rows(ctx: guard.GuardContext) -> list[DomainRow]:
    from panel_app.services import domains

    lang = ctx.lang
    return [
        DomainRow(
            name=d.name,
            status=d.status,
            expires=fmt.day(d.expires_on, lang),
            auto_renew=t("common.yes" if d.auto_renew else "common.no", lang),
            locked=t("common.yes" if d.transfer_lock else "common.no", lang),
        )
        for d in domains.list_domains(ctx.db, ctx.user.account_id)
    ]


class DomainListState(AuthState):
    domains: list[DomainRow] = []

    @guard.requires_login(Area.DOMAINS)
    def load(self):
        """The list is a standard section; each domain's configuration is gated."""
        self.domains = _domain_rows(guard.current())
