"""Hosting services of an account and the dashboard summary.

The dashboard summary holds only counts that are not sensitive. The open invoice
amount is sensitive (the invoices area needs a step-up grant), so it comes from a
separate call the UI makes only while a grant is valid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, func, select

from panel_app.models import Domain, Service, Ticket
from panel_app.services.billing import InvoiceTotals, open_invoice_totals


@dataclass(frozen=True)
class ServiceRow:
    id: int
    name: str
    plan: str
    status: str  # active | suspended | cancelled ... as stored
    renews_on: date
    price_cents: int  # per renewal period, net
    currency: str
    disk_used_mb: int
    disk_quota_mb: int
    disk_percent: int  # 0..100, for a progress bar
    disk_over_quota: bool
    traffic_used_gb: int
    traffic_quota_gb: int
    traffic_percent: int  # 0..100
    traffic_over_quota: bool


def usage_percent(used: int, quota: int) -> int:
    """Whole percent of the quota used, clamped to 0..100 (0 when there is no quota)."""
    if quota <= 0:
        return 0
    return max(0, min(100, round(used * 100 / quota)))


def _row(service: Service) -> ServiceRow:
    return ServiceRow(
        id=service.id,
        name=service.name,
        plan=service.plan,
        status=service.status,
        renews_on=service.renews_on,
        price_cents=service.price_cents,
        currency="EUR",
        disk_used_mb=service.disk_used_mb,
        disk_quota_mb=service.disk_quota_mb,
        disk_percent=usage_percent(service.disk_used_mb, service.disk_quota_mb),
        disk_over_quota=0 < service.disk_quota_mb < service.disk_used_mb,
        traffic_used_gb=service.traffic_used_gb,
        traffic_quota_gb=service.traffic_quota_gb,
        traffic_percent=usage_percent(service.traffic_used_gb, service.traffic_quota_gb),
        traffic_over_quota=0 < service.traffic_quota_gb < service.traffic_used_gb,
    )


def list_services(db: Session, account_id: int) -> tuple[ServiceRow, ...]:
    """The account's services, soonest renewal first."""
    rows = db.exec(
        select(Service).where(Service.account_id == account_id).order_by(Service.renews_on, Service.id)
    ).all()
    return tuple(_row(s) for s in rows)


@dataclass(frozen=True)
class DashboardSummary:
    service_count: int
    active_service_count: int
    domain_count: int
    open_ticket_count: int  # open or answered (not closed)
    next_renewal: date | None  # of an active service


def _count(db: Session, statement) -> int:
    return int(db.exec(statement).one())


def dashboard_summary(db: Session, account_id: int) -> DashboardSummary:
    services = db.exec(select(Service).where(Service.account_id == account_id)).all()
    active = [s for s in services if s.status == "active"]
    return DashboardSummary(
        service_count=len(services),
        active_service_count=len(active),
        domain_count=_count(
            db, select(func.count()).select_from(Domain).where(Domain.account_id == account_id)
        ),
        open_ticket_count=_count(
            db,
            select(func.count()).select_from(Ticket).where(Ticket.account_id == account_id,
                                                          Ticket.status != "closed"),
        ),
        next_renewal=min((s.renews_on for s in active), default=None),
    )


def dashboard_open_invoices(db: Session, account_id: int, today: date) -> InvoiceTotals:
    """Sensitive: open and overdue invoice amounts. Call only while a step-up grant is valid."""
    return open_invoice_totals(db, account_id, today)
