"""/activity: the activity log with filters, pages and CSV download. Read-only."""

import reflex as rx

from panel_app.components.forms import panel_form
from panel_app.components.gate import gated_page
from panel_app.components.i18n import tr
from panel_app.components.ui import data_table, page_heading
from panel_app.state.activity import ActivityState


def _select(name: str, label_key: str, options, value) -> rx.Component:
    control_id = f"activity-filter-{name}"
    return rx.vstack(
        rx.el.label(tr(label_key), html_for=control_id, class_name="field-label"),
        rx.select.root(
            rx.select.trigger(id=control_id, min_width="12em"),
            rx.select.content(rx.foreach(options, lambda o: rx.select.item(o.label, value=o.value))),
            name=name,
            default_value=value,
        ),
        spacing="1",
    )


def _date(name: str, label_key: str, value) -> rx.Component:
    control_id = f"activity-filter-{name}"
    return rx.vstack(
        rx.el.label(tr(label_key), html_for=control_id, class_name="field-label"),
        rx.input(id=control_id, name=name, type="date", default_value=value, max_length=10),
        spacing="1",
    )


def _filters() -> rx.Component:
    return panel_form(
        rx.vstack(
            rx.flex(
                _select("actor", "activity.filter.actor", ActivityState.actor_options,
                        ActivityState.filter_actor),
                _select("area", "activity.filter.area", ActivityState.area_options,
                        ActivityState.filter_area),
                _date("from", "activity.filter.from", ActivityState.filter_from),
                _date("to", "activity.filter.to", ActivityState.filter_to),
                rx.hstack(
                    rx.button(tr("activity.filter.apply"), type="submit", id="activity-apply"),
                    rx.button(tr("activity.filter.clear"), type="button", variant="soft",
                              on_click=ActivityState.clear_filters),
                    align="end",
                ),
                wrap="wrap",
                gap="3",
                align="end",
            ),
            rx.cond(ActivityState.filter_error != "",
                    rx.text(ActivityState.filter_error, class_name="field-error", role="alert")),
            spacing="2",
            width="100%",
        ),
        on_submit=ActivityState.apply_filters,
        reset_on_submit=False,
        key=ActivityState.form_key.to_string(),
        width="100%",
        aria_label=tr("activity.filter.title"),
    )


def _row(row) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(row.time, class_name="nowrap")),
        rx.table.cell(rx.vstack(
            rx.text(row.actor),
            rx.badge(row.role, color_scheme=rx.cond(row.is_owner != "", "blue", "gray"), size="1"),
            spacing="1",
        )),
        rx.table.cell(row.area),
        rx.table.cell(row.action),
        rx.table.cell(rx.text(row.target, class_name="wrap-anywhere")),
        rx.table.cell(rx.text(row.ip, class_name="mono nowrap")),
        rx.table.cell(row.browser),
    )


def _pager() -> rx.Component:
    return rx.hstack(
        rx.button(tr("activity.previous"), variant="soft", size="2", on_click=ActivityState.previous_page,
                  disabled=ActivityState.page <= 1),
        rx.text(ActivityState.page_text, size="2", aria_live="polite"),
        rx.button(tr("activity.next"), variant="soft", size="2", on_click=ActivityState.next_page,
                  disabled=ActivityState.page >= ActivityState.pages),
        align="center",
        wrap="wrap",
    )


def activity_page() -> rx.Component:
    return gated_page(
        ActivityState,
        rx.vstack(
            page_heading(
                "activity.title",
                rx.button(rx.icon("download", size=16, aria_hidden="true"), tr("activity.export"),
                          variant="soft", on_click=ActivityState.export_csv, id="activity-export"),
            ),
            rx.text(rx.cond(ActivityState.is_owner, tr("activity.intro_owner"), tr("activity.intro_admin")),
                    size="2"),
            rx.text(tr("activity.readonly"), size="1", color=rx.color("gray", 11)),
            _filters(),
            rx.cond(
                ActivityState.total > 0,
                rx.vstack(
                    rx.text(ActivityState.range_text, size="2", color=rx.color("gray", 11)),
                    data_table(["activity.col.time", "activity.col.actor", "activity.col.area",
                                "activity.col.action", "activity.col.target", "activity.col.ip",
                                "activity.col.browser"], ActivityState.rows, _row, cards=True),
                    _pager(),
                    spacing="3",
                    width="100%",
                ),
                rx.text(tr("activity.empty"), size="2"),
            ),
            spacing="4",
            width="100%",
            align="start",
        ),
    )
