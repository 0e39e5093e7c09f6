"""/security: methods, authenticator app, recovery codes, sessions."""

import reflex as rx

from panel_app.components.forms import panel_form
from panel_app.components.gate import gated_page, method_label
from panel_app.components.i18n import tr, tr_format
from panel_app.components.passkey import passkey_ceremony
from panel_app.components.ui import confirm_button, data_table, field, page_heading
from panel_app.state.security import (
    RECOVERY_CODES_ELEMENT_ID, TOTP_QR_ELEMENT_ID, TOTP_SECRET_ELEMENT_ID, SecurityState,
)


def _preferred() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(tr("security.preferred_title"), size="4", as_="h2"),
            rx.text(tr("security.preferred_intro"), size="2"),
            rx.radio_group.root(
                rx.foreach(SecurityState.channel_choices,
                           lambda m: rx.el.label(rx.hstack(rx.radio_group.item(value=m), method_label(m),
                                                           spacing="2", align="center"))),
                value=SecurityState.preferred_channel,
                on_change=SecurityState.set_preferred,
                direction="row",
                spacing="4",
                aria_label=tr("security.preferred_title"),
            ),
            rx.text(tr("security.cannot_disable"), size="1", color=rx.color("gray", 11)),
            spacing="3",
        ),
        width="100%",
    )


def _enrollment() -> rx.Component:
    return rx.vstack(
        rx.text(tr("security.enroll_step1"), size="2"),
        # Both filled by the event that started the set-up, never from the page's state.
        rx.el.img(id=TOTP_QR_ELEMENT_ID, alt=tr("security.qr_alt"), width="200", height="200",
                  style={"background": "white", "padding": "8px", "border-radius": "8px"}),
        rx.text(tr("security.enroll_secret_label"), size="2"),
        rx.code(id=TOTP_SECRET_ELEMENT_ID, size="3"),
        panel_form(
            rx.vstack(
                rx.el.label(tr("gate.code_label"), html_for="enroll-code", class_name="field-label"),
                rx.hstack(
                    rx.input(id="enroll-code", name="code", auto_complete="one-time-code", input_mode="numeric",
                             max_length=10, required=True, class_name="mono", width="10em"),
                    rx.button(tr("security.enroll_confirm"), type="submit", id="enroll-confirm"),
                    rx.button(tr("common.cancel"), type="button", variant="soft",
                              on_click=SecurityState.cancel_enrollment),
                    wrap="wrap",
                ),
                spacing="1",
            ),
            on_submit=SecurityState.confirm_enrollment,
            reset_on_submit=True,
        ),
        spacing="3",
        align="start",
    )


RECOVERY_CODES_SHEET_ID = "recovery-codes-sheet"
RECOVERY_CODES_STATUS_ID = "recovery-codes-status"
RECOVERY_CODES_FILENAME = "panel-recovery-codes.txt"


def _codes_actions() -> rx.Component:
    """Copy, Download and Print of the codes on the page: done in the browser from the text
    already revealed (assets/panel.js), so the codes never go back to or stay on the server."""
    common = {"data_status": RECOVERY_CODES_STATUS_ID, "data_failed": tr("security.codes.gone"),
              "type": "button", "size": "1", "variant": "outline"}
    return rx.vstack(
        rx.hstack(
            rx.button(rx.icon("copy", size=14, aria_hidden="true"), tr("security.codes.copy"), id="codes-copy",
                      aria_label=tr("security.codes.copy_label"), data_panel_copy=RECOVERY_CODES_ELEMENT_ID,
                      data_done=tr("security.codes.copied"), **{**common, "data_failed": tr("security.codes.copy_failed")}),
            rx.button(rx.icon("download", size=14, aria_hidden="true"), tr("security.codes.download"),
                      id="codes-download", aria_label=tr("security.codes.download_label"),
                      data_panel_download=RECOVERY_CODES_ELEMENT_ID, data_filename=RECOVERY_CODES_FILENAME,
                      data_header=tr("security.codes.file_header"), data_done=tr("security.codes.downloaded"),
                      **common),
            rx.button(rx.icon("printer", size=14, aria_hidden="true"), tr("security.codes.print"), id="codes-print",
                      aria_label=tr("security.codes.print_label"), data_panel_print=RECOVERY_CODES_SHEET_ID,
                      data_done=tr("security.codes.printed"), **common),
            wrap="wrap",
            spacing="2",
        ),
        rx.el.p(id=RECOVERY_CODES_STATUS_ID, role="status", aria_live="polite"),
        spacing="1",
    )


