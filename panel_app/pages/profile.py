"""/profile: email address and mobile number with confirmed changes (every user, their own),
and the contract data form (the owner only; a technical administrator reads who keeps them).

Built like ``components.gate.gated_page`` (content while the grant holds, else the
gate), plus ``ProfileState.gate_notice`` above both: after a contact change (which
ends every grant) it tells the user why the verification is back.
"""

import reflex as rx

from panel_app.components.forms import panel_form
from panel_app.components.gate import verification_gate
from panel_app.components.grant_expiry import draft_keeper, grant_ending_notice
from panel_app.components.i18n import tr, tr_format
from panel_app.components.shell import shell
from panel_app.components.ui import field, page_heading
from panel_app.state.auth import AuthState
from panel_app.state.profile import ProfileState

# A native select (keyboard and phone pickers for free) drawn like the theme's inputs.
NATIVE_SELECT_STYLE = {
    "width": "100%", "height": "var(--space-6)", "padding": "0 var(--space-2)",
    "border": "1px solid var(--gray-a7)", "border_radius": "var(--radius-2)",
    "background": "var(--color-surface)", "color": "var(--gray-12)", "font_size": "var(--font-size-2)",
}


def _row_of_fields(*children) -> rx.Component:
    """Side by side on wide screens, stacked at phone width."""
    return rx.flex(*children, gap="3", width="100%", direction=rx.breakpoints(initial="column", sm="row"))


def _text_field(name: str, label_key: str, error, value, auto_complete: str, required: bool = True,
                max_length: int = 200, **props) -> rx.Component:
    control_id = f"profile-{name.replace('_', '-')}"
    return field(label_key,
                 rx.input(id=control_id, name=name, default_value=value, auto_complete=auto_complete,
                          required=required, max_length=max_length, width="100%", **props),
                 error, control_id)


def _profile_form() -> rx.Component:
    s = ProfileState
    return rx.card(
        panel_form(
            rx.vstack(
                rx.heading(tr("profile.data_title"), size="4", as_="h2"),
                rx.text(tr("profile.intro"), size="2", color=rx.color("gray", 11)),
                _text_field("name", "profile.field.name", s.name_error, s.form_name, "name"),
                _text_field("company", "profile.field.company", s.company_error, s.form_company, "organization",
                            required=False),
                _text_field("street", "profile.field.street", s.street_error, s.form_street, "street-address"),
                _row_of_fields(
                    _text_field("postal_code", "profile.field.postal_code", s.postal_code_error, s.form_postal_code,
                                "postal-code", max_length=20),
                    _text_field("city", "profile.field.city", s.city_error, s.form_city, "address-level2",
                                max_length=100),
                ),
                field("profile.field.country",
                      rx.el.select(
                          rx.foreach(s.country_options,
                                     lambda option: rx.el.option(option.label, value=option.value)),
                          id="profile-country",
                          name="country",
                          default_value=s.form_country,
                          auto_complete="country",
                          required=True,
                          style=NATIVE_SELECT_STYLE,
                      ),
                      s.country_error, "profile-country"),
                _text_field("vat_id", "profile.field.vat_id", s.vat_id_error, s.form_vat_id, "off", required=False,
                            max_length=30, class_name="mono"),
                rx.button(tr("common.save"), type="submit", id="save-profile"),
                spacing="3",
                width="100%",
                align="start",
            ),
            on_submit=ProfileState.save_profile,
            reset_on_submit=False,
            key=ProfileState.profile_form_key.to_string(),
            id="profile-form",
            width="100%",
        ),
        width="100%",
    )


def _contact_line(label_key: str, value, empty_key: str, kind: str, button_key: str) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.text(tr(label_key), class_name="field-label"),
            rx.cond(value != "", rx.text(value, size="2", overflow_wrap="anywhere", id=f"current-{kind}"),
                    rx.text(tr(empty_key), size="2", color=rx.color("gray", 11))),
            spacing="1",
            min_width="0",
        ),
        rx.spacer(),
        rx.button(tr(button_key), size="2", variant="soft", type="button", id=f"change-{kind}",
                  on_click=ProfileState.begin_change(kind)),
        gap="3",
        align="center",
        wrap="wrap",
        width="100%",
    )


