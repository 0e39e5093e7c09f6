"""/domains/[domain]: header, transfer lock, auth code, DNS records, undo, zone file."""

import reflex as rx

from panel_app.components.gate import gated_page
from panel_app.components.i18n import tr
from panel_app.components.ui import confirm_button, countdown, data_table, field
from panel_app.services.dns_rules import CAA_TAGS, RECORD_TYPES
from panel_app.state.auth import AuthState
from panel_app.state.dns import AUTH_CODE_ELEMENT_ID, DnsAuthCodeState, DnsRecordFormState, DnsState

_MUTED = rx.color("gray", 11)



def _field_error(error) -> rx.Component:
    return rx.cond(error != "", rx.text(error, class_name="field-error", role="alert"))


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


# --- auth code ----------------------------------------------------------------------------


def _auth_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(tr("dnsui.auth.title"), size="4", as_="h2"),
            rx.text(tr("dnsui.auth.intro"), size="2", color=_MUTED),
            rx.cond(
                DnsAuthCodeState.auth_code_shown,
                rx.vstack(
                    rx.text(tr("dnsui.auth.label"), size="2", weight="medium"),
                    rx.hstack(
                        # Filled by the reveal itself: the code is never in the page's state.
                        rx.code(size="4", class_name="mono", id=AUTH_CODE_ELEMENT_ID, word_break="break-all"),
                        rx.button(rx.icon("copy", size=14, aria_hidden="true"), tr("dnsui.auth.copy"),
                                  size="1", variant="soft", type="button",
                                  on_click=rx.call_script(
                                      f"navigator.clipboard.writeText(document.getElementById("
                                      f"'{AUTH_CODE_ELEMENT_ID}').textContent)")),
                        rx.button(tr("dnsui.auth.hide"), size="1", variant="soft", type="button",
                                  on_click=DnsAuthCodeState.hide_auth_code, id="auth-code-hide"),
                        align="center",
                        wrap="wrap",
                    ),
                    rx.text(tr("dnsui.auth.hides_in"), " ",
                            countdown(DnsAuthCodeState.auth_code_seconds_left, DnsAuthCodeState.auth_code_stamp,
                                      id_="auth-code-countdown", on_zero=DnsAuthCodeState.hide_auth_code),
                            size="1", color=_MUTED, aria_live="off"),
                    spacing="2",
                    align="start",
                ),
                rx.button(rx.icon("eye", size=14, aria_hidden="true"), tr("dnsui.auth.show"), type="button",
                          on_click=DnsAuthCodeState.reveal_auth_code, id="auth-code-show"),
            ),
            rx.cond(DnsAuthCodeState.auth_error != "",
                    rx.text(DnsAuthCodeState.auth_error, class_name="field-error", role="alert")),
            confirm_button("dnsui.auth.regenerate", "dnsui.auth.regenerate_title", DnsAuthCodeState.regenerate_auth_code,
                           text_key="dnsui.auth.regenerate_text", size="1", trigger_id="auth-code-regenerate"),
            spacing="3",
            align="start",
        ),
        width="100%",
    )


# --- records ------------------------------------------------------------------------------


