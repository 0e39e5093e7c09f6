"""The verification step shown in place of a sensitive page's content."""

from __future__ import annotations

import reflex as rx

from panel_app.components.forms import panel_form
from panel_app.components.i18n import tr, tr_format
from panel_app.components.grant_expiry import draft_keeper, gate_purpose, grant_ending_notice
from panel_app.components.passkey import passkey_ceremony, passkey_support
from panel_app.components.shell import NAV_ITEMS, shell
from panel_app.components.ui import countdown
from panel_app.services import methods
from panel_app.services.methods import InputKind, authenticator
from panel_app.state.auth import AuthState
from panel_app.state.stepup import StepUpState

APP = authenticator.TYPE  # the authenticator app: no code is sent to it, so it has help of its own
_STATUS_COLORS = {"queued": "gray", "sent": "blue", "delivered": "green", "read": "green", "failed": "red"}

# Names, hints and input fields come from the registered methods (services/methods) when
# the page is built; which methods a user is offered comes from the state.


def method_label(method) -> rx.Component:
    """The name of the method ``method`` (a var holding its name), in the current language."""
    return rx.match(method, *[(m.name, tr(m.label_key)) for m in methods.registered()], method)


def _fallback_link(method) -> rx.Component:
    return rx.match(method, *[(m.name, tr(m.link_key)) for m in methods.registered() if m.fallback and m.link_key],
                    method)


def _method_hint() -> rx.Component:
    """A method the user already has says where to find the code; one that sends a code
    shows the send controls."""
    return rx.match(
        StepUpState.method,
        *[(m.name, rx.text(tr(m.hint_key), size="2") if m.hint_key else rx.fragment())
          for m in methods.registered() if not m.sends_code],
        _send_controls(),
    )


def _status_badge() -> rx.Component:
    return rx.match(
        StepUpState.delivery_status,
        *[(status, rx.badge(tr(f"delivery_status.{status}"), color_scheme=color, id="delivery-status"))
          for status, color in _STATUS_COLORS.items()],
        rx.fragment(),
    )


def _send_controls() -> rx.Component:
    return rx.vstack(
        rx.text(tr_format("gate.send_hint", destination=StepUpState.masked_destination), size="2"),
        rx.hstack(
            rx.button(
                rx.cond(StepUpState.code_sent, tr("gate.send_again"), tr("gate.send")),
                on_click=StepUpState.send_code,
                disabled=StepUpState.resend_in > 0,
                variant=rx.cond(StepUpState.code_sent, "soft", "solid"),
                id="send-code",
                type="button",
            ),
            rx.cond(StepUpState.resend_in > 0,
                    rx.text(tr("gate.resend_in"), " ",
                            countdown(StepUpState.resend_in, StepUpState.resend_stamp, id_="resend-countdown",
                                      on_zero=StepUpState.poll),
                            size="1", color=rx.color("gray", 11))),
            _status_badge(),
            align="center",
            wrap="wrap",
        ),
        rx.cond(StepUpState.sent_note != "",
                rx.text(StepUpState.sent_note, size="2", role="status", id="code-sent-note")),
        rx.cond(StepUpState.delivery_problem != "",
                rx.callout(StepUpState.delivery_problem, icon="triangle-alert", color_scheme="red", size="1",
                           role="alert", id="delivery-problem")),
        spacing="2",
        width="100%",
    )


def _answer_form(after_verify) -> rx.Component:
    """The code field, or for a method the browser answers (a passkey) its one button."""
    answered_by_browser = rx.Var.create([m.name for m in methods.registered()
                                         if m.input_kind is InputKind.PASSKEY]).contains(StepUpState.method)
    return rx.cond(answered_by_browser, _passkey_button(after_verify), _code_form(after_verify))


def _passkey_button(after_verify) -> rx.Component:
    return passkey_ceremony(
        mode="authenticate",
        options=StepUpState.passkey_options,
        label=tr("gate.passkey_verify"),
        on_response=[StepUpState.verify_passkey, after_verify],
        on_error=StepUpState.passkey_failed,
        id="passkey-verify",
        size="3",
        aria_describedby="gate-error",
    )


