"""/domains/[domain]: header, transfer lock, auth code, DNS records, undo, zone file.

The auth code card and the record form are the page's parts (``pages/dns_parts.py``),
as their state is (``state/dns_parts.py``)."""

import reflex as rx

from panel_app.components.gate import gated_page
from panel_app.components.i18n import tr
from panel_app.components.ui import confirm_button, data_table
from panel_app.pages.dns_parts import auth_code_card, edit_record_button, record_form
from panel_app.state.auth import AuthState
from panel_app.state.dns import DnsState

_MUTED = rx.color("gray", 11)


def _callouts() -> rx.Component:
    return rx.fragment(
        rx.cond(DnsState.message != "", rx.callout(DnsState.message, icon="check", color_scheme="green",
                                                   role="status", width="100%")),
        rx.cond(DnsState.error != "", rx.callout(DnsState.error, icon="circle-x", color_scheme="red",
                                                 role="alert", width="100%")),
    )


# --- header and transfer lock -------------------------------------------------------------


def _header() -> rx.Component:
    return rx.vstack(
        rx.link(rx.hstack(rx.icon("arrow-left", size=14, aria_hidden="true"), tr("dnsui.back"), spacing="1",
                          align="center"), href="/domains", size="2"),
        rx.hstack(
            rx.heading(DnsState.display_name, size="6", as_="h1", id="domain-name", word_break="break-all"),
            rx.badge(DnsState.status_label, color_scheme=rx.cond(DnsState.status == "active", "green", "gray")),
            align="center",
            wrap="wrap",
        ),
        rx.text(tr("dnsui.subtitle"), size="2", color=_MUTED),
        rx.hstack(
            rx.text(tr("dnsui.expires"), ": ", size="2", weight="medium"),
            rx.text(DnsState.expires, size="2", id="domain-expires"),
            rx.text(tr("dnsui.auto_renew"), ": ", size="2", weight="medium"),
            rx.text(rx.cond(DnsState.auto_renew, tr("common.yes"), tr("common.no")), size="2"),
            wrap="wrap",
            spacing="2",
        ),
        rx.cond(AuthState.areas.contains("email"),
                rx.link(tr("dnsui.email_link"), href="/email?domain=" + DnsState.domain_name, size="2")),
        spacing="2",
        width="100%",
        align="start",
    )


def _lock_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(tr("dnsui.lock.title"), size="4", as_="h2"),
            rx.el.label(
                rx.hstack(
                    rx.switch(checked=DnsState.transfer_lock, on_change=DnsState.change_transfer_lock,
                              id="transfer-lock"),
                    rx.text(tr("dnsui.lock.label"), size="2"),
                    align="center",
                    spacing="2",
                ),
                html_for="transfer-lock",
            ),
            rx.text(rx.cond(DnsState.transfer_lock, tr("dnsui.lock.on"), tr("dnsui.lock.off")), size="2",
                    color=_MUTED, id="transfer-lock-state"),
            rx.alert_dialog.root(
                rx.alert_dialog.content(
                    rx.alert_dialog.title(tr("dnsui.lock.confirm_title")),
                    rx.alert_dialog.description(tr("dnsui.lock.confirm_text")),
                    rx.hstack(
                        rx.alert_dialog.cancel(rx.button(tr("common.cancel"), variant="soft",
                                                         on_click=DnsState.cancel_unlock)),
                        rx.alert_dialog.action(rx.button(tr("dnsui.lock.confirm_button"), color_scheme="red",
                                                         on_click=DnsState.confirm_unlock_transfer,
                                                         id="unlock-confirm")),
                        justify="end",
                        margin_top="1em",
                        wrap="wrap",
                    ),
                ),
                open=DnsState.confirm_unlock,
                on_open_change=DnsState.cancel_unlock,  # Escape: only ever closes it
            ),
            spacing="2",
            align="start",
        ),
        width="100%",
    )


# --- records ------------------------------------------------------------------------------


