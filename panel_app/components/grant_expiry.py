"""Expiry that loses nothing: the gate says what it opens and why it is back, a notice warns
a minute before the grant ends with a way to verify again in place, and what was typed
into a sensitive page's forms survives the grant's end.

What is typed is kept in the browser only (sessionStorage of the tab, assets/panel.js),
never in the tab's server-held state: ``draft_keeper`` marks the content whose plain form
fields are kept (never passwords or codes) and tells the browser when the page reported
a save, so the drafts of the forms just submitted go.
"""

from __future__ import annotations

import reflex as rx

from panel_app.components.i18n import tr, tr_format
from panel_app.state.auth import AuthState
from panel_app.state.stepup import StepUpState

# Seconds before the grant's end when the notice appears (read by assets/panel.js).
WARN_SECONDS = 60


def gate_purpose(area_label_key: str | None) -> rx.Component:
    """At the top of the gate: why it is back (a grant ran out or was ended) and what it opens."""
    unlocks = rx.fragment()
    if area_label_key:
        unlocks = rx.cond(
            AuthState.grant_active,  # verifying again in the dialog: the page is already open
            rx.fragment(),
            rx.text(rx.cond(StepUpState.gate_domain != "",
                            tr_format("gate.unlocks_domain", area=tr(area_label_key), domain=StepUpState.gate_domain),
                            tr_format("gate.unlocks", area=tr(area_label_key))),
                    size="2", weight="medium", id="gate-unlocks"),
        )
    return rx.fragment(
        rx.cond(StepUpState.return_reason != "",
                rx.callout(StepUpState.return_reason, icon="clock", color_scheme="amber", size="1", width="100%",
                           id="gate-return-reason")),
        unlocks,
    )


def grant_ending_notice(gate: rx.Component) -> rx.Component:
    """Above a sensitive page's content while the grant holds: shown by the browser in its
    last minute (a polite live region), with a button that opens ``gate`` in a dialog."""
    return rx.box(
        rx.box(
            rx.callout.root(
                rx.callout.icon(rx.icon("clock")),
                rx.flex(
                    rx.callout.text(tr("grant.ending.text")),
                    rx.button(tr("grant.ending.verify"), size="1", type="button", id="reverify-now",
                              on_click=StepUpState.show_reverify(True)),
                    gap="2",
                    align="center",
                    wrap="wrap",
                ),
                color_scheme="amber",
                width="100%",
            ),
            hidden=True,
            custom_attrs={"data-grant-ending": str(WARN_SECONDS)},
            id="grant-ending",
            width="100%",
        ),
        rx.dialog.root(
            rx.dialog.content(
                rx.dialog.title(tr("grant.reverify.title")),
                rx.dialog.description(tr("grant.reverify.text"), size="2", margin_bottom="1em"),
                rx.cond(StepUpState.reverify_open, gate),
                rx.flex(rx.dialog.close(rx.button(tr("common.cancel"), variant="soft", type="button",
                                                  id="reverify-cancel")),
                        justify="end", margin_top="1em"),
                max_width="680px",
            ),
            open=StepUpState.reverify_open & AuthState.grant_active,
            on_open_change=StepUpState.show_reverify,
        ),
        role="status",
        width="100%",
    )


def draft_keeper(page_state, content: rx.Component) -> rx.Component:
    """``content`` whose forms' plain fields the browser keeps across a grant's end."""
    return rx.box(content, width="100%",
                  custom_attrs={"data-keep-drafts": "", "data-drafts-saved": page_state.drafts_saved.to_string()})
