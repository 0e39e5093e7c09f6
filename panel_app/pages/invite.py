"""/invite?token=...: public page where an invited technical administrator creates their login."""

import reflex as rx

from panel_app.components.forms import panel_form
from panel_app.components.i18n import language_items, tr
from panel_app.components.ui import field
from panel_app.state.invite import InviteState


def _language_picker() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label=tr("shell.language"), variant="ghost"),
        rx.select.content(*language_items()),
        value=InviteState.lang,
        on_change=InviteState.choose_language,
        size="1",
    )


def _summary() -> rx.Component:
    return rx.vstack(
        rx.text(InviteState.intro_text, size="3", id="invite-intro"),
        rx.el.dl(
            rx.hstack(rx.el.dt(tr("invite.for_email"), class_name="field-label"),
                      rx.el.dd(InviteState.invite_email, id="invite-email", style={"margin": "0"}),
                      wrap="wrap"),
            rx.hstack(rx.el.dt(tr("invite.areas"), class_name="field-label"),
                      rx.el.dd(InviteState.areas_text, style={"margin": "0"}), wrap="wrap"),
            rx.hstack(rx.el.dt(tr("invite.valid_until"), class_name="field-label"),
                      rx.el.dd(InviteState.expires, style={"margin": "0"}), wrap="wrap"),
            style={"margin": "0"},
        ),
        spacing="2",
        width="100%",
    )


def _form() -> rx.Component:
    return panel_form(
        rx.vstack(
            rx.heading(tr("invite.setup"), size="4", as_="h2"),
            field("invite.name",
                  rx.input(id="invite-name", name="name", required=True, max_length=200, auto_complete="name",
                           default_value=InviteState.name_value, width="100%"),
                  InviteState.name_error, "invite-name"),
            # The address is fixed by the invitation; this hidden field lets password managers save it.
            rx.el.input(type="email", name="username", value=InviteState.invite_email,
                        auto_complete="username", read_only=True, hidden=True),
            field("invite.password",
                  rx.input(id="invite-password", name="password", type="password", required=True,
                           min_length=10, max_length=1024, auto_complete="new-password", width="100%",
                           aria_describedby="invite-password-hint"),
                  InviteState.password_error, "invite-password"),
            rx.text(tr("invite.password_hint"), size="1", color=rx.color("gray", 11),
                    id="invite-password-hint"),
            field("invite.phone",
                  rx.input(id="invite-phone", name="phone", type="tel", required=True, max_length=32,
                           auto_complete="tel", default_value=InviteState.phone_value, width="100%",
                           aria_describedby="invite-phone-hint"),
                  InviteState.phone_error, "invite-phone"),
            rx.text(tr("invite.phone_hint"), size="1", color=rx.color("gray", 11), id="invite-phone-hint"),
            rx.vstack(
                rx.el.label(tr("invite.language"), html_for="invite-language", class_name="field-label"),
                rx.select.root(
                    rx.select.trigger(id="invite-language"),
                    rx.select.content(*language_items()),
                    name="language",
                    value=InviteState.lang,
                    on_change=InviteState.choose_language,
                ),
                rx.cond(InviteState.language_error != "",
                        rx.text(InviteState.language_error, class_name="field-error", role="alert")),
                spacing="1",
            ),
            rx.cond(InviteState.form_error != "",
                    rx.callout(InviteState.form_error, icon="circle-x", color_scheme="red", role="alert",
                               width="100%")),
            rx.button(tr("invite.submit"), type="submit", size="3", width="100%", id="invite-submit"),
            spacing="3",
            width="100%",
        ),
        on_submit=InviteState.accept,
        reset_on_submit=False,
        width="100%",
    )


def _invalid() -> rx.Component:
    return rx.vstack(
        rx.callout(tr("invite.invalid_title"), icon="triangle-alert", color_scheme="red", role="alert",
                   width="100%", id="invite-invalid"),
        rx.text(tr("invite.invalid_body"), size="2"),
        spacing="3",
        width="100%",
    )


def _done() -> rx.Component:
    return rx.vstack(
        rx.callout(tr("invite.done_title"), icon="check", color_scheme="green", role="status", width="100%",
                   id="invite-done"),
        rx.text(tr("invite.done_body"), size="2"),
        rx.link(rx.button(tr("invite.sign_in"), size="3", width="100%"), href="/login", width="100%"),
        spacing="3",
        width="100%",
    )


def invite_page() -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading(tr("invite.title"), size="6", as_="h1"),
                    rx.spacer(),
                    _language_picker(),
                    width="100%",
                    align="center",
                ),
                rx.match(
                    InviteState.invite_status,
                    ("open", rx.vstack(_summary(), rx.separator(size="4"), _form(), spacing="4",
                                       width="100%")),
                    ("invalid", _invalid()),
                    ("done", _done()),
                    rx.text(tr("grant.loading")),
                ),
                spacing="4",
                width="100%",
            ),
            width="100%",
            max_width="520px",
            size="4",
        ),
        rx.el.main(id="main"),
        min_height="100vh",
        padding="1em",
        flex_direction="column",
    )
