"""Issued invoices never change (issue 19, item 9): an invoice keeps the buyer and the seller
it was issued with; an address edited later reaches only invoices issued later."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
from alembic import command
from sqlmodel import Session

from panel_app import migrate
from panel_app.db import make_engine
from panel_app.models import Account, Invoice, InvoiceLine, User
from panel_app.services import billing, profile
from panel_app.services.audit import Actor
from tests.test_billing import MIXED, add_invoice, pdf_text

NOW = datetime(2026, 12, 4, 9, 0, 0, tzinfo=timezone.utc)
OLD_ADDRESS = ("Hauptstraße 5", "80331 München")
NEW_ADDRESS = ("Neue Allee 77", "20095 Hamburg")


@pytest.fixture
def owner(make_user, db):
    user = make_user(name="Max Müller")
    account = db.get(Account, user.account_id)
    account.company = "Müller Webdesign GmbH"
    account.street, account.postal_code, account.city, account.country = "Hauptstraße 5", "80331", "München", "DE"
    account.vat_id = "DE987654321"
    db.add(account)
    db.commit()
    return user


def _move(db, user: User) -> None:
    """The owner edits the account's address, company and VAT id on the profile page."""
    profile.update_profile(db, Actor.for_user(user), db.get(User, user.id), now=NOW, company="Müller Digital AG",
                           street="Neue Allee 77", postal_code="20095", city="Hamburg", vat_id="DE111222333")
    db.commit()


def _pdf(db, user: User, number: str) -> str:
    return pdf_text(billing.invoice_pdf(db, Actor.for_user(user), number, NOW))


def test_an_invoice_keeps_the_address_it_was_issued_with(owner, db):
    add_invoice(db, owner.account_id, "2026-00011", MIXED, issue=date(2026, 11, 1))
    before = _pdf(db, owner, "2026-00011")
    assert all(part in before for part in OLD_ADDRESS)  # positive control

    _move(db, owner)
    after = _pdf(db, owner, "2026-00011")

    for part in (*OLD_ADDRESS, "Müller Webdesign GmbH", "DE987654321"):
        assert part in after, part
    for part in (*NEW_ADDRESS, "Müller Digital AG", "DE111222333"):
        assert part not in after, part


def test_a_new_invoice_gets_the_new_address(owner, db):
    add_invoice(db, owner.account_id, "2026-00011", MIXED, issue=date(2026, 11, 1))
    _move(db, owner)
    add_invoice(db, owner.account_id, "2026-00012", MIXED, issue=date(2026, 12, 1))

    text = _pdf(db, owner, "2026-00012")
    for part in (*NEW_ADDRESS, "Müller Digital AG", "DE111222333"):
        assert part in text, part
    assert OLD_ADDRESS[0] not in text


def test_the_seller_printed_is_the_one_of_the_issue(owner, db, monkeypatch):
    """The company moves: invoices issued before keep its old address in header and footer."""
    add_invoice(db, owner.account_id, "2026-00011", MIXED)
    moved = dataclasses.replace(billing.SELLER, street="Am Hafen 1", postal_code="28195", city="Bremen")
    monkeypatch.setattr(billing, "SELLER", moved)
    add_invoice(db, owner.account_id, "2026-00012", MIXED)

    old, new = _pdf(db, owner, "2026-00011"), _pdf(db, owner, "2026-00012")
    assert "Musterstraße 12" in old and "Am Hafen 1" not in old
    assert "Am Hafen 1" in new and "28195 Bremen" in new


def test_the_snapshot_is_data_on_the_invoice_row(owner, db):
    invoice = add_invoice(db, owner.account_id, "2026-00011", MIXED)
    _move(db, owner)
    db.refresh(invoice)
    buyer, seller = billing.parties_of(db, invoice)
    assert (buyer.street, buyer.postal_code, buyer.city, buyer.company, buyer.vat_id) == \
        ("Hauptstraße 5", "80331", "München", "Müller Webdesign GmbH", "DE987654321")
    assert buyer.customer_number == db.get(Account, owner.account_id).customer_number
    assert seller == billing.SELLER
    assert json.loads(invoice.buyer_snapshot)["city"] == "München"


