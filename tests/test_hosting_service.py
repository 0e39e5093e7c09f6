"""Hosting services list and the dashboard summary."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from panel_app.models import Domain, Invoice, InvoiceLine, Service, Ticket
from panel_app.services.hosting import (
    DashboardSummary,
    dashboard_open_invoices,
    dashboard_summary,
    list_services,
    usage_percent,
)

TODAY = date(2026, 11, 25)


@pytest.fixture
def owner(make_user):
    return make_user()


def add_service(db, account_id, name, **fields):
    values = dict(plan="Business", status="active", started_on=date(2025, 1, 1), renews_on=date(2027, 1, 1),
                  price_cents=1299, disk_used_mb=0, disk_quota_mb=0, traffic_used_gb=0, traffic_quota_gb=0)
    values.update(fields)
    service = Service(account_id=account_id, name=name, **values)
    db.add(service)
    db.commit()
    return service


@pytest.mark.parametrize(
    "used, quota, percent",
    [(0, 100, 0), (25, 100, 25), (1, 3, 33), (2, 3, 67), (100, 100, 100), (150, 100, 100), (5, 0, 0)],
)
def test_usage_percent(used, quota, percent):
    assert usage_percent(used, quota) == percent


def test_list_services(db, owner, make_user):
    add_service(db, owner.account_id, "shop.example.de", plan="Premium", renews_on=date(2027, 3, 1),
                price_cents=2499, disk_used_mb=7680, disk_quota_mb=10240, traffic_used_gb=120,
                traffic_quota_gb=100)
    add_service(db, owner.account_id, "blog.example.de", renews_on=date(2026, 12, 15), disk_used_mb=512,
                disk_quota_mb=5120, traffic_used_gb=3, traffic_quota_gb=0)
    stranger = make_user(email="stranger@test.example")
    add_service(db, stranger.account_id, "not-yours.example")

    rows = list_services(db, owner.account_id)

    assert [r.name for r in rows] == ["blog.example.de", "shop.example.de"]  # soonest renewal first
    shop = rows[1]
    assert (shop.plan, shop.status, shop.renews_on, shop.price_cents, shop.currency) == (
        "Premium", "active", date(2027, 3, 1), 2499, "EUR")
    assert (shop.disk_percent, shop.disk_over_quota) == (75, False)
    assert (shop.traffic_percent, shop.traffic_over_quota) == (100, True)
    blog = rows[0]
    assert (blog.disk_percent, blog.traffic_percent, blog.traffic_over_quota) == (10, 0, False)  # no quota


def test_dashboard_summary_counts_only_this_account(db, owner, make_user):
    a = owner.account_id
    add_service(db, a, "one", renews_on=date(2027, 5, 1))
    add_service(db, a, "two", renews_on=date(2026, 12, 1))
    add_service(db, a, "old", status="cancelled", renews_on=date(2026, 1, 1))
    for name in ("example.de", "example.com"):
        db.add(Domain(account_id=a, name=name, registered_on=date(2020, 1, 1), expires_on=date(2027, 1, 1)))
    for status in ("open", "answered", "closed"):
        db.add(Ticket(account_id=a, subject=f"t {status}", status=status))
    stranger = make_user(email="stranger@test.example")
    add_service(db, stranger.account_id, "theirs", renews_on=date(2026, 11, 30))
    db.add(Domain(account_id=stranger.account_id, name="theirs.example", registered_on=date(2020, 1, 1),
                  expires_on=date(2027, 1, 1)))
    db.add(Ticket(account_id=stranger.account_id, subject="theirs", status="open"))
    db.commit()

    summary = dashboard_summary(db, a)

    assert summary == DashboardSummary(service_count=3, active_service_count=2, domain_count=2,
                                       open_ticket_count=2, next_renewal=date(2026, 12, 1))


def test_summary_holds_no_money_and_invoices_come_separately(db, owner):
    # The summary is shown without a step-up grant: it must not carry invoice amounts.
    assert not any("cent" in f.name or "amount" in f.name for f in dataclasses.fields(DashboardSummary))
    invoice = Invoice(account_id=owner.account_id, number="2026-00001", issue_date=date(2026, 10, 1),
                      supply_date=date(2026, 9, 30), due_date=date(2026, 10, 15), status="open")
    db.add(invoice)
    db.flush()
    db.add(InvoiceLine(invoice_id=invoice.id, description="Hosting", quantity=1, unit_net_cents=1000,
                       vat_rate_percent=19))
    db.commit()

    totals = dashboard_open_invoices(db, owner.account_id, TODAY)

    assert (totals.currency, totals.open_cents, totals.overdue_cents) == ("EUR", 1190, 1190)


def test_empty_account(db, owner):
    assert list_services(db, owner.account_id) == ()
    assert dashboard_summary(db, owner.account_id) == DashboardSummary(0, 0, 0, 0, None)
    assert dashboard_open_invoices(db, owner.account_id, TODAY).open_cents == 0
