"""/invoices: the account's invoices with totals, and its contract documents.

PDFs are rendered on request inside a guarded handler and handed to the browser
as an ``rx.download`` of the bytes: no file is written, no URL exists that could
be shared or guessed, and every download is audited by the billing service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import reflex as rx

from panel_app.i18n import formatting as fmt
from panel_app.i18n import t
from panel_app.security.permissions import Area
from panel_app.services import billing, documents
from panel_app.services.validation import ValidationError
from panel_app.state import guard
from panel_app.state.auth import AuthState
from panel_app.state.gated import GatedPage

PDF_MIME_TYPE = "application/pdf"


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    number: str
    issued: str
    due: str
    gross: str
    status: str
    status_label: str
    download_label: str


@dataclass(frozen=True, slots=True)
class TotalRow:
    """One currency's total, open and overdue amounts, formatted."""

    currency: str
    total: str
    open: str
    overdue: str
    has_overdue: str  # "1" or ""


@dataclass(frozen=True, slots=True)
class DocumentRow:
    id: str
    title: str
    issued: str
    download_label: str


class InvoicesState(GatedPage, AuthState):
    area: ClassVar[Area] = Area.INVOICES

    invoices: list[InvoiceRow] = []
    # One entry per currency (EUR first): total, open and overdue, formatted.
    totals: list[TotalRow] = []
    documents: list[DocumentRow] = []

    def _load(self, ctx: guard.GuardContext) -> None:
        lang = ctx.lang
        listing = billing.list_invoices(ctx.db, ctx.user.account_id, ctx.now.date())
        self.invoices = [
            InvoiceRow(
                number=row.number,
                issued=fmt.day(row.issue_date, lang),
                due=fmt.day(row.due_date, lang),
                gross=fmt.money(row.gross_cents, row.currency, lang),
                status=row.status,
                status_label=t(f"billing.status.{row.status}", lang),
                download_label=t("billing.download_invoice", lang, number=row.number),
            )
            for row in listing.invoices
        ]
        self.totals = [
            TotalRow(
                currency=total.currency,
                total=fmt.money(total.total_gross_cents, total.currency, lang),
                open=fmt.money(total.open_cents, total.currency, lang),
                overdue=fmt.money(total.overdue_cents, total.currency, lang),
                has_overdue="1" if total.overdue_cents else "",
            )
            for total in listing.totals
        ]
        self.documents = [
            DocumentRow(
                id=str(doc.id),
                title=doc.title,
                issued=fmt.day(doc.issued_on, lang),
                download_label=t("billing.download_document", lang, title=doc.title),
            )
            for doc in documents.list_documents(ctx.db, ctx.user.account_id)
        ]

    @guard.requires_stepup()
    def download_invoice(self, number: str):
        ctx = guard.current()
        if not isinstance(number, str) or len(number) > 40:
            return None
        try:
            pdf = billing.invoice_pdf(ctx.db, ctx.actor, number, ctx.now, lang=ctx.lang)
        except ValidationError as exc:
            self.error = t(exc.message_key, ctx.lang, **exc.params)
            self._reload()
            return None
        self.error = ""
        return rx.download(data=pdf, filename=billing.invoice_filename(number.strip()), mime_type=PDF_MIME_TYPE)

    @guard.requires_stepup()
    def download_document(self, document_id: str):
        ctx = guard.current()
        if not isinstance(document_id, str | int) or isinstance(document_id, bool):
            return None
        try:
            document = documents.get_document(ctx.db, ctx.user.account_id, document_id)
            pdf = documents.document_pdf(ctx.db, ctx.actor, document.id, ctx.now, lang=ctx.lang)
        except ValidationError as exc:
            self.error = t(exc.message_key, ctx.lang, **exc.params)
            self._reload()
            return None
        self.error = ""
        return rx.download(data=pdf, filename=documents.document_filename(document.id, document.title),
                           mime_type=PDF_MIME_TYPE)
