"""/payment-methods: masked methods, default, remove (confirmed), add card / SEPA."""

import reflex as rx

from panel_app.components.forms import panel_form
from panel_app.components.gate import gated_page
from panel_app.components.i18n import tr
from panel_app.components.ui import confirm_button, data_table, field, page_heading
from panel_app.state.payments import PaymentsState


def _remove_button(row) -> rx.Component:
    return confirm_button("payments.remove", "payments.remove_title", PaymentsState.remove(row.id), size="1",
                          description=rx.vstack(rx.text(row.label, weight="medium"),
                                                rx.text(tr("payments.remove_confirm"))),
                          aria_label=row.remove_label)


def _method_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.vstack(
                rx.hstack(
                    rx.text(row.label, weight="medium"),
                    rx.cond(row.default != "", rx.badge(tr("payments.default"), color_scheme="green")),
                    rx.cond(row.expired != "", rx.badge(tr("payments.expired"), color_scheme="red")),
                    wrap="wrap",
                    spacing="2",
                    align="center",
                ),
                rx.text(row.kind_label, size="1", color=rx.color("gray", 11)),
                spacing="1",
            )
        ),
        rx.table.cell(row.holder),
        rx.table.cell(
            rx.hstack(
                rx.cond(
                    (row.default == "") & (row.expired == ""),
                    rx.button(tr("payments.make_default"), size="1", variant="soft", type="button",
                              aria_label=row.default_label, on_click=PaymentsState.make_default(row.id)),
                ),
                _remove_button(row),
                wrap="wrap",
                spacing="2",
            )
        ),
    )


def _row_of_fields(*children) -> rx.Component:
    """Side by side on wide screens, stacked at phone width."""
    return rx.flex(*children, gap="3", width="100%", direction=rx.breakpoints(initial="column", sm="row"))


def _card_form() -> rx.Component:
    return rx.card(
        panel_form(
            rx.vstack(
                rx.heading(tr("payments.add_card"), size="4", as_="h2"),
                rx.text(tr("payments.card_intro"), size="2", color=rx.color("gray", 11)),
                field("payments.field.number",
                      rx.input(id="card-number", name="number", auto_complete="cc-number", input_mode="numeric",
                               max_length=23, required=True, class_name="mono", width="100%"),
                      PaymentsState.card_number_error, "card-number"),
                _row_of_fields(
                    field("payments.field.exp_month",
                          rx.input(id="card-exp-month", name="exp_month", auto_complete="cc-exp-month",
                                   input_mode="numeric", max_length=2, required=True,
                                   placeholder=tr("payments.placeholder.month"),
                                   default_value=PaymentsState.card_exp_month, width="100%"),
                          PaymentsState.card_exp_month_error, "card-exp-month"),
                    field("payments.field.exp_year",
                          rx.input(id="card-exp-year", name="exp_year", auto_complete="cc-exp-year",
                                   input_mode="numeric", max_length=4, required=True,
                                   placeholder=tr("payments.placeholder.year"),
                                   default_value=PaymentsState.card_exp_year, width="100%"),
                          PaymentsState.card_exp_year_error, "card-exp-year"),
                ),
                field("payments.field.holder",
                      rx.input(id="card-holder", name="holder", auto_complete="cc-name", max_length=200,
                               required=True, default_value=PaymentsState.card_holder, width="100%"),
                      PaymentsState.card_holder_error, "card-holder"),
                rx.button(tr("payments.add_card"), type="submit", id="add-card"),
                spacing="3",
                width="100%",
                align="start",
            ),
            on_submit=PaymentsState.add_card,
            reset_on_submit=False,
            # The server checks every field and answers with all errors at once, each beside
            # its field; the browser's own check would stop at the first empty one.
            no_validate=True,
            key=PaymentsState.card_form_key.to_string(),
            id="card-form",
            # Never kept as a draft in the browser (assets/panel.js): the card number goes no
            # further than the event that adds it.
            custom_attrs={"data-no-draft": ""},
            width="100%",
        ),
        width="100%",
    )


def _sepa_form() -> rx.Component:
    return rx.card(
        panel_form(
            rx.vstack(
                rx.heading(tr("payments.add_sepa"), size="4", as_="h2"),
                field("payments.field.iban",
                      rx.input(id="sepa-iban", name="iban", auto_complete="off", max_length=42, required=True,
                               class_name="mono", spell_check=False, width="100%"),
                      PaymentsState.sepa_iban_error, "sepa-iban"),
                field("payments.field.holder",
                      rx.input(id="sepa-holder", name="holder", auto_complete="name", max_length=200, required=True,
                               default_value=PaymentsState.sepa_holder, width="100%"),
                      PaymentsState.sepa_holder_error, "sepa-holder"),
                rx.text(tr("payments.sepa_mandate"), size="1", color=rx.color("gray", 11)),
                rx.button(tr("payments.add_sepa"), type="submit", id="add-sepa"),
                spacing="3",
                width="100%",
                align="start",
            ),
            on_submit=PaymentsState.add_sepa,
            reset_on_submit=False,
            key=PaymentsState.sepa_form_key.to_string(),
            id="sepa-form",
            custom_attrs={"data-no-draft": ""},  # the IBAN is never a draft either
            width="100%",
        ),
        width="100%",
    )


def payment_methods_page() -> rx.Component:
    return gated_page(
        PaymentsState,
        rx.vstack(
            page_heading("payments.title"),
            rx.cond(PaymentsState.message != "", rx.callout(PaymentsState.message, icon="check", color_scheme="green",
                                                            role="status", width="100%")),
            rx.cond(PaymentsState.error != "", rx.callout(PaymentsState.error, icon="circle-x", color_scheme="red",
                                                          role="alert", width="100%", id="payments-error")),
            rx.cond(
                PaymentsState.methods.length() > 0,
                data_table(["payments.col.method", "payments.col.holder", "common.actions"], PaymentsState.methods,
                           _method_row),
                rx.text(tr("payments.empty"), size="2", color=rx.color("gray", 11)),
            ),
            rx.grid(_card_form(), _sepa_form(), columns=rx.breakpoints(initial="1", md="2"), gap="4",
                    width="100%"),
            spacing="4",
            width="100%",
            align="start",
        ),
    )
