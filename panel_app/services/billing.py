"""Invoices: listing, totals and PDF downloads (contract documents: ``services/documents.py``).

An issued invoice never changes: the buyer and the seller it was issued with are written
onto it (``Invoice.buyer_snapshot``, ``seller_snapshot``) by ``issue_invoice`` and printed
from there, so an address edited later reaches only invoices issued later.

Amounts are integer cents. VAT is computed per rate on the net sum of that rate
(not per line) and rounded half up, as German invoicing practice expects. An
invoice's status in the database is ``paid`` or ``open``; ``overdue`` is derived
from the due date at display time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlmodel import Session, select

from panel_app.i18n import formatting
from panel_app.i18n import normalize_language
from panel_app.models import Account, Invoice, InvoiceLine, User
from panel_app.security.permissions import Area
from panel_app.services import audit
from panel_app.services.audit import Actor
from panel_app.services.validation import NotFound, parse_row_id

STATUS_PAID = "paid"
STATUS_OPEN = "open"
STATUS_OVERDUE = "overdue"


@dataclass(frozen=True)
class Seller:
    """The invoicing company, as printed on every invoice (§ 14 UStG / Art. 226 VAT Directive)."""

    name: str
    street: str
    postal_code: str
    city: str
    country: str  # ISO 3166-1 alpha-2
    vat_id: str
    email: str
    website: str
    commercial_register: str
    managing_directors: str
    bank_name: str
    bank_iban: str
    bank_bic: str


SELLER = Seller(
    name="Panel Hosting GmbH",
    street="Musterstraße 12",
    postal_code="10115",
    city="Berlin",
    country="DE",
    vat_id="DE123456789",
    email="billing@panel.example",
    website="panel.example",
    commercial_register="Amtsgericht Charlottenburg, HRB 123456 B",
    managing_directors="Erika Mustermann",
    bank_name="Musterbank Berlin",
    # A documented example IBAN, not a real account.
    bank_iban="DE89 3704 0044 0532 0130 00",
    bank_bic="COBADEFFXXX",
)


@dataclass(frozen=True)
class Buyer:
    """The invoice's recipient as printed on it (the account at the time of issue)."""

    name: str
    company: str
    street: str
    postal_code: str
    city: str
    country: str
    vat_id: str
    customer_number: str


def buyer_of(account: Account) -> Buyer:
    """The account's billing data as it stands now."""
    return Buyer(name=account.name, company=account.company, street=account.street,
                 postal_code=account.postal_code, city=account.city, country=account.country,
                 vat_id=account.vat_id, customer_number=account.customer_number)


def _snapshot(party: Buyer | Seller) -> str:
    return json.dumps(asdict(party), ensure_ascii=False, sort_keys=True)


def _from_snapshot(kind: type[Buyer] | type[Seller], text: str):
    """A stored party; a field it lacks prints empty (never today's value)."""
    stored = json.loads(text)
    stored = stored if isinstance(stored, dict) else {}
    return kind(**{f.name: str(stored.get(f.name) or "") for f in fields(kind)})


def freeze_parties(db: Session, invoice: Invoice) -> None:
    """Write the buyer and seller onto ``invoice`` if it has none yet (at issue; and once for
    a row made without ``issue_invoice``). What is written is never rewritten."""
    if invoice.buyer_snapshot and invoice.seller_snapshot:
        return
    if not invoice.buyer_snapshot:
        invoice.buyer_snapshot = _snapshot(buyer_of(db.get(Account, invoice.account_id)))
    if not invoice.seller_snapshot:
        invoice.seller_snapshot = _snapshot(SELLER)
    db.add(invoice)
    db.flush()


def parties_of(db: Session, invoice: Invoice) -> tuple[Buyer, Seller]:
    """The buyer and seller ``invoice`` was issued with."""
    freeze_parties(db, invoice)
    return _from_snapshot(Buyer, invoice.buyer_snapshot), _from_snapshot(Seller, invoice.seller_snapshot)


@dataclass(frozen=True)
class NewLine:
    description: str
    quantity: int
    unit_net_cents: int
    vat_rate_percent: int


def issue_invoice(db: Session, account_id: int, *, number: str | None = None, issue_date: date,
                  supply_date: date, due_date: date, lines: Iterable[NewLine], status: str = "open",
                  currency: str = "EUR", reverse_charge: bool = False) -> Invoice:
    """A new invoice with its lines, carrying the account's billing data and the seller as
    they are now. ``number``: the next free one of the issue year when not given."""
    invoice = Invoice(account_id=account_id, number=number or next_invoice_number(db, issue_date),
                      issue_date=issue_date, supply_date=supply_date, due_date=due_date, status=status,
                      currency=currency, reverse_charge=reverse_charge)
    db.add(invoice)
    db.flush()
    for line in lines:
        db.add(InvoiceLine(invoice_id=invoice.id, description=line.description, quantity=line.quantity,
                           unit_net_cents=line.unit_net_cents, vat_rate_percent=line.vat_rate_percent))
    freeze_parties(db, invoice)
    return invoice


