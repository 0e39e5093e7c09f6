"""/invoices: invoices with totals and PDF downloads, contract documents."""

import reflex as rx

from panel_app.components.gate import gated_page
from panel_app.components.i18n import tr
from panel_app.components.ui import data_table, page_heading, stat
from panel_app.state.billing import InvoicesState

_STATUS_COLORS = {"paid": "green", "open": "blue", "overdue": "red"}


def _status_badge(row) -> rx.Component:
    return rx.badge(row.status_label,
                    color_scheme=rx.match(row.status, *_STATUS_COLORS.items(), "gray"))


def _download_button(label, aria_label, on_click) -> rx.Component:
    return rx.button(rx.icon("download", size=14, aria_hidden="true"), label, size="1", variant="soft",
                     type="button", aria_label=aria_label, on_click=on_click)


def _invoice_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(row.number, class_name="mono")),
        rx.table.cell(row.issued),
        rx.table.cell(row.due),
        rx.table.cell(rx.text(row.gross, white_space="nowrap")),
        rx.table.cell(_status_badge(row)),
        rx.table.cell(_download_button(tr("billing.download"), row.download_label,
                                       InvoicesState.download_invoice(row.number))),
    )


def _document_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row.title),
        rx.table.cell(row.issued),
        rx.table.cell(_download_button(tr("billing.download"), row.download_label,
                                       InvoicesState.download_document(row.id))),
    )


def _totals(total) -> rx.Component:
    return rx.flex(
        stat("billing.totals.total", total.total),
        stat("billing.totals.open", total.open),
        rx.card(
            rx.vstack(
                rx.text(tr("billing.totals.overdue"), size="2", color=rx.color("gray", 11)),
                rx.text(total.overdue, size="6", weight="bold",
                        color=rx.cond(total.has_overdue != "", rx.color("red", 11), rx.color("gray", 12))),
                spacing="1",
            ),
            min_width="150px",
            flex="1",
        ),
        wrap="wrap",
        gap="3",
        width="100%",
    )


def invoices_page() -> rx.Component:
    return gated_page(
        InvoicesState,
        rx.vstack(
            page_heading("billing.title"),
            rx.cond(InvoicesState.error != "", rx.callout(InvoicesState.error, icon="circle-x", color_scheme="red",
                                                          role="alert", width="100%")),
            rx.foreach(InvoicesState.totals, _totals),
            rx.heading(tr("billing.invoices"), size="4", as_="h2"),
            rx.cond(
                InvoicesState.invoices.length() > 0,
                data_table(["billing.col.number", "billing.col.issue_date", "billing.col.due_date", "billing.col.gross",
                            "billing.col.status", "common.actions"], InvoicesState.invoices, _invoice_row),
                rx.text(tr("billing.empty.invoices"), size="2", color=rx.color("gray", 11)),
            ),
            rx.heading(tr("billing.documents"), size="4", as_="h2"),
            rx.cond(
                InvoicesState.documents.length() > 0,
                data_table(["billing.col.title", "billing.col.issued_on", "common.actions"], InvoicesState.documents,
                           _document_row),
                rx.text(tr("billing.empty.documents"), size="2", color=rx.color("gray", 11)),
            ),
            spacing="4",
            width="100%",
            align="start",
        ),
    )
