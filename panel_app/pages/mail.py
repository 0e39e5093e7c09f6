"""/email: domain selector, mailboxes, forwarders, catch-all.

The forms are the page's parts (``pages/mail_parts.py``), as their state is
(``state/mail_parts.py``)."""

import reflex as rx

from panel_app.components.gate import gated_page
from panel_app.components.i18n import tr
from panel_app.components.ui import data_table, page_heading, percent_bar
from panel_app.pages.mail_parts import (
    catch_all_card, create_form, forwarder_delete_button, forwarder_form, mailbox_actions, mailbox_editors,
)
from panel_app.state.mail import MailState

_MUTED = rx.color("gray", 11)


def _callouts() -> rx.Component:
    return rx.fragment(
        rx.cond(MailState.message != "", rx.callout(MailState.message, icon="check", color_scheme="green",
                                                    role="status", width="100%")),
        rx.cond(MailState.error != "", rx.callout(MailState.error, icon="circle-x", color_scheme="red",
                                                  role="alert", width="100%")),
    )


def _domain_selector() -> rx.Component:
    return rx.vstack(
        rx.el.label(tr("mailui.domain"), html_for="mail-domain", class_name="field-label"),
        rx.select.root(
            rx.select.trigger(id="mail-domain", min_width="16em", max_width="100%"),
            rx.select.content(rx.foreach(MailState.domain_options,
                                         lambda name: rx.select.item(name, value=name))),
            value=MailState.selected_domain,
            on_change=MailState.select_domain,
        ),
        spacing="1",
    )


# --- mailboxes ------------------------------------------------------------------------------


def _mailbox_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(row.address, weight="medium", word_break="break-all")),
        rx.table.cell(row.quota),
        rx.table.cell(rx.vstack(rx.text(row.usage, size="1"), percent_bar(row.percent), spacing="1",
                                min_width="120px")),
        rx.table.cell(mailbox_actions(row)),
    )


def _mailboxes() -> rx.Component:
    return rx.vstack(
        rx.heading(tr("mailui.mailboxes.title"), size="4", as_="h2"),
        rx.cond(
            MailState.mailboxes.length() > 0,
            data_table(["mailui.col.address", "mailui.col.quota", "mailui.col.usage", "common.actions"],
                       MailState.mailboxes, _mailbox_row),
            rx.text(tr("mailui.mailboxes.empty"), size="2", color=_MUTED),
        ),
        *mailbox_editors(),
        create_form(),
        spacing="3",
        width="100%",
        align="start",
    )


# --- forwarders and catch-all ---------------------------------------------------------------


def _forwarder_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(row.address, weight="medium", word_break="break-all")),
        rx.table.cell(rx.text(row.destination, word_break="break-all")),
        rx.table.cell(forwarder_delete_button(row)),
    )


def _forwarders() -> rx.Component:
    return rx.vstack(
        rx.heading(tr("mailui.forwarders.title"), size="4", as_="h2"),
        rx.cond(
            MailState.forwarders.length() > 0,
            data_table(["mailui.col.address", "mailui.col.destination", "common.actions"],
                       MailState.forwarders, _forwarder_row),
            rx.text(tr("mailui.forwarders.empty"), size="2", color=_MUTED),
        ),
        forwarder_form(),
        spacing="3",
        width="100%",
        align="start",
    )


def _content() -> rx.Component:
    return rx.vstack(
        page_heading("mailui.title"),
        rx.text(tr("mailui.intro"), size="2"),
        _callouts(),
        rx.cond(
            MailState.domain_options.length() > 0,
            rx.vstack(
                _domain_selector(),
                _mailboxes(),
                _forwarders(),
                catch_all_card(),
                spacing="4",  # between cards as on every page
                width="100%",
                align="start",
            ),
            rx.text(tr("mailui.no_domains"), size="2", id="mail-no-domains"),
        ),
        spacing="4",
        width="100%",
        align="start",
    )


def email_page() -> rx.Component:
    return gated_page(MailState, _content())