# --- amounts --------------------------------------------------------------------


@dataclass(frozen=True)
class VatGroup:
    rate_percent: int
    net_cents: int
    vat_cents: int

    @property
    def gross_cents(self) -> int:
        return self.net_cents + self.vat_cents


@dataclass(frozen=True)
class InvoiceAmounts:
    groups: tuple[VatGroup, ...]  # one per VAT rate, highest rate first
    net_cents: int
    vat_cents: int
    gross_cents: int


def vat_for(net_cents: int, rate_percent: int) -> int:
    """VAT in cents for a net sum, rounded half up (away from zero for credits)."""
    exact = Decimal(net_cents) * Decimal(rate_percent) / Decimal(100)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def line_net_cents(line: InvoiceLine) -> int:
    return line.quantity * line.unit_net_cents


def effective_rate(line: InvoiceLine, reverse_charge: bool) -> int:
    """Reverse charge: the recipient accounts for VAT, so the invoice shows 0 %."""
    return 0 if reverse_charge else line.vat_rate_percent


def compute_amounts(lines: Iterable[InvoiceLine], *, reverse_charge: bool) -> InvoiceAmounts:
    net_by_rate: dict[int, int] = {}
    for line in lines:
        rate = effective_rate(line, reverse_charge)
        net_by_rate[rate] = net_by_rate.get(rate, 0) + line_net_cents(line)
    groups = tuple(
        VatGroup(rate, net, vat_for(net, rate)) for rate, net in sorted(net_by_rate.items(), reverse=True)
    )
    net = sum(g.net_cents for g in groups)
    vat = sum(g.vat_cents for g in groups)
    return InvoiceAmounts(groups, net, vat, net + vat)


def invoice_status(invoice: Invoice, today: date) -> str:
    if invoice.status == STATUS_PAID:
        return STATUS_PAID
    return STATUS_OVERDUE if invoice.due_date < today else STATUS_OPEN


# --- formatting (shared by the UI and the PDFs) ------------------------------------

# Invoices and the screen format alike (``i18n.formatting``).
format_money = formatting.money
format_date = formatting.day


def format_rate(rate_percent: int) -> str:
    return f"{rate_percent} %"


# --- invoices --------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceRow:
    number: str
    issue_date: date
    due_date: date
    net_cents: int
    vat_cents: int
    gross_cents: int
    currency: str
    status: str  # paid | open | overdue
    reverse_charge: bool


@dataclass(frozen=True)
class InvoiceTotals:
    currency: str
    total_gross_cents: int
    open_cents: int  # open including overdue
    overdue_cents: int


@dataclass(frozen=True)
class InvoiceList:
    invoices: tuple[InvoiceRow, ...]  # newest first
    # One entry per currency present (EUR first); a single EUR entry of zeros when there are none.
    totals: tuple[InvoiceTotals, ...]


def _lines_by_invoice(db: Session, invoice_ids: list[int]) -> dict[int, list[InvoiceLine]]:
    grouped: dict[int, list[InvoiceLine]] = {i: [] for i in invoice_ids}
    if invoice_ids:
        rows = db.exec(
            select(InvoiceLine).where(InvoiceLine.invoice_id.in_(invoice_ids)).order_by(InvoiceLine.id)
        ).all()
        for line in rows:
            grouped[line.invoice_id].append(line)
    return grouped


def _account_invoices(db: Session, account_id: int) -> list[Invoice]:
    return list(
        db.exec(
            select(Invoice)
            .where(Invoice.account_id == account_id)
            .order_by(Invoice.issue_date.desc(), Invoice.number.desc())
        ).all()
    )


def list_invoices(db: Session, account_id: int, today: date) -> InvoiceList:
    invoices = _account_invoices(db, account_id)
    lines = _lines_by_invoice(db, [i.id for i in invoices])
    rows = []
    for invoice in invoices:
        amounts = compute_amounts(lines[invoice.id], reverse_charge=invoice.reverse_charge)
        rows.append(
            InvoiceRow(
                number=invoice.number,
                issue_date=invoice.issue_date,
                due_date=invoice.due_date,
                net_cents=amounts.net_cents,
                vat_cents=amounts.vat_cents,
                gross_cents=amounts.gross_cents,
                currency=invoice.currency,
                status=invoice_status(invoice, today),
                reverse_charge=invoice.reverse_charge,
            )
        )
    return InvoiceList(tuple(rows), _totals(rows))