def _totp_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(tr("gate.method.totp"), size="4", as_="h2"),
            rx.cond(
                SecurityState.totp_enabled,
                rx.vstack(
                    rx.hstack(rx.badge(tr("security.totp_on"), color_scheme="green"),
                              rx.text(tr_format("security.recovery_left", count=SecurityState.recovery_left), size="2"),
                              wrap="wrap"),
                    rx.hstack(
                        rx.button(tr("security.regenerate"), variant="soft", on_click=SecurityState.regenerate_codes),
                        confirm_button("security.totp_remove", "security.totp_remove", SecurityState.remove_totp,
                                       text_key="security.totp_remove_confirm"),
                        wrap="wrap",
                    ),
                    align="start",
                ),
                rx.cond(
                    SecurityState.enrolling,
                    _enrollment(),
                    rx.vstack(
                        rx.text(tr("security.totp_intro"), size="2"),
                        rx.button(tr("security.totp_setup"), on_click=SecurityState.begin_enrollment,
                                  id="totp-setup"),
                        align="start",
                    ),
                ),
            ),
            rx.cond(
                SecurityState.recovery_codes_shown,
                rx.callout.root(
                    rx.callout.text(tr("security.codes_once")),
                    # What "Print" puts on paper: a heading and the codes.
                    rx.box(
                        rx.el.h2(tr("security.codes.print_title"), class_name="print-only"),
                        rx.el.pre(id=RECOVERY_CODES_ELEMENT_ID, class_name="mono recovery-codes"),
                        id=RECOVERY_CODES_SHEET_ID,
                    ),
                    _codes_actions(),
                    rx.button(tr("security.codes_saved"), size="1", variant="soft",
                              on_click=SecurityState.hide_recovery_codes),
                    color_scheme="amber",
                ),
            ),
            spacing="3",
            align="start",
        ),
        width="100%",
    )


def _passkey_name_cell(row) -> rx.Component:
    return rx.cond(
        SecurityState.renaming_passkey == row.id,
        panel_form(
            rx.hstack(
                rx.input(name="name", default_value=row.name, max_length=60, required=True, size="1",
                         aria_label=tr("security.passkey.name_label"), id="passkey-rename-input"),
                rx.button(tr("common.save"), type="submit", size="1", id="passkey-rename-save"),
                rx.button(tr("common.cancel"), type="button", size="1", variant="soft",
                          on_click=SecurityState.cancel_rename_passkey),
                wrap="wrap",
                align="center",
            ),
            on_submit=SecurityState.rename_passkey,
        ),
        rx.vstack(
            rx.text(row.name, weight="medium", class_name="passkey-name"),
            rx.cond(row.new_until != "",
                    rx.text(tr_format("security.passkey.new_until", when=row.new_until), size="1",
                            color=rx.color("amber", 11), class_name="passkey-new")),
            spacing="1",
        ),
    )


def _passkey_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(_passkey_name_cell(row)),
        rx.table.cell(rx.cond(row.synced != "", rx.badge(tr("security.passkey.synced"), color_scheme="blue"),
                              rx.badge(tr("security.passkey.device_only"), color_scheme="gray")),
                      class_name="passkey-kind"),
        rx.table.cell(row.created, class_name="nowrap"),
        rx.table.cell(row.last_used, class_name="passkey-last-used nowrap"),
        rx.table.cell(rx.hstack(
            rx.button(tr("security.passkey.rename"), size="1", variant="soft", type="button",
                      on_click=SecurityState.begin_rename_passkey(row.id), class_name="passkey-rename"),
            confirm_button("security.passkey.remove", "security.passkey.remove_title",
                           SecurityState.remove_passkey(row.id), text_key="security.passkey.remove_confirm",
                           size="1", class_name="passkey-remove"),
            wrap="wrap",
        )),
        class_name="passkey-row",
    )


def _passkey_add_form() -> rx.Component:
    return rx.vstack(
        rx.el.label(tr("security.passkey.name_label"), html_for="passkey-name", class_name="field-label"),
        rx.input(id="passkey-name", default_value=SecurityState.passkey_name, max_length=60, required=True,
                 on_blur=SecurityState.set_passkey_name, width="20em", aria_describedby="passkey-name-error"),
        rx.cond(SecurityState.passkey_name_error != "",
                rx.text(SecurityState.passkey_name_error, size="1", color=rx.color("red", 11),
                        id="passkey-name-error")),
        rx.text(tr("security.passkey.create_hint"), size="1", color=rx.color("gray", 11)),
        rx.hstack(
            passkey_ceremony(mode="register", options=SecurityState.passkey_options,
                             label=tr("security.passkey.create"), on_response=SecurityState.finish_passkey,
                             on_error=SecurityState.passkey_failed, id="passkey-create",
                             disabled=SecurityState.passkey_name == ""),
            rx.button(tr("common.cancel"), type="button", variant="soft", on_click=SecurityState.cancel_passkey,
                      id="passkey-cancel"),
            wrap="wrap",
        ),
        spacing="2",
        align="start",
        id="passkey-add-form",
    )


