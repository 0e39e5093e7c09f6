"""/support: ticket list, one ticket's conversation with reply and close, new ticket form."""

import reflex as rx

from panel_app.components.forms import panel_form
from panel_app.components.i18n import tr
from panel_app.components.shell import shell
from panel_app.components.ui import confirm_button, data_table, field, page_heading
from panel_app.state.support import SupportState

_STATUS_COLORS = (("open", "blue"), ("answered", "green"), ("closed", "gray"))
# A native select (keyboard and phone pickers for free) drawn like the theme's inputs.
NATIVE_SELECT_STYLE = {
    "width": "100%", "height": "var(--space-6)", "padding": "0 var(--space-2)",
    "border": "1px solid var(--gray-a7)", "border_radius": "var(--radius-2)",
    "background": "var(--color-surface)", "color": "var(--gray-12)", "font_size": "var(--font-size-2)",
}


def _status_badge(status, label) -> rx.Component:
    return rx.badge(label, color_scheme=rx.match(status, *_STATUS_COLORS, "gray"))


def _ticket_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(rx.text(row.subject, weight="medium"),
                                           rx.text(row.number, size="1", color=rx.color("gray", 11)),
                                           spacing="0")),
        rx.table.cell(row.kind),
        rx.table.cell(_status_badge(row.status, row.status_label)),
        rx.table.cell(rx.text(row.updated, white_space="nowrap")),
        rx.table.cell(rx.button(tr("support.view"), size="1", variant="soft", type="button",
                                aria_label=row.view_label, on_click=SupportState.open_ticket(row.id))),
    )


def _message(row) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(row.author, weight="medium", size="2"),
                rx.text(row.when, size="1", color=rx.color("gray", 11)),
                wrap="wrap",
                spacing="3",
                align="baseline",
            ),
            rx.text(row.body, size="2", white_space="pre-wrap", overflow_wrap="anywhere"),
            spacing="2",
            align="start",
        ),
        width="100%",
        background=rx.cond(row.from_support != "", rx.color("indigo", 2), rx.color("gray", 1)),
    )


def _reply_form() -> rx.Component:
    return panel_form(
        rx.vstack(
            field("support.reply",
                  rx.text_area(id="reply-body", name="body", required=True, rows="5", max_length=10000,
                               default_value=SupportState.reply_body, width="100%"),
                  SupportState.reply_error, "reply-body"),
            rx.hstack(
                rx.button(tr("support.send_reply"), type="submit", id="send-reply"),
                confirm_button("support.close", "support.close", SupportState.close_ticket,
                               text_key="support.close_confirm", color="gray"),
                wrap="wrap",
                spacing="2",
            ),
            spacing="3",
            width="100%",
            align="start",
        ),
        on_submit=SupportState.reply,
        reset_on_submit=False,
        key=SupportState.reply_form_key.to_string(),
        width="100%",
    )


def _ticket_view() -> rx.Component:
    return rx.vstack(
        rx.button(rx.icon("arrow-left", size=14, aria_hidden="true"), tr("support.back"), variant="ghost",
                  type="button", on_click=SupportState.back_to_list),
        rx.heading(SupportState.open_title, size="5", as_="h2", overflow_wrap="anywhere"),
        rx.hstack(
            rx.text(SupportState.open_kind_label, size="2", color=rx.color("gray", 11)),
            _status_badge(SupportState.open_status, SupportState.open_status_label),
            wrap="wrap",
            align="center",
        ),
        rx.el.section(
            rx.vstack(rx.foreach(SupportState.open_messages, _message), spacing="3", width="100%"),
            aria_label=tr("support.messages"),
            width="100%",
        ),
        rx.cond(
            SupportState.open_status == "closed",
            rx.callout(tr("support.error.ticket_closed"), icon="info", size="1"),
            _reply_form(),
        ),
        spacing="4",
        width="100%",
        align="start",
    )


def _new_ticket_form() -> rx.Component:
    return rx.card(
        panel_form(
            rx.vstack(
                rx.heading(tr("support.new_ticket"), size="4", as_="h2"),
                field("support.field.kind",
                      rx.el.select(
                          rx.foreach(SupportState.kind_options,
                                     lambda option: rx.el.option(option.label, value=option.value)),
                          id="ticket-kind",
                          name="kind",
                          default_value=SupportState.new_kind,
                          required=True,
                          style=NATIVE_SELECT_STYLE,
                      ),
                      SupportState.new_kind_error, "ticket-kind"),
                field("support.field.subject",
                      rx.input(id="ticket-subject", name="subject", required=True, max_length=200,
                               default_value=SupportState.new_subject, width="100%"),
                      SupportState.new_subject_error, "ticket-subject"),
                field("support.field.body",
                      rx.text_area(id="ticket-body", name="body", required=True, rows="6", max_length=10000,
                                   default_value=SupportState.new_body, width="100%"),
                      SupportState.new_body_error, "ticket-body"),
                rx.button(tr("support.send"), type="submit", id="create-ticket"),
                spacing="3",
                width="100%",
                align="start",
            ),
            on_submit=SupportState.create_ticket,
            reset_on_submit=False,
            key=SupportState.new_form_key.to_string(),
            width="100%",
        ),
        width="100%",
    )


def _ticket_list() -> rx.Component:
    return rx.vstack(
        rx.text(tr("support.intro"), size="2"),
        rx.cond(~SupportState.whole_account,
                rx.text(tr("support.own_only"), size="2", color=rx.color("gray", 11), id="support-own-only")),
        rx.link(tr("letter.link"), href="/support/letter", size="2", id="letter-link"),
        rx.cond(
            SupportState.tickets.length() > 0,
            data_table(["support.field.subject", "support.field.kind", "common.status", "support.col.updated",
                        "common.actions"], SupportState.tickets, _ticket_row),
            rx.text(tr("support.empty"), size="2", color=rx.color("gray", 11)),
        ),
        _new_ticket_form(),
        spacing="4",
        width="100%",
        align="start",
    )


def support_page() -> rx.Component:
    return shell(
        rx.vstack(
            page_heading("support.title"),
            rx.cond(SupportState.message != "", rx.callout(SupportState.message, icon="check", color_scheme="green",
                                                           role="status", width="100%")),
            rx.cond(SupportState.error != "", rx.callout(SupportState.error, icon="circle-x", color_scheme="red",
                                                         role="alert", width="100%")),
            rx.cond(SupportState.open_id != "", _ticket_view(), _ticket_list()),
            spacing="4",
            width="100%",
            align="start",
        )
    )
