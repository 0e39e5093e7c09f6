"""/login: a plain HTML form posted to /api/session/login (sets the HttpOnly cookie)."""

import reflex as rx

from panel_app.components.native_form import backend_path, native_form

from panel_app.components.i18n import language_items, tr, tr_format
from panel_app.components.passkey import passkey_sign_in
from panel_app.settings import get_settings
from panel_app.state.login import LoginState


def login_page() -> rx.Component:
    settings = get_settings()
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading(tr("login.title"), size="6", as_="h1"),
                    rx.spacer(),
                    rx.select.root(
                        rx.select.trigger(aria_label=tr("shell.language"), variant="ghost"),
                        rx.select.content(*language_items()),
                        value=LoginState.lang,
                        on_change=LoginState.choose_language,
                        size="1",
                    ),
                    width="100%",
                    align="center",
                ),
                rx.text(tr("login.subtitle"), color=rx.color("gray", 11)),
                rx.cond(
                    LoginState.message != "",
                    rx.callout(
                        LoginState.message,
                        icon=rx.cond(LoginState.message_is_error, "triangle-alert", "info"),
                        color_scheme=rx.cond(LoginState.message_is_error, "red", "blue"),
                        role="alert",
                        width="100%",
                        id="login-message",
                    ),
                ),
                native_form(
                    rx.vstack(
                        rx.el.label(tr("login.email"), html_for="login-email", class_name="field-label"),
                        # "webauthn": the browser also offers this site's passkeys here.
                        rx.input(id="login-email", name="email", type="email", auto_complete="username webauthn",
                                 required=True, max_length=254, width="100%", size="3"),
                        rx.el.label(tr("login.password"), html_for="login-password", class_name="field-label"),
                        rx.input(id="login-password", name="password", type="password",
                                 auto_complete="current-password", required=True, max_length=1024,
                                 width="100%", size="3"),
                        rx.el.input(type="hidden", name="next", value=LoginState.next_path),
                        rx.button(tr("login.submit"), type="submit", size="3", width="100%", id="login-submit"),
                        spacing="2",
                        width="100%",
                    ),
                    action=backend_path("/api/session/login"),
                    method="post",
                    style={"width": "100%"},
                ),
                # Only where the browser has WebAuthn (the separator included).
                passkey_sign_in(options_url=backend_path("/api/passkey/login/options"),
                                verify_url=backend_path("/api/passkey/login/verify"),
                                label=tr("login.passkey"), separator=tr("login.or"),
                                on_error=LoginState.passkey_failed, id="login-passkey",
                                variant="soft", width="100%"),
                rx.link(tr("login.forgot_link"), href="/forgot", size="2", id="login-forgot"),
                rx.text(tr_format("login.forgot", email=settings.support_email), size="1",
                        color=rx.color("gray", 11)),
                *([rx.callout(tr("login.demo_hint"), icon="info", size="1", width="100%")]
                  if settings.is_demo else []),
                spacing="4",
                width="100%",
            ),
            width="100%",
            max_width="420px",
            size="4",
        ),
        rx.el.main(id="main"),
        min_height="100vh",
        padding="1em",
        flex_direction="column",
    )