def _totals(rows: list[InvoiceRow]) -> tuple[InvoiceTotals, ...]:
    currencies = sorted({r.currency for r in rows} or {"EUR"}, key=lambda c: (c != "EUR", c))
    totals = []
    for currency in currencies:
        mine = [r for r in rows if r.currency == currency]
        totals.append(
            InvoiceTotals(
                currency=currency,
                total_gross_cents=sum(r.gross_cents for r in mine),
                open_cents=sum(r.gross_cents for r in mine if r.status != STATUS_PAID),
                overdue_cents=sum(r.gross_cents for r in mine if r.status == STATUS_OVERDUE),
            )
        )
    return tuple(totals)


def open_invoice_totals(db: Session, account_id: int, today: date) -> InvoiceTotals:
    """The first totals entry (EUR if present): what the dashboard shows behind the step-up gate."""
    return list_invoices(db, account_id, today).totals[0]


def has_open_invoice(db: Session, account_id: int) -> bool:
    return (
        db.exec(
            select(Invoice.id).where(Invoice.account_id == account_id, Invoice.status == STATUS_OPEN)
        ).first()
        is not None
    )


_INVOICE_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-/_.]{0,29}$")


def _clean_invoice_number(value: object) -> str:
    """Anything that cannot be an invoice number is simply "not found"."""
    text = value.strip() if isinstance(value, str) else ""
    if not _INVOICE_NUMBER.fullmatch(text):
        raise NotFound("invoice", "billing.error.invoice_not_found")
    return text


def _get_invoice(db: Session, account_id: int, number: object) -> Invoice:
    number = _clean_invoice_number(number)
    invoice = db.exec(
        select(Invoice).where(Invoice.number == number, Invoice.account_id == account_id)
    ).first()
    if invoice is None:
        raise NotFound("invoice", "billing.error.invoice_not_found")
    return invoice


def next_invoice_number(db: Session, issue_date: date) -> str:
    """Sequential, gap-free per year: ``2026-00001``, ``2026-00002``, ... (for seeding/issuing)."""
    prefix = f"{issue_date.year}-"
    numbers = db.exec(select(Invoice.number).where(Invoice.number.startswith(prefix))).all()
    highest = 0
    for number in numbers:
        tail = number[len(prefix):]
        if tail.isdigit():
            highest = max(highest, int(tail))
    return f"{prefix}{highest + 1:05d}"


def _language_of(db: Session, actor: Actor, lang: str | None) -> str:
    if lang is not None:
        return normalize_language(lang)
    user = db.get(User, actor.user_id) if actor.user_id is not None else None
    return normalize_language(user.language if user else None)


def invoice_filename(number: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9\-_.]", "-", number)
    return f"invoice-{safe}.pdf"


def invoice_pdf(
    db: Session, actor: Actor, invoice_number: object, now: datetime, *, lang: str | None = None
) -> bytes:
    """The invoice as a PDF in the user's language; audited as ``invoice_downloaded``.

    Raises ``NotFound`` for unknown numbers and for other accounts' invoices alike.
    """
    from panel_app.services import invoice_pdf as renderer

    invoice = _get_invoice(db, actor.account_id, invoice_number)
    buyer, seller = parties_of(db, invoice)  # as issued, never today's account data
    lines = _lines_by_invoice(db, [invoice.id])[invoice.id]
    language = _language_of(db, actor, lang)
    data = renderer.InvoiceData(
        seller=seller,
        buyer=buyer,
        number=invoice.number,
        issue_date=invoice.issue_date,
        supply_date=invoice.supply_date,
        due_date=invoice.due_date,
        currency=invoice.currency,
        paid=invoice.status == STATUS_PAID,
        reverse_charge=invoice.reverse_charge,
        lines=tuple(
            renderer.Line(
                description=line.description,
                quantity=line.quantity,
                unit_net_cents=line.unit_net_cents,
                rate_percent=effective_rate(line, invoice.reverse_charge),
                net_cents=line_net_cents(line),
            )
            for line in lines
        ),
        amounts=compute_amounts(lines, reverse_charge=invoice.reverse_charge),
    )
    pdf = renderer.render_invoice(data, language, now=now)
    audit.record(db, actor, Area.INVOICES, "invoice_downloaded", now=now, target=invoice.number)
    return pdf


# Ids are 32-bit integer columns: a larger number would be a database error, not "not found".


def coerce_id(value: object, field: str, not_found_key: str) -> int:
    """A row id from a client (int or digit string); anything else is "not found"."""
    row_id = parse_row_id(value)
    if row_id is None:
        raise NotFound(field, not_found_key)
    return row_id
