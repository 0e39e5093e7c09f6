"""The parts of the /domains/[domain] page (pages/dns.py): the auth code card and the
add/edit form of a record, each bound to its part of the page state
(``state/dns_parts.py``)."""

import reflex as rx

from panel_app.components.forms import panel_form
from panel_app.components.i18n import tr
from panel_app.components.ui import confirm_button, countdown, field
from panel_app.services.dns_rules import CAA_TAGS, RECORD_TYPES
from panel_app.state.dns_parts import (
    AUTH_CODE_ELEMENT_ID, RECORD_FORM_FIRST_FIELD_ID, RECORD_FORM_ID, RECORD_FORM_STATUS_ID, DnsAuthCodeState,
    DnsRecordFormState,
)

_MUTED = rx.color("gray", 11)


def _field_error(error) -> rx.Component:
    return rx.cond(error != "", rx.text(error, class_name="field-error", role="alert"))


# --- auth code ----------------------------------------------------------------------------


def auth_code_card() -> rx.Component:
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


# --- the add / edit form --------------------------------------------------------------------


def edit_record_button(row) -> rx.Component:
    """In a record's row: opens the form on it."""
    return rx.button(tr("dnsui.edit"), size="1", variant="soft", type="button", id="edit-record-" + row.id,
                     on_click=DnsRecordFormState.start_edit(row.id))


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
        rx.el.label(tr("dnsui.form.type"), html_for=RECORD_FORM_FIRST_FIELD_ID, class_name="field-label"),
        rx.select.root(
            rx.select.trigger(id=RECORD_FORM_FIRST_FIELD_ID, width="100%"),
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


def record_form() -> rx.Component:
    rtype = DnsRecordFormState.form_rtype
    editing = DnsRecordFormState.editing_id != ""
    return rx.card(
        panel_form(
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
            # What is typed survives a grant's end (assets/panel.js): one draft per record, and
            # the record's Edit button reopens its form after the verification.
            custom_attrs={"data-draft-key": "record-" + DnsRecordFormState.editing_id,
                          "data-draft-opener": rx.cond(editing, "edit-record-" + DnsRecordFormState.editing_id, "")},
            width="100%",
        ),
        # Outside the form (which is remounted after a save), so a screen reader hears it.
        rx.box(
            rx.cond(DnsRecordFormState.form_message != "",
                    rx.callout(DnsRecordFormState.form_message, icon="check", color_scheme="green", size="1",
                               width="100%", margin_top="0.75em")),
            id=RECORD_FORM_STATUS_ID,
            role="status",
            width="100%",
        ),
        width="100%",
        id=RECORD_FORM_ID,
        # Which version of the form the browser shows: where "Edit" moves the focus (panel.js).
        data_form_key=DnsRecordFormState.form_key.to_string(),
    )


def _hint_with_id(key: str, id_: str) -> rx.Component:
    return rx.text(tr(key), size="1", color=_MUTED, id=id_)