def _code_form(after_verify) -> rx.Component:
    typed_as_text = rx.Var.create([m.name for m in methods.registered()
                                   if m.input_kind is InputKind.TEXT]).contains(StepUpState.method)
    return panel_form(
        rx.vstack(
            rx.el.label(rx.cond(typed_as_text, tr("gate.recovery_label"), tr("gate.code_label")),
                        html_for="verification-code", class_name="field-label"),
            rx.hstack(
                rx.input(
                    id="verification-code",
                    name="code",
                    auto_complete="one-time-code",
                    input_mode=rx.cond(typed_as_text, "text", "numeric"),
                    max_length=rx.cond(typed_as_text, 20, 10),
                    size="3",
                    required=True,
                    class_name="mono",
                    width="12em",
                    aria_describedby="gate-error",
                ),
                rx.button(tr("gate.verify"), type="submit", size="3", id="verify-button"),
                wrap="wrap",
            ),
            spacing="1",
        ),
        on_submit=[StepUpState.verify, after_verify],
        reset_on_submit=True,
    )


# --- "I didn't get the code" ------------------------------------------------------------
# Only for a method that sends a code, with advice for that channel; the app has its own
# help (no code is sent to it), a passkey and a recovery code none.


def _names_of(predicate) -> rx.Var:
    return rx.Var.create([m.name for m in methods.registered() if predicate(m)])


def _other_methods() -> rx.Component:
    return rx.foreach(
        StepUpState.methods,
        lambda m: rx.cond(m != StepUpState.method,
                          rx.button(method_label(m), variant="outline", size="1", type="button",
                                    on_click=StepUpState.choose_method(m))),
    )


def _no_code_toggle() -> rx.Component:
    has_help = _names_of(_has_help).contains(StepUpState.method)
    is_app = _names_of(lambda m: m.name == APP).contains(StepUpState.method)
    return rx.cond(
        has_help,
        rx.button(rx.cond(is_app, tr("gate.app_help.toggle"), tr("gate.no_code")), variant="ghost", size="2",
                  type="button", on_click=StepUpState.toggle_help, id="no-code-toggle",
                  aria_expanded=StepUpState.help_open.to_string()),
    )


def _support_part(question_key: str, button_key: str) -> rx.Component:
    return rx.fragment(
        rx.text(tr(question_key), size="2"),
        rx.text(tr("gate.help.support_expect"), size="2", id="support-expect"),
        rx.button(tr(button_key), variant="soft", size="2", type="button",
                  on_click=StepUpState.request_contact_update, id="contact-update-ticket",
                  style={"height": "auto", "white-space": "normal", "padding-block": "0.4em"}),
        rx.cond(StepUpState.ticket_message != "",
                rx.callout.root(
                    rx.callout.icon(rx.icon("info")),
                    rx.callout.text(StepUpState.ticket_message, " ",
                                    rx.cond(StepUpState.ticket_linked,
                                            rx.link(tr("gate.ticket_read"), href="/support", id="gate-ticket-link"))),
                    size="1", role="status", id="ticket-message")),
    )


def _sent_to_label() -> rx.Component:
    """"Sent to" only once the code left; while it is being sent, or when it failed, says so."""
    return rx.match(
        StepUpState.delivery_status,
        ("queued", tr("gate.help.sending_to")),
        ("failed", tr("gate.help.failed_to")),
        tr("gate.help.sent_to"),
    )


def _code_help(advice_key: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(tr("gate.help.title"), size="3", as_="h2"),
            rx.cond(
                StepUpState.sent_to != "",
                rx.hstack(rx.text(_sent_to_label(), size="2", weight="medium", id="sent-to-label"),
                          rx.text(StepUpState.sent_to, size="2", id="masked-destination"),
                          wrap="wrap"),
                rx.text(tr("gate.help.not_sent"), size="2", id="no-code-sent"),
            ),
            rx.cond(StepUpState.code_sent,
                    rx.text(tr_format("gate.help.sends_left", count=StepUpState.sends_left), size="2")),
            rx.text(tr(advice_key), size="2", id="no-code-advice"),
            rx.hstack(rx.text(tr("gate.help.switch"), size="2"), _other_methods(), wrap="wrap", align="center"),
            rx.text(tr("gate.help.update"), size="2"),
            rx.hstack(rx.link(tr("gate.help.update_link"), href="/profile", size="2"),
                      rx.text(tr("gate.help.update_note"), size="1", color=rx.color("gray", 11)), wrap="wrap"),
            _support_part("gate.help.support", "gate.help.support_button"),
            spacing="2",
            align="start",
        ),
        width="100%",
        id="no-code-help",
    )