def _enter_new_value() -> rx.Component:
    s = ProfileState
    described = {"aria_describedby": "new-contact-error new-contact-hint",
                 "aria_invalid": rx.cond(s.change_value_error != "", "true", "false")}
    email_input = rx.input(id="new-contact", name="value", type="email", auto_complete="email", required=True,
                           max_length=254, default_value=s.change_value, width="100%", **described)
    phone_input = rx.input(id="new-contact", name="value", type="tel", auto_complete="tel", required=True,
                           max_length=32, default_value=s.change_value, placeholder="+49 151 12345678",
                           width="100%", **described)
    return panel_form(
        rx.vstack(
            rx.el.label(rx.cond(s.change_kind == "email", tr("profile.contact.new_email"),
                                tr("profile.contact.new_phone")),
                        html_for="new-contact", class_name="field-label"),
            rx.cond(s.change_kind == "email", email_input, phone_input),
            rx.cond(s.change_value_error != "",
                    rx.text(s.change_value_error, class_name="field-error", role="alert", id="new-contact-error")),
            rx.text(rx.cond(s.change_kind == "email", tr("profile.contact.email_hint"),
                            tr("profile.contact.phone_hint")), size="1", color=rx.color("gray", 11),
                    id="new-contact-hint"),
            _waits_hint(),
            rx.cond(
                s.change_has_old & ~s.change_waits,
                rx.vstack(
                    rx.el.label(
                        rx.hstack(rx.checkbox(checked=s.change_without_old, on_change=ProfileState.set_without_old,
                                              id="no-access-to-old", name="without_old"),
                                  rx.text(tr("profile.contact.no_access"), size="2"), align="center", spacing="2"),
                    ),
                    rx.cond(s.change_without_old,
                            rx.callout(tr_format("profile.contact.no_access_hint", hours=s.change_delay_hours),
                                       icon="clock", color_scheme="amber", size="1", id="no-access-hint")),
                    spacing="2",
                    width="100%",
                ),
            ),
            rx.hstack(
                rx.button(tr("profile.contact.send_code"), type="submit", id="send-contact-code"),
                rx.button(tr("common.cancel"), type="button", variant="soft", on_click=ProfileState.cancel_change),
                wrap="wrap",
            ),
            spacing="2",
            width="100%",
            align="start",
        ),
        on_submit=ProfileState.send_change_code,
        reset_on_submit=False,
        width="100%",
    )


def _waits_hint() -> rx.Component:
    """This session's grant came through the channel being changed (and the account has another
    settled factor): the change will wait, and how to make it at once instead."""
    s = ProfileState
    return rx.cond(s.change_waits & ~s.change_without_old,
                   rx.callout(tr_format("profile.contact.waits_grant", hours=s.change_delay_hours),
                              icon="clock", color_scheme="amber", size="1", id="waits-hint"))


def _enter_code() -> rx.Component:
    s = ProfileState
    return rx.vstack(
        rx.text(s.change_info, size="2", role="status", id="contact-code-info"),
        _waits_hint(),
        panel_form(
            rx.vstack(
                rx.cond(
                    s.change_confirm_old,
                    rx.vstack(
                        rx.el.label(tr("profile.contact.old_code_label"), html_for="contact-old-code",
                                    class_name="field-label"),
                        rx.input(id="contact-old-code", name="old_code", auto_complete="one-time-code",
                                 input_mode="numeric", max_length=10, required=True, class_name="mono",
                                 width="10em", aria_describedby="contact-code-error"),
                        spacing="1",
                    ),
                ),
                rx.el.label(rx.cond(s.change_confirm_old, tr("profile.contact.new_code_label"),
                                    tr("gate.code_label")), html_for="contact-code", class_name="field-label"),
                rx.hstack(
                    rx.input(id="contact-code", name="code", auto_complete="one-time-code", input_mode="numeric",
                             max_length=10, required=True, class_name="mono", width="10em",
                             aria_describedby="contact-code-error"),
                    rx.button(tr("profile.contact.confirm"), type="submit", id="confirm-contact"),
                    wrap="wrap",
                ),
                rx.box(rx.cond(s.code_error != "", rx.text(s.code_error, class_name="field-error")),
                       id="contact-code-error", role="alert"),
                spacing="1",
            ),
            on_submit=ProfileState.confirm_change,
            reset_on_submit=True,
            key=s.code_form_key.to_string(),
        ),
        rx.hstack(
            rx.button(tr("gate.send_again"), type="button", variant="soft", size="1",
                      on_click=ProfileState.resend_change_code),
            rx.button(tr("common.cancel"), type="button", variant="ghost", size="1",
                      on_click=ProfileState.cancel_change),
            wrap="wrap",
        ),
        spacing="3",
        width="100%",
        align="start",
    )