def test_a_row_made_without_issuing_is_frozen_once_and_never_again(owner, db):
    """A row inserted by other means (an import): the first rendering writes today's data
    onto it; a later edit of the account no longer reaches it."""
    invoice = Invoice(account_id=owner.account_id, number="2026-00099", issue_date=date(2026, 11, 1),
                      supply_date=date(2026, 10, 31), due_date=date(2026, 11, 15))
    db.add(invoice)
    db.flush()
    db.add(InvoiceLine(invoice_id=invoice.id, description="Hosting", quantity=1, unit_net_cents=100))
    db.commit()
    assert OLD_ADDRESS[0] in _pdf(db, owner, "2026-00099")
    db.commit()
    _move(db, owner)
    text = _pdf(db, owner, "2026-00099")
    assert OLD_ADDRESS[0] in text and NEW_ADDRESS[0] not in text


# --- the migration ------------------------------------------------------------------------------


@pytest.fixture
def connection(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/snapshot.db")
    with engine.connect() as conn:
        yield conn
    engine.dispose()


def _run(conn, action, revision: str) -> None:
    config = migrate.alembic_config()
    config.attributes["connection"] = conn
    action(config, revision)
    conn.commit()


def test_the_migration_fills_in_existing_invoices_from_todays_data(connection):
    _run(connection, command.upgrade, "0009_staff_grant_method")
    connection.execute(sa.text(
        "INSERT INTO account (id, customer_number, name, company, street, postal_code, city, country, vat_id, "
        "is_demo, created_at) VALUES (1, 'K-100', 'Max Müller', 'Müller Webdesign GmbH', 'Hauptstraße 5', "
        "'80331', 'München', 'DE', 'DE987654321', FALSE, :now)"), {"now": NOW})
    connection.execute(sa.text(
        'INSERT INTO "user" (id, account_id, email, name, password_hash, role, areas, preferred_channel, language, '
        "stepup_failures, is_active, created_at, password_changed_at, factor_change_pending) VALUES "
        "(1, 1, 'max@x.example', 'Max Müller', 'h', 'owner', '', 'email', 'en', 0, TRUE, :now, :now, FALSE)"),
        {"now": NOW})
    connection.execute(sa.text(
        "INSERT INTO invoice (id, account_id, number, issue_date, supply_date, due_date, status, currency, "
        "reverse_charge) VALUES (1, 1, '2026-00011', '2026-11-01', '2026-10-31', '2026-11-15', 'open', 'EUR', "
        "FALSE)"))
    connection.execute(sa.text(
        "INSERT INTO invoiceline (invoice_id, description, quantity, unit_net_cents, vat_rate_percent) "
        "VALUES (1, 'Hosting', 1, 1000, 19)"))
    connection.commit()

    _run(connection, command.upgrade, "0011_invoice_snapshot")
    buyer_json, seller_json = connection.execute(sa.text(
        "SELECT buyer_snapshot, seller_snapshot FROM invoice WHERE id = 1")).one()
    assert json.loads(buyer_json) == {"name": "Max Müller", "company": "Müller Webdesign GmbH",
                                      "street": "Hauptstraße 5", "postal_code": "80331", "city": "München",
                                      "country": "DE", "vat_id": "DE987654321", "customer_number": "K-100"}
    assert json.loads(seller_json) == dataclasses.asdict(billing.SELLER)

    _run(connection, command.upgrade, "head")
    with Session(bind=connection) as db:  # through the panel's own code: the PDF prints the snapshot
        db.execute(sa.text("UPDATE account SET street = 'Neue Allee 77', city = 'Hamburg' WHERE id = 1"))
        user = db.get(User, 1)
        text = pdf_text(billing.invoice_pdf(db, Actor.for_user(user), "2026-00011", NOW))
        assert "Hauptstraße 5" in text and "80331 München" in text and "Hamburg" not in text
        db.rollback()

    _run(connection, command.downgrade, "0009_staff_grant_method")
    columns = {c["name"] for c in sa.inspect(connection).get_columns("invoice")}
    assert not {"buyer_snapshot", "seller_snapshot"} & columns
    assert "app_confirmed_at" not in {c["name"] for c in sa.inspect(connection).get_columns("loginsession")}