def _record_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(
            rx.text(row.name, class_name="mono", weight="medium"),
            rx.text(row.fqdn, size="1", color=_MUTED, word_break="break-all"),
            spacing="0",
        )),
        rx.table.cell(rx.badge(row.rtype, variant="outline")),
        rx.table.cell(row.ttl),
        rx.table.cell(rx.vstack(
            rx.text(row.value, class_name="mono", size="2", white_space="pre-wrap", word_break="break-all",
                    max_width="32em"),
            rx.cond(row.problem != "",
                    rx.hstack(rx.badge(tr("dnsui.problem"), color_scheme="amber"),
                              rx.text(row.problem, size="1", color=rx.color("amber", 11)),
                              wrap="wrap", spacing="2")),
            spacing="1",
        )),
        rx.table.cell(rx.hstack(
            rx.button(tr("dnsui.edit"), size="1", variant="soft", type="button",
                      on_click=DnsRecordFormState.start_edit(row.id)),
            confirm_button("common.delete", "dnsui.delete_title", DnsState.delete_record(row.id), size="1",
                            description=rx.vstack(
                                rx.text(row.rtype + " " + row.fqdn, weight="medium",
                                        word_break="break-all"),
                                rx.text(row.value, class_name="mono", size="1", word_break="break-all"),
                                rx.text(tr("dnsui.delete_text")),
                                spacing="2",
                            )),
            spacing="2",
            wrap="wrap",
        )),
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
                        "common.actions"], DnsState.records, _record_row),
            rx.text(tr("dnsui.records.empty"), size="2", color=_MUTED),
        ),
        spacing="3",
        width="100%",
        align="start",
    )


# --- the add / edit form --------------------------------------------------------------------


def _text_input(name: str, control_id: str, default, **props) -> rx.Component:
    return rx.input(id=control_id, name=name, default_value=default, width="100%", auto_complete="off",
                    aria_describedby=control_id + "-hint", **props)


def _number_field(label_key: str, name: str, default, error, hint_key: str = "dnsui.form.number_hint"
                  ) -> rx.Component:
    control_id = f"dns-{name}"
    return rx.box(
        field(label_key, _text_input(name, control_id, default, input_mode="numeric", max_length=10), error,
              control_id),
        rx.text(tr(hint_key), size="1", color=_MUTED, id=control_id + "-hint"),
        flex="1",
        min_width="8em",
    )


def _value_label() -> rx.Component:
    return rx.match(DnsRecordFormState.form_rtype, *[(rtype, tr(f"dnsui.value.{rtype}")) for rtype in RECORD_TYPES],
                    tr("dnsui.col.value"))


def _value_hint() -> rx.Component:
    return rx.match(DnsRecordFormState.form_rtype, *[(rtype, tr(f"dnsui.hint.{rtype}")) for rtype in RECORD_TYPES],
                    "")


def _value_field() -> rx.Component:
    common = dict(id="dns-value", name="value", default_value=DnsRecordFormState.form_value, width="100%",
                  aria_describedby="dns-value-hint", class_name="mono")
    return rx.vstack(
        rx.el.label(_value_label(), html_for="dns-value", class_name="field-label"),
        rx.cond(DnsRecordFormState.form_rtype == "TXT",
                rx.text_area(rows="3", max_length=5000, **common),
                rx.input(max_length=1000, auto_complete="off", **common)),
        rx.text(_value_hint(), size="1", color=_MUTED, id="dns-value-hint"),
        _field_error(DnsRecordFormState.value_error),
        spacing="1",
        width="100%",
        align="stretch",
    )


def _type_select() -> rx.Component:
    return rx.vstack(
        rx.el.label(tr("dnsui.form.type"), html_for="dns-type", class_name="field-label"),
        rx.select.root(
            rx.select.trigger(id="dns-type", width="100%"),
            rx.select.content(*[rx.select.item(rtype, value=rtype) for rtype in RECORD_TYPES]),
            name="rtype",
            value=DnsRecordFormState.form_rtype,
            on_change=DnsRecordFormState.set_form_type,
        ),
        _field_error(DnsRecordFormState.rtype_error),
        spacing="1",
        min_width="8em",
    )


def _tag_select() -> rx.Component:
    return rx.vstack(
        rx.el.label(tr("dnsui.form.tag"), html_for="dns-tag", class_name="field-label"),
        rx.select.root(
            rx.select.trigger(id="dns-tag", width="100%"),
            rx.select.content(*[rx.select.item(tag, value=tag) for tag in CAA_TAGS]),
            name="tag",
            default_value=DnsRecordFormState.form_tag,
        ),
        _field_error(DnsRecordFormState.tag_error),
        spacing="1",
        flex="1",
        min_width="10em",
    )


