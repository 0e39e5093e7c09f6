"""/team: members, open invitations, invite form, area changes (owner only)."""

import reflex as rx

from panel_app.components.forms import panel_form
from panel_app.components.gate import gated_page
from panel_app.components.i18n import tr, tr_format
from panel_app.components.ui import confirm_button, data_table, field, page_heading
from panel_app.state.team import TeamState


def _area_checkboxes(id_prefix: str, checked=None) -> rx.Component:
    """One checkbox per grantable area, named ``area_<value>`` for the form."""
    return rx.flex(
        rx.foreach(
            TeamState.area_options,
            lambda option: rx.el.label(
                rx.hstack(
                    rx.checkbox(
                        name="area_" + option.value,
                        id=id_prefix + option.value,
                        default_checked=checked.contains(option.value) if checked is not None else False,
                    ),
                    rx.text(option.label, size="2"),
                    spacing="2",
                    align="center",
                ),
                html_for=id_prefix + option.value,
            ),
        ),
        wrap="wrap",
        gap="4",
    )


def _invite_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(tr("team.invite_title"), size="4", as_="h2"),
            rx.text(tr("team.invite_intro"), size="2", color=rx.color("gray", 11)),
            panel_form(
                rx.vstack(
                    rx.flex(
                        field("team.invite_email",
                              rx.input(id="invite-email", name="email", type="email", required=True,
                                       max_length=254, auto_complete="off",
                                       default_value=TeamState.invite_email, width="100%"),
                              TeamState.invite_email_error, "invite-email"),
                        field("team.invite_name",
                              rx.input(id="invite-name", name="name", max_length=200, auto_complete="off",
                                       default_value=TeamState.invite_name, width="100%"),
                              TeamState.invite_name_error, "invite-name"),
                        gap="3",
                        width="100%",
                        direction=rx.breakpoints(initial="column", sm="row"),
                    ),
                    rx.el.fieldset(
                        rx.el.legend(tr("team.invite_areas"), class_name="field-label"),
                        _area_checkboxes("invite-area-", TeamState.invite_areas),
                        style={"border": "none", "padding": "0", "margin": "0"},
                    ),
                    rx.cond(TeamState.invite_areas_error != "",
                            rx.text(TeamState.invite_areas_error, class_name="field-error", role="alert")),
                    rx.text(tr("team.owner_keeps"), size="1", color=rx.color("gray", 11)),
                    rx.button(tr("team.invite_submit"), type="submit", id="invite-submit"),
                    spacing="3",
                    width="100%",
                    align="start",
                ),
                on_submit=TeamState.invite,
                reset_on_submit=False,
                key=TeamState.form_key.to_string(),
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _remove_button(row) -> rx.Component:
    return confirm_button("team.remove", "team.remove_title", TeamState.remove_admin(row.id), size="1",
                          description=rx.vstack(rx.text(row.email, weight="medium"),
                                                rx.text(tr("team.remove_confirm"))))


def _member_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(rx.text(row.email, weight="medium", class_name="wrap-anywhere"),
                                           rx.text(row.name, size="1", color=rx.color("gray", 11)),
                                           spacing="0")),
        rx.table.cell(row.role_label),
        rx.table.cell(row.areas),
        rx.table.cell(rx.badge(row.status_label,
                               color_scheme=rx.cond(row.status == "active", "green", "gray"))),
        rx.table.cell(row.created, class_name="nowrap"),
        rx.table.cell(row.sessions),
        rx.table.cell(
            rx.cond(
                row.manageable != "",
                rx.hstack(
                    rx.button(tr("team.change_areas"), size="1", variant="soft",
                              on_click=TeamState.start_edit(row.id)),
                    rx.button(tr("team.end_sessions"), size="1", variant="soft",
                              on_click=TeamState.end_sessions(row.id)),
                    _remove_button(row),
                    wrap="wrap",
                    spacing="2",
                ),
            )
        ),
    )


def _edit_card() -> rx.Component:
    return rx.card(
        panel_form(
            rx.vstack(
                rx.heading(tr_format("team.edit_title", email=TeamState.editing_email),
                           size="3", as_="h2"),
                rx.el.fieldset(
                    rx.el.legend(tr("team.invite_areas"), class_name="field-label"),
                    _area_checkboxes("edit-area-", TeamState.edit_areas),
                    style={"border": "none", "padding": "0", "margin": "0"},
                ),
                rx.cond(TeamState.edit_error != "",
                        rx.text(TeamState.edit_error, class_name="field-error", role="alert")),
                rx.text(tr("team.edit_note"), size="1", color=rx.color("gray", 11)),
                rx.hstack(
                    rx.button(tr("common.save"), type="submit", id="save-areas"),
                    rx.button(tr("common.cancel"), type="button", variant="soft",
                              on_click=TeamState.cancel_edit),
                ),
                spacing="3",
                align="start",
            ),
            on_submit=TeamState.save_areas,
            reset_on_submit=False,
            key=TeamState.editing_id,
        ),
        width="100%",
        id="edit-areas",
    )


def _invitation_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(rx.text(row.email, weight="medium", class_name="wrap-anywhere"),
                                           rx.text(row.name, size="1", color=rx.color("gray", 11)),
                                           spacing="0")),
        rx.table.cell(row.areas),
        rx.table.cell(rx.badge(row.status_label,
                               color_scheme=rx.cond(row.status == "pending", "blue", "amber"))),
        rx.table.cell(row.expires, class_name="nowrap"),
        rx.table.cell(rx.hstack(
            rx.button(tr("team.resend"), size="1", variant="soft",
                      on_click=TeamState.resend_invitation(row.id)),
            rx.button(tr("team.revoke"), size="1", variant="soft", color_scheme="red",
                      on_click=TeamState.revoke_invitation(row.id)),
            wrap="wrap",
            spacing="2",
        )),
    )


def team_page() -> rx.Component:
    return gated_page(
        TeamState,
        rx.vstack(
            page_heading("team.title"),
            rx.text(tr("team.intro"), size="2"),
            rx.cond(TeamState.message != "", rx.callout(TeamState.message, icon="check", color_scheme="green",
                                                        role="status", width="100%")),
            rx.cond(TeamState.error != "", rx.callout(TeamState.error, icon="circle-x", color_scheme="red",
                                                      role="alert", width="100%")),
            rx.heading(tr("team.members_title"), size="4", as_="h2"),
            data_table(["team.col.email", "team.col.role", "team.col.areas", "common.status",
                        "team.col.since", "team.col.sessions", "common.actions"],
                       TeamState.members, _member_row, cards=True),
            rx.cond(TeamState.editing_id != "", _edit_card()),
            rx.heading(tr("team.invitations_title"), size="4", as_="h2"),
            rx.cond(
                TeamState.invitations.length() > 0,
                data_table(["team.col.email", "team.col.areas", "common.status", "team.col.expires",
                            "common.actions"], TeamState.invitations, _invitation_row, cards=True),
                rx.text(tr("team.no_invitations"), size="2", color=rx.color("gray", 11)),
            ),
            _invite_form(),
            spacing="4",
            width="100%",
            align="start",
        ),
    )
