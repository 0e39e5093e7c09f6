"""The parts of the /email page (pages/mail.py): the forms, each bound to its part of
the page state (``state/mail_parts.py``): creating a mailbox, changing or deleting one,
a new forwarder, the catch-all address."""

import reflex as rx

from panel_app.components.forms import panel_form
from panel_app.components.i18n import tr, tr_format
from panel_app.components.ui import confirm_button, field
from panel_app.state.mail import MailState
from panel_app.state.mail_parts import MailboxCreateState, MailboxEditState, MailForwardingState

_MUTED = rx.color("gray", 11)
_PASSWORD_DEBOUNCE_MS = 400


def _hint(key: str, id_: str) -> rx.Component:
    return rx.text(tr(key), size="1", color=_MUTED, id=id_)


def _row(*children) -> rx.Component:
    """Fields side by side on wide screens, stacked on phones."""
    return rx.flex(*children, gap="3", width="100%", direction=rx.breakpoints(initial="column", sm="row"),
                   align=rx.breakpoints(initial="stretch", sm="start"))


def _cell(*children, flex: str = "1") -> rx.Component:
    return rx.box(*children, flex=flex, width="100%")


def _password_feedback(key, text, id_: str) -> rx.Component:
    """The live strength verdict (polite: announced when typing pauses)."""
    return rx.box(
        rx.cond(text != "",
                rx.text(text, size="1", color=rx.cond(key == "mailui.password_ok", rx.color("green", 11),
                                                      rx.color("amber", 11)))),
        id=id_,
        aria_live="polite",
    )


def _password_input(id_: str, on_change) -> rx.Component:
    return rx.input(id=id_, name="password", type="password", auto_complete="new-password", required=True,
                    max_length=1024, width="100%", aria_describedby=id_ + "-hint " + id_ + "-feedback",
                    on_change=on_change.debounce(_PASSWORD_DEBOUNCE_MS))


def _cancel_button(on_click) -> rx.Component:
    return rx.button(tr("common.cancel"), type="button", variant="soft", on_click=on_click)


def _radio(value: str, label_key: str) -> rx.Component:
    return rx.el.label(rx.hstack(rx.radio_group.item(value=value), tr(label_key), spacing="2",
                                 align="center"))


# --- mailboxes ------------------------------------------------------------------------------


def mailbox_actions(row) -> rx.Component:
    """In a mailbox's row: open its password, size or delete form."""
    return rx.hstack(
        rx.button(tr("mailui.password.change"), size="1", variant="soft", type="button",
                  on_click=MailboxEditState.start_password_change(row.id)),
        rx.button(tr("mailui.quota.change"), size="1", variant="soft", type="button",
                  on_click=MailboxEditState.start_quota_change(row.id)),
        rx.button(tr("common.delete"), size="1", variant="soft", color_scheme="red", type="button",
                  on_click=MailboxEditState.start_delete(row.id)),
        spacing="2",
        wrap="wrap",
    )


def mailbox_editors() -> list[rx.Component]:
    """The forms of one mailbox, each shown while open: password, size, deletion."""
    return [
        rx.cond(MailboxEditState.password_box_id != "", _password_card()),
        rx.cond(MailboxEditState.quota_box_id != "", rx.box(_quota_card(), key=MailboxEditState.edit_key.to_string(),
                                                     width="100%")),
        _delete_dialog(),
    ]


def _password_card() -> rx.Component:
    return rx.card(
        panel_form(
            rx.vstack(
                rx.heading(tr_format("mailui.password.title", address=MailboxEditState.password_box_address), size="3",
                           as_="h3", word_break="break-all"),
                field("mailui.password.new",
                      _password_input("change-password", MailboxEditState.check_changed_password),
                      MailboxEditState.change_password_error, "change-password"),
                _hint("mailui.create.password_hint", "change-password-hint"),
                _password_feedback(MailboxEditState.change_feedback_key, MailboxEditState.change_feedback,
                                   "change-password-feedback"),
                rx.hstack(
                    rx.button(tr("common.save"), type="submit", id="change-password-submit"),
                    _cancel_button(MailboxEditState.cancel_edit),
                    wrap="wrap",
                ),
                spacing="2",
                align="start",
                width="100%",
            ),
            on_submit=MailboxEditState.change_password,
            reset_on_submit=True,  # a password is never kept
            width="100%",
        ),
        width="100%",
        id="change-password-card",
    )