def _app_help() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(tr("gate.app_help.title"), size="3", as_="h2"),
            rx.text(tr("gate.app_help.time"), size="2"),
            rx.text(tr("gate.app_help.entry"), size="2"),
            rx.cond(StepUpState.fallbacks.length() > 0,
                    rx.hstack(rx.text(tr("gate.app_help.recovery"), size="2"),
                              rx.foreach(StepUpState.fallbacks,
                                         lambda m: rx.button(_fallback_link(m), variant="outline", size="1",
                                                             type="button", on_click=StepUpState.choose_method(m))),
                              wrap="wrap", align="center")),
            rx.hstack(rx.text(tr("gate.help.switch"), size="2"), _other_methods(), wrap="wrap", align="center"),
            _support_part("gate.app_help.support", "gate.app_help.support_button"),
            spacing="2",
            align="start",
        ),
        width="100%",
        id="app-help",
    )


def _has_help(method) -> bool:
    return method.sends_code or method.name == APP


def help_for(method) -> rx.Component | None:
    """The help a method gets under "I didn't get the code" (None: no such block): a method
    that sends a code the advice of its own channel, the app the app's."""
    if not _has_help(method):
        return None
    return _code_help(f"gate.help.check_{method.name}") if method.sends_code else _app_help()


def _help_panel() -> rx.Component:
    return rx.match(
        StepUpState.method,
        *[(m.name, block) for m in methods.registered() if (block := help_for(m)) is not None],
        rx.fragment(),
    )


def verification_gate(after_verify, area=None) -> rx.Component:
    """``after_verify``: the page's load event, so its content appears at once; ``area``: the
    area it opens (named at the top, with why the gate is back)."""
    area_label_key = next((label for nav_area, _route, label, _icon in NAV_ITEMS if nav_area == area), None)
    return rx.card(
        rx.vstack(
            rx.hstack(rx.icon("shield", aria_hidden="true"), rx.heading(tr("gate.title"), size="5", as_="h1"),
                      align="center"),
            gate_purpose(area_label_key),
            rx.text(tr("gate.intro"), size="2", color=rx.color("gray", 11)),
            rx.el.fieldset(
                rx.el.legend(tr("gate.method"), class_name="field-label"),
                rx.radio_group.root(
                    rx.foreach(
                        StepUpState.methods,
                        lambda m: rx.el.label(rx.hstack(rx.radio_group.item(value=m), method_label(m),
                                                        align="center", spacing="2")),
                    ),
                    value=StepUpState.method,
                    on_change=StepUpState.choose_method,
                    direction="row",
                    spacing="4",
                ),
                style={"border": "none", "padding": "0", "margin": "0"},
            ),
            _method_hint(),
            _answer_form(after_verify),
            rx.box(
                rx.cond(StepUpState.error != "",
                        rx.callout(StepUpState.error, icon="circle-x", color_scheme="red", size="1")),
                id="gate-error",
                role="alert",
                width="100%",
            ),
            rx.hstack(
                _no_code_toggle(),
                rx.foreach(StepUpState.fallbacks,
                           lambda m: rx.cond(m != StepUpState.method,
                                             rx.button(_fallback_link(m), variant="ghost", size="2", type="button",
                                                       on_click=StepUpState.choose_method(m)))),
                wrap="wrap",
            ),
            rx.cond(StepUpState.help_open, _help_panel()),
            passkey_support(on_support=StepUpState.set_passkey_supported),
            spacing="3",
            width="100%",
            align="start",
        ),
        max_width="640px",
        width="100%",
        on_mount=StepUpState.prepare,
        id="verification-gate",
    )


def gated_page(page_state, content: rx.Component) -> rx.Component:
    """A sensitive page: its content while the grant holds, else the gate."""
    return shell(
        rx.cond(
            AuthState.grant_active,
            # A grant that arrived by push (verified in another tab) loads the page here.
            rx.fragment(
                grant_ending_notice(verification_gate(page_state.load, page_state.area)),
                rx.cond(page_state.loaded, draft_keeper(page_state, content),
                        rx.text(tr("grant.loading"), on_mount=page_state.load)),
            ),
            verification_gate(page_state.load, page_state.area),
        ),
        tick_event=page_state.tick,
    )