def _record_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(
            rx.text(row.name, class_name="mono", weight="medium"),
            rx.text(row.fqdn, size="1", color=_MUTED, class_name="wrap-anywhere"),
            spacing="0",
        )),
        rx.table.cell(rx.badge(row.rtype, variant="outline")),
        rx.table.cell(row.ttl, class_name="nowrap"),
        rx.table.cell(rx.vstack(
            # Only a value too long for its line (TXT) breaks, and only where it must.
            rx.text(row.value, class_name="mono wrap-anywhere", size="2", white_space="pre-wrap", max_width="32em"),
            rx.cond(row.problem != "",
                    rx.hstack(rx.badge(tr("dnsui.problem"), color_scheme="amber"),
                              rx.text(row.problem, size="1", color=rx.color("amber", 11)),
                              wrap="wrap", spacing="2")),
            spacing="1",
        )),
        rx.table.cell(rx.hstack(
            edit_record_button(row),
            confirm_button("common.delete", "dnsui.delete_title", DnsState.delete_record(row.id), size="1",
                            description=rx.vstack(
                                rx.text(row.rtype + " " + row.fqdn, weight="medium",
                                        word_break="break-all"),
                                rx.text(row.value, class_name="mono wrap-anywhere", size="1"),
                                rx.text(tr("dnsui.delete_text")),
                                spacing="2",
                            )),
            spacing="2",
            wrap="wrap",
        )),
        class_name="record-row",
    )


def _records() -> rx.Component:
    return rx.vstack(
        rx.heading(tr("dnsui.records.title"), size="4", as_="h2"),
        rx.cond(DnsState.zone_error != "",
                rx.callout(DnsState.zone_error, icon="triangle-alert", color_scheme="amber", role="status",
                           width="100%", id="zone-error")),
        rx.cond(
            DnsState.records.length() > 0,
            data_table(["dnsui.col.name", "dnsui.col.type", "dnsui.col.ttl", "dnsui.col.value",
                        "common.actions"], DnsState.records, _record_row, cards=True),
            rx.text(tr("dnsui.records.empty"), size="2", color=_MUTED),
        ),
        spacing="3",
        width="100%",
        align="start",
    )


# --- undo and zone file ---------------------------------------------------------------------


def _undo_and_zone() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.cond(
                DnsState.undo_label != "",
                rx.vstack(
                    rx.hstack(rx.text(tr("dnsui.undo.will_undo"), size="2", weight="medium"),
                              rx.text(DnsState.undo_label, size="2", id="undo-label"),
                              wrap="wrap", spacing="2"),
                    rx.button(rx.icon("undo-2", size=14, aria_hidden="true"), tr("dnsui.undo.button"),
                              variant="soft", type="button", on_click=DnsState.undo_last_change,
                              id="undo-button"),
                    spacing="2",
                    align="start",
                ),
                rx.text(tr("dnsui.undo.none"), size="2", color=_MUTED),
            ),
            rx.separator(size="4"),
            rx.hstack(
                rx.cond(
                    DnsState.zone_text != "",
                    rx.button(tr("dnsui.zone.hide"), variant="soft", type="button",
                              on_click=DnsState.hide_zone_file, aria_expanded="true",
                              aria_controls="zone-file"),
                    rx.button(tr("dnsui.zone.show"), variant="soft", type="button",
                              on_click=DnsState.show_zone_file, aria_expanded="false", id="zone-show"),
                ),
                rx.button(rx.icon("download", size=14, aria_hidden="true"), tr("dnsui.zone.download"),
                          variant="ghost", type="button", on_click=DnsState.download_zone_file),
                wrap="wrap",
            ),
            rx.cond(
                DnsState.zone_text != "",
                rx.box(
                    rx.el.pre(DnsState.zone_text, class_name="mono", margin="0", font_size="0.8em",
                              aria_label=tr("dnsui.zone.title"), tab_index=0),
                    overflow_x="auto",
                    width="100%",
                    padding="0.75em",
                    border_radius="6px",
                    background=rx.color("gray", 3),
                    id="zone-file",
                ),
            ),
            spacing="3",
            width="100%",
            align="start",
        ),
        width="100%",
    )


def _content() -> rx.Component:
    return rx.cond(
        DnsState.not_found,
        rx.vstack(
            rx.link(tr("dnsui.back"), href="/domains", size="2"),
            rx.callout(tr("domains.error.not_found"), icon="circle-x", color_scheme="red", role="alert",
                       id="domain-not-found"),
            rx.text(tr("dnsui.not_found_hint"), size="2"),
            spacing="3",
            align="start",
            width="100%",
        ),
        rx.vstack(
            _header(),
            _callouts(),
            rx.flex(_lock_card(), auth_code_card(), gap="4", width="100%",
                    direction=rx.breakpoints(initial="column", md="row")),
            _records(),
            record_form(),
            _undo_and_zone(),
            spacing="4",
            width="100%",
            align="start",
        ),
    )


def domain_page() -> rx.Component:
    return gated_page(DnsState, _content())