def _quota_card() -> rx.Component:
    return rx.card(
        panel_form(
            rx.vstack(
                rx.heading(tr_format("mailui.quota.title", address=MailboxEditState.quota_box_address), size="3",
                           as_="h3", word_break="break-all"),
                field("mailui.create.quota",
                      rx.input(id="change-quota", name="quota_mb", input_mode="numeric", max_length=10,
                               default_value=MailboxEditState.quota_value, width="12em",
                               aria_describedby="change-quota-hint"),
                      MailboxEditState.quota_error, "change-quota"),
                _hint("mailui.create.quota_hint", "change-quota-hint"),
                rx.hstack(
                    rx.button(tr("common.save"), type="submit", id="change-quota-submit"),
                    _cancel_button(MailboxEditState.cancel_edit),
                    wrap="wrap",
                ),
                spacing="2",
                align="start",
                width="100%",
            ),
            on_submit=MailboxEditState.change_quota,
            reset_on_submit=False,
            width="100%",
        ),
        width="100%",
        id="change-quota-card",
    )


def _delete_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(tr("mailui.delete.title")),
            rx.dialog.description(
                rx.vstack(
                    rx.text(MailboxEditState.delete_box_address, weight="bold", class_name="mono",
                            word_break="break-all"),
                    rx.text(tr("mailui.delete.text"), size="2"),
                    spacing="2",
                ),
            ),
            panel_form(
                rx.vstack(
                    field("mailui.delete.confirm_label",
                          rx.input(id="delete-confirmation", name="confirmation",
                                   default_value=MailboxEditState.delete_typed, auto_complete="off", width="100%",
                                   required=True, max_length=300),
                          MailboxEditState.delete_error, "delete-confirmation"),
                    rx.hstack(
                        _cancel_button(MailboxEditState.cancel_delete),
                        rx.button(tr("mailui.delete.submit"), type="submit", color_scheme="red",
                                  id="delete-submit"),
                        justify="end",
                        width="100%",
                        wrap="wrap",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=MailboxEditState.delete_mailbox,
                reset_on_submit=False,
                margin_top="1em",
            ),
        ),
        open=MailboxEditState.delete_box_id != "",
        on_open_change=MailboxEditState.cancel_delete,  # Escape or a click outside: only ever closes it
    )


def create_form() -> rx.Component:
    return rx.card(
        panel_form(
            rx.vstack(
                rx.heading(tr("mailui.create.title"), size="4", as_="h3"),
                _row(
                    _cell(
                        field("mailui.create.local_part",
                              rx.hstack(
                                  rx.input(id="new-local-part", name="local_part",
                                           default_value=MailboxCreateState.new_local_part, max_length=64,
                                           required=True, auto_complete="off", flex="1", min_width="8em",
                                           aria_describedby="new-local-part-hint"),
                                  rx.text("@" + MailState.selected_domain, size="2", color=_MUTED,
                                          word_break="break-all"),
                                  align="center",
                                  width="100%",
                                  wrap="wrap",
                              ),
                              MailboxCreateState.new_local_part_error, "new-local-part"),
                        _hint("mailui.create.local_part_hint", "new-local-part-hint"),
                        flex="2",
                    ),
                    _cell(
                        field("mailui.create.quota",
                              rx.input(id="new-quota", name="quota_mb", default_value=MailboxCreateState.new_quota,
                                       input_mode="numeric", max_length=10, width="100%",
                                       aria_describedby="new-quota-hint"),
                              MailboxCreateState.new_quota_error, "new-quota"),
                        _hint("mailui.create.quota_hint", "new-quota-hint"),
                    ),
                ),
                # Remounted after every submit: a password is never kept, not even in the page.
                rx.box(field("mailui.create.password",
                             _password_input("new-password", MailboxCreateState.check_new_password),
                             MailboxCreateState.new_password_error, "new-password"),
                       key=MailboxCreateState.password_key.to_string(), width="100%"),
                _hint("mailui.create.password_hint", "new-password-hint"),
                _password_feedback(MailboxCreateState.password_feedback_key, MailboxCreateState.password_feedback,
                                   "new-password-feedback"),
                rx.button(tr("mailui.create.submit"), type="submit", id="create-mailbox-submit"),
                spacing="2",
                width="100%",
                align="start",
            ),
            on_submit=MailboxCreateState.create_mailbox,
            reset_on_submit=False,
            key=MailboxCreateState.create_key.to_string(),
            width="100%",
        ),
        width="100%",
    )


