"""/forgot (ask for a link, a plain form posted to /api/session/forgot) and
/reset?token=... (second factor, then the new password)."""

import reflex as rx

from panel_app.components.forms import panel_form
from panel_app.components.i18n import language_items, tr, tr_format
from panel_app.components.native_form import backend_path, native_form
from panel_app.components.passkey import passkey_ceremony
from panel_app.components.ui import field
from panel_app.services import methods
from panel_app.settings import get_settings
from panel_app.state.reset import ForgotState, ResetState


def _card(title_key: str, state, *body: rx.Component) -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading(tr(title_key), size="6", as_="h1"),
                    rx.spacer(),
                    rx.select.root(
                        rx.select.trigger(aria_label=tr("shell.language"), variant="ghost"),
                        rx.select.content(*language_items()),
                        value=state.lang,
                        on_change=state.choose_language,
                        size="1",
                    ),
                    width="100%",
                    align="center",
                ),
                *body,
                rx.text(tr_format("forgot.support", email=get_settings().support_email), size="1",
                        color=rx.color("gray", 11)),
                spacing="4",
                width="100%",
            ),
            width="100%",
            max_width="460px",
            size="4",
        ),
        rx.el.main(id="main"),
        min_height="100vh",
        padding="1em",
        flex_direction="column",
    )


def forgot_page() -> rx.Component:
    return _card(
        "forgot.title", ForgotState,
        rx.cond(
            ForgotState.sent,
            rx.callout(tr("forgot.sent"), icon="mail", color_scheme="blue", role="status", width="100%",
                       id="forgot-sent"),
            rx.text(tr("forgot.intro"), size="2"),
        ),
        native_form(
            rx.vstack(
                rx.el.label(tr("forgot.email"), html_for="forgot-email", class_name="field-label"),
                rx.input(id="forgot-email", name="email", type="email", auto_complete="username",
                         required=True, max_length=254, width="100%", size="3"),
                rx.button(tr("forgot.submit"), type="submit", size="3", width="100%", id="forgot-submit"),
                spacing="2",
                width="100%",
            ),
            action=backend_path("/api/session/forgot"),
            method="post",
            style={"width": "100%"},
        ),
        rx.link(tr("forgot.back"), href="/login", size="2"),
    )


def _messages() -> rx.Component:
    return rx.fragment(
        rx.cond(ResetState.error != "",
                rx.callout(ResetState.error, icon="circle-x", color_scheme="red", role="alert", width="100%",
                           id="reset-error")),
        rx.cond(ResetState.info != "",
                rx.callout(ResetState.info, icon="info", color_scheme="blue", role="status", width="100%",
                           id="reset-info")),
    )


def _factor() -> rx.Component:
    return rx.vstack(
        rx.text(tr("reset.factor_intro"), size="2"),
        rx.radio_group.root(
            rx.foreach(
                ResetState.methods,
                lambda m: rx.radio_group.item(
                    rx.match(m, *[(method.name, tr(method.reset_label_key or method.label_key))
                                  for method in methods.registered() if method.proves_password_reset], m),
                    value=m, id=f"reset-method-{m}"),
            ),
            value=ResetState.method,
            on_change=ResetState.choose_method,
            direction="column",
        ),
        rx.cond(
            ResetState.method == "whatsapp",
            rx.button(tr_format("reset.send_code", destination=ResetState.masked_phone), variant="soft",
                      on_click=ResetState.send_code, id="reset-send-code", width="100%"),
        ),
        rx.cond(
            ResetState.method == "passkey",
            rx.vstack(
                rx.text(tr("gate.passkey_hint"), size="2"),
                # The options are made when the method is chosen: the prompt starts in the click.
                passkey_ceremony(mode="authenticate", options=ResetState.passkey_options,
                                 label=tr("reset.passkey_button"), on_response=ResetState.verify_passkey,
                                 on_error=ResetState.passkey_failed, id="reset-passkey", size="3", width="100%"),
                spacing="2",
                width="100%",
            ),
            _code_form(),
        ),
        _not_offered(),
        spacing="3",
        width="100%",
    )


def _not_offered() -> rx.Component:
    """Why a method the user may expect is missing: email never (the link came that way),
    the others when the account lacks them or set them up too recently."""
    return rx.vstack(
        rx.text(tr("reset.not_offered.title"), size="1", weight="medium", color=rx.color("gray", 11)),
        rx.el.ul(
            rx.el.li(tr("reset.not_offered.email")),
            rx.foreach(ResetState.not_offered, lambda text: rx.el.li(text)),
            style={"margin": "0", "padding-inline-start": "1.2em", "font-size": "var(--font-size-1)",
                   "color": "var(--gray-11)"},
        ),
        spacing="1",
        width="100%",
        id="reset-not-offered",
    )


def _code_form() -> rx.Component:
    return panel_form(
        rx.vstack(
            field("reset.code",
                  rx.input(id="reset-code", name="code", auto_complete="one-time-code", max_length=64,
                           required=True, width="100%", size="3"),
                  None, "reset-code"),
            rx.button(tr("reset.verify"), type="submit", size="3", width="100%", id="reset-verify"),
            spacing="2",
            width="100%",
        ),
        on_submit=ResetState.verify,
        reset_on_submit=True,
        width="100%",
    )


def _password(submit_key: str) -> rx.Component:
    return panel_form(
        rx.vstack(
            field("reset.new_password",
                  rx.input(id="reset-password", name="new_password", type="password", required=True,
                           min_length=10, max_length=1024, auto_complete="new-password", width="100%",
                           size="3"),
                  ResetState.password_error, "reset-password"),
            rx.button(tr(submit_key), type="submit", size="3", width="100%", id="reset-submit"),
            spacing="2",
            width="100%",
        ),
        on_submit=ResetState.set_password,
        reset_on_submit=False,
        width="100%",
    )


def _result(color: str) -> rx.Component:
    return rx.vstack(
        rx.callout(ResetState.result_text, icon="check", color_scheme=color, role="status", width="100%",
                   id="reset-result"),
        rx.link(rx.button(tr("reset.to_login"), size="3", width="100%"), href="/login", width="100%"),
        spacing="3",
        width="100%",
    )


def reset_page() -> rx.Component:
    return _card(
        "reset.title", ResetState,
        _messages(),
        rx.match(
            ResetState.step,
            ("factor", _factor()),
            ("password", _password("reset.submit")),
            ("schedule", rx.vstack(rx.text(tr("reset.schedule_intro"), size="2"),
                                   _password("reset.schedule_submit"), _not_offered(), spacing="3", width="100%")),
            ("done", _result("green")),
            ("scheduled", _result("blue")),
            ("invalid", rx.vstack(
                rx.callout(tr("reset.invalid"), icon="triangle-alert", color_scheme="red", role="alert",
                           width="100%", id="reset-invalid"),
                rx.link(tr("reset.again"), href="/forgot", size="2"),
                spacing="3", width="100%")),
            rx.text(tr("reset.loading")),
        ),
    )