def _scheduled_changes() -> rx.Component:
    """Changes made without the old address or number, waiting for their time."""
    return rx.cond(
        ProfileState.scheduled.length() > 0,
        rx.callout.root(
            rx.callout.icon(rx.icon("clock")),
            rx.vstack(
                rx.foreach(ProfileState.scheduled, lambda change: rx.hstack(
                    rx.text(tr_format("profile.scheduled.line", kind=change.kind, value=change.value,
                                      effective=change.effective), size="2"),
                    rx.cond(change.may_cancel,
                            rx.button(tr("profile.scheduled.cancel"), size="1", color_scheme="red", type="button",
                                      on_click=ProfileState.cancel_scheduled(change.id),
                                      id="cancel-scheduled-" + change.id),
                            rx.text(change.advice, size="1", id="cancel-advice-" + change.id)),
                    wrap="wrap", align="center")),
                rx.text(tr("profile.scheduled.explain"), size="1"),
                spacing="2",
            ),
            color_scheme="amber",
            role="status",
            id="scheduled-changes",
        ),
    )


def _change_panel() -> rx.Component:
    s = ProfileState
    return rx.box(
        rx.cond(s.change_step == "code", _enter_code(), _enter_new_value()),
        padding_top="0.5em",
        border_top=f"1px solid {rx.color('gray', 5)}",
        width="100%",
    )


def _contact_card() -> rx.Component:
    s = ProfileState
    return rx.card(
        rx.vstack(
            rx.heading(tr("profile.contact.title"), size="4", as_="h2"),
            rx.text(tr("profile.contact.intro"), size="2", color=rx.color("gray", 11)),
            _scheduled_changes(),
            _contact_line("profile.field.email", s.email, "profile.contact.none", "email", "profile.change_email"),
            _contact_line("profile.field.phone", s.phone, "profile.contact.none", "phone", "profile.change_phone"),
            rx.cond(s.change_kind != "", _change_panel()),
            spacing="3",
            width="100%",
            align="start",
        ),
        width="100%",
    )


def _account_data_elsewhere() -> rx.Component:
    """A technical administrator: the account's contract data are the owner's."""
    return rx.callout(tr("profile.account_data_owner"), icon="info", size="1", width="100%",
                      id="account-data-owner")


def _content() -> rx.Component:
    return rx.vstack(
        page_heading("profile.title"),
        rx.cond(ProfileState.message != "", rx.callout(ProfileState.message, icon="check", color_scheme="green",
                                                       role="status", width="100%")),
        rx.cond(ProfileState.error != "", rx.callout(ProfileState.error, icon="circle-x", color_scheme="red",
                                                     role="alert", width="100%")),
        _contact_card(),
        rx.cond(ProfileState.account_data, _profile_form(), _account_data_elsewhere()),
        spacing="4",
        width="100%",
        align="start",
    )


def profile_page() -> rx.Component:
    return shell(
        rx.vstack(
            rx.cond(ProfileState.gate_notice != "",
                    rx.callout(ProfileState.gate_notice, icon="info", color_scheme="blue", role="status",
                               width="100%", max_width="640px", id="profile-gate-notice")),
            rx.cond(
                AuthState.grant_active,
                rx.fragment(
                    grant_ending_notice(verification_gate(ProfileState.load, ProfileState.area)),
                    rx.cond(ProfileState.loaded, draft_keeper(ProfileState, _content()),
                            rx.text(tr("grant.loading"), on_mount=ProfileState.load)),
                ),
                verification_gate(ProfileState.load, ProfileState.area),
            ),
            spacing="3",
            width="100%",
        ),
        tick_event=ProfileState.tick,
    )