# --- forwarders and catch-all ---------------------------------------------------------------


def forwarder_delete_button(row) -> rx.Component:
    """In a forwarder's row: delete it, after a question."""
    return confirm_button(
        "common.delete", "mailui.forwarder.delete_title", MailForwardingState.delete_forwarder(row.id), size="1",
        description=rx.vstack(rx.text(row.address, " → ", row.destination, weight="medium",
                                      word_break="break-all"),
                              rx.text(tr("mailui.forwarder.delete_text")), spacing="2"),
    )


def forwarder_form() -> rx.Component:
    return rx.card(
        panel_form(
            rx.vstack(
                rx.heading(tr("mailui.forwarder.create_title"), size="4", as_="h3"),
                _row(
                    _cell(field("mailui.forwarder.local_part",
                                rx.hstack(
                                    rx.input(id="fwd-local-part", name="local_part",
                                             default_value=MailForwardingState.fwd_local_part, max_length=64,
                                             required=True, auto_complete="off", flex="1", min_width="8em"),
                                    rx.text("@" + MailState.selected_domain, size="2", color=_MUTED,
                                            word_break="break-all"),
                                    align="center",
                                    width="100%",
                                    wrap="wrap",
                                ),
                                MailForwardingState.fwd_local_part_error, "fwd-local-part")),
                    _cell(
                        field("mailui.forwarder.destination",
                              rx.input(id="fwd-destination", name="destination", type="email",
                                       default_value=MailForwardingState.fwd_destination, max_length=254, required=True,
                                       auto_complete="off", width="100%",
                                       aria_describedby="fwd-destination-hint"),
                              MailForwardingState.fwd_destination_error, "fwd-destination"),
                        _hint("mailui.forwarder.destination_hint", "fwd-destination-hint"),
                    ),
                ),
                rx.button(tr("mailui.forwarder.submit"), type="submit", id="create-forwarder-submit"),
                spacing="2",
                width="100%",
                align="start",
            ),
            on_submit=MailForwardingState.create_forwarder,
            reset_on_submit=False,
            key=MailForwardingState.fwd_key.to_string(),
            width="100%",
        ),
        width="100%",
    )


def catch_all_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(tr("mailui.catch_all.title"), size="4", as_="h2"),
            rx.text(tr("mailui.catch_all.intro"), size="2", color=_MUTED),
            rx.badge(rx.cond(MailState.catch_all != "",
                             tr_format("mailui.catch_all.current_on", destination=MailState.catch_all),
                             tr("mailui.catch_all.current_off")),
                     color_scheme=rx.cond(MailState.catch_all != "", "blue", "gray"), id="catch-all-state",
                     white_space="normal"),
            panel_form(
                rx.vstack(
                    rx.el.fieldset(
                        rx.el.legend(tr("mailui.catch_all.mode"), class_name="field-label"),
                        rx.radio_group.root(
                            _radio("off", "mailui.catch_all.off"),
                            _radio("on", "mailui.catch_all.on"),
                            name="mode",
                            value=MailForwardingState.catch_all_mode,
                            on_change=MailForwardingState.set_catch_all_mode,
                            direction="column",
                            spacing="2",
                        ),
                        style={"border": "none", "padding": "0", "margin": "0"},
                    ),
                    rx.cond(
                        MailForwardingState.catch_all_mode == "on",
                        field("mailui.catch_all.destination",
                              rx.input(id="catch-all-destination", name="destination", type="email",
                                       default_value=MailForwardingState.catch_all_value, max_length=254,
                                       auto_complete="off", width="100%"),
                              MailForwardingState.catch_all_error, "catch-all-destination"),
                        rx.cond(MailForwardingState.catch_all_error != "",
                                rx.text(MailForwardingState.catch_all_error, class_name="field-error", role="alert")),
                    ),
                    rx.button(tr("common.save"), type="submit", id="catch-all-submit"),
                    spacing="3",
                    width="100%",
                    align="start",
                ),
                on_submit=MailForwardingState.save_catch_all,
                reset_on_submit=False,
                key=MailForwardingState.catch_all_key.to_string(),
                width="100%",
            ),
            spacing="3",
            width="100%",
            align="start",
        ),
        width="100%",
    )