def _row(*children) -> rx.Component:
    """Fields side by side on wide screens, stacked on phones."""
    return rx.flex(*children, gap="3", width="100%", direction=rx.breakpoints(initial="column", sm="row"),
                   align=rx.breakpoints(initial="stretch", sm="start"))


def _record_form() -> rx.Component:
    rtype = DnsRecordFormState.form_rtype
    editing = DnsRecordFormState.editing_id != ""
    return rx.card(
        rx.form(
            rx.vstack(
                rx.hstack(
                    rx.heading(rx.cond(editing, tr("dnsui.form.edit_title"), tr("dnsui.form.add_title")),
                               size="4", as_="h2", id="record-form-title"),
                    rx.spacer(),
                    rx.cond(editing, rx.button(tr("dnsui.form.new"), size="1", variant="ghost", type="button",
                                               on_click=DnsRecordFormState.start_add)),
                    width="100%",
                    align="center",
                ),
                _row(
                    _type_select(),
                    rx.box(
                        field("dnsui.form.name", _text_input("name", "dns-name", DnsRecordFormState.form_name,
                                                             max_length=300, placeholder="@"),
                              DnsRecordFormState.name_error, "dns-name"),
                        _hint_with_id("dnsui.form.name_hint", "dns-name-hint"),
                        flex="2",
                        width="100%",
                    ),
                    _number_field("dnsui.form.ttl", "ttl", DnsRecordFormState.form_ttl, DnsRecordFormState.ttl_error,
                                  "dnsui.form.ttl_hint"),
                ),
                rx.cond((rtype == "MX") | (rtype == "SRV"),
                        _row(
                            _number_field("dnsui.form.priority", "priority", DnsRecordFormState.form_priority,
                                          DnsRecordFormState.priority_error),
                            rx.cond(rtype == "SRV",
                                    _number_field("dnsui.form.weight", "weight", DnsRecordFormState.form_weight,
                                                  DnsRecordFormState.weight_error)),
                            rx.cond(rtype == "SRV",
                                    _number_field("dnsui.form.port", "port", DnsRecordFormState.form_port,
                                                  DnsRecordFormState.port_error)),
                        )),
                rx.cond(rtype == "CAA",
                        _row(
                            _number_field("dnsui.form.flags", "flags", DnsRecordFormState.form_flags,
                                          DnsRecordFormState.flags_error, "dnsui.form.flags_hint"),
                            _tag_select(),
                        )),
                _value_field(),
                rx.cond(DnsRecordFormState.form_error != "",
                        rx.callout(DnsRecordFormState.form_error, icon="circle-x", color_scheme="red", role="alert",
                                   size="1", width="100%")),
                rx.hstack(
                    rx.button(rx.cond(editing, tr("common.save"), tr("dnsui.form.add_submit")), type="submit",
                              id="record-submit"),
                    rx.cond(editing, rx.button(tr("common.cancel"), type="button", variant="soft",
                                               on_click=DnsRecordFormState.cancel_edit)),
                    wrap="wrap",
                ),
                spacing="3",
                width="100%",
                align="start",
            ),
            on_submit=DnsRecordFormState.save_record,
            reset_on_submit=False,
            key=DnsRecordFormState.form_key.to_string(),
            width="100%",
        ),
        width="100%",
        id="record-form",
    )


def _hint_with_id(key: str, id_: str) -> rx.Component:
    return rx.text(tr(key), size="1", color=_MUTED, id=id_)


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
            rx.flex(_lock_card(), _auth_card(), gap="4", width="100%",
                    direction=rx.breakpoints(initial="column", md="row")),
            _records(),
            _record_form(),
            _undo_and_zone(),
            spacing="4",
            width="100%",
            align="start",
        ),
    )


def domain_page() -> rx.Component:
    return gated_page(DnsState, _content())