def _passkey_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(tr("security.passkey.title"), size="4", as_="h2"),
            rx.text(tr("security.passkey.intro"), size="2"),
            rx.cond(SecurityState.passkeys.length() > 0,
                    data_table(["common.name", "security.passkey.kind_col", "security.passkey.created_col",
                                "security.passkey.last_used_col", "common.actions"], SecurityState.passkeys,
                               _passkey_row, cards=True),
                    rx.text(tr("security.passkey.none"), size="2", id="passkeys-none")),
            rx.cond(SecurityState.passkey_options != "",
                    _passkey_add_form(),
                    rx.button(tr("security.passkey.add"), on_click=SecurityState.begin_passkey, id="passkey-add",
                              type="button")),
            spacing="3",
            align="start",
            width="100%",
        ),
        width="100%",
        id="passkeys-card",
    )


def _password_card() -> rx.Component:
    errors = SecurityState.password_errors
    return rx.card(
        panel_form(
            rx.vstack(
                rx.heading(tr("security.password.title"), size="4", as_="h2"),
                rx.text(tr("security.password.hint"), size="2"),
                field("security.password.current",
                      rx.input(id="current-password", name="current_password", type="password",
                               auto_complete="current-password", max_length=1024, required=True),
                      errors.get("current_password", ""), "current-password"),
                field("security.password.new",
                      rx.input(id="new-password", name="new_password", type="password",
                               auto_complete="new-password", max_length=1024, required=True),
                      errors.get("new_password", ""), "new-password"),
                rx.button(tr("security.password.submit"), type="submit"),
                spacing="2",
                align="start",
                max_width="420px",
            ),
            on_submit=SecurityState.change_password,
            reset_on_submit=True,
        ),
        width="100%",
    )


def _session_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.hstack(rx.text(row.browser),
                                           rx.cond(row.current != "", rx.badge(tr("security.this_session"))),
                                           wrap="wrap")),
        rx.table.cell(row.ip, class_name="mono nowrap"),
        rx.table.cell(row.started, class_name="nowrap"),
        rx.table.cell(row.last_seen, class_name="nowrap"),
        rx.table.cell(rx.cond(row.current == "", rx.button(tr("security.sign_out"), size="1", variant="soft",
                                                             on_click=SecurityState.sign_out_session(row.id)))),
    )


def _device_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.hstack(rx.text(row.browser),
                                           rx.cond(row.current != "", rx.badge(tr("security.devices.this"))),
                                           wrap="wrap")),
        rx.table.cell(row.ip, class_name="mono nowrap"),
        rx.table.cell(row.first, class_name="nowrap"),
        rx.table.cell(row.last, class_name="nowrap"),
        rx.table.cell(rx.button(tr("security.devices.remove"), size="1", variant="soft",
                                on_click=SecurityState.forget_device(row.id))),
    )


def security_page() -> rx.Component:
    return gated_page(
        SecurityState,
        rx.vstack(
            page_heading("security.title"),
            rx.cond(SecurityState.message != "", rx.callout(SecurityState.message, icon="check", color_scheme="green",
                                                            role="status")),
            rx.cond(SecurityState.error != "", rx.callout(SecurityState.error, icon="circle-x", color_scheme="red",
                                                          role="alert")),
            _preferred(),
            _passkey_card(),
            _totp_card(),
            _password_card(),
            rx.heading(tr("security.sessions_title"), size="4", as_="h2"),
            data_table(["security.browser", "security.ip", "security.started", "security.last_seen",
                        "common.actions"], SecurityState.sessions, _session_row, cards=True),
            rx.button(tr("security.sign_out_others"), variant="soft", on_click=SecurityState.sign_out_others),
            rx.heading(tr("security.devices.title"), size="4", as_="h2"),
            rx.text(tr("security.devices.intro"), size="2", color=rx.color("gray", 11)),
            rx.cond(SecurityState.devices.length() > 0,
                    data_table(["security.browser", "security.ip", "security.devices.first_col",
                                "security.devices.last_col", "common.actions"], SecurityState.devices, _device_row,
                               cards=True),
                    rx.text(tr("security.devices.none"), size="2", id="devices-none")),
            spacing="4",
            width="100%",
            align="start",
        ),
    )
