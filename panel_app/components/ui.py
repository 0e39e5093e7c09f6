"""Small shared building blocks: page heading, stat card, data table, field."""

from __future__ import annotations

import reflex as rx
from reflex.components.radix.themes.components.table import TableCell, TableRowHeaderCell

from panel_app.components.i18n import tr


def page_heading(key: str, *extra: rx.Component) -> rx.Component:
    return rx.hstack(rx.heading(tr(key), size="6", as_="h1"), rx.spacer(), *extra, width="100%", align="center",
                     wrap="wrap")


def stat(label_key: str, value, id_: str = "") -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(tr(label_key), size="2", color=rx.color("gray", 11)),
            rx.text(value, size="6", weight="bold", id=id_ or None),
            spacing="1",
        ),
        min_width="150px",
        flex="1",
    )


def data_table(header_keys: list[str], rows, render_row, *, cards: bool = False) -> rx.Component:
    """A responsive table: scrolls sideways on narrow screens instead of overflowing.

    ``cards``: below the phone breakpoint (assets/panel.css, ``.card-table``) each row becomes
    a card, every cell under its column's name and the row's actions in sight, instead of a
    sideways scroll nobody notices. The same markup serves both: the cells only get their
    column's name (``data-label``)."""
    def render(row) -> rx.Component:
        component = render_row(row)
        return _label_cells(component, header_keys) if cards else component

    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(tr(k)) for k in header_keys])),
            rx.table.body(rx.foreach(rows, render)),
            variant="surface",
            size="2",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
        class_name="card-table" if cards else None,
    )


def _label_cells(row: rx.Component, header_keys: list[str]) -> rx.Component:
    """Each cell of ``row`` named after its column (shown above it when the row is a card);
    the last column (the actions) and the row's own header cell need no name."""
    cells = [child for child in row.children if isinstance(child, (TableCell, TableRowHeaderCell))]
    for key, cell in zip(header_keys, cells, strict=False):
        if isinstance(cell, TableRowHeaderCell) or key == "common.actions":
            continue
        cell.custom_attrs["data-label"] = tr(key)
    return row


def field(label_key: str, control: rx.Component, error=None, control_id: str = "") -> rx.Component:
    """A labelled form field with its error message right below it. The control names its
    error (aria-describedby, aria-invalid), so a screen reader reads it with the field."""
    children = [rx.el.label(tr(label_key), html_for=control_id, class_name="field-label"), control]
    if error is not None:
        error_id = f"{control_id}-error" if control_id else ""
        if error_id:
            described = control.custom_attrs.get("aria-describedby")
            control.custom_attrs["aria-describedby"] = f"{described} {error_id}" if described else error_id
            control.custom_attrs["aria-invalid"] = rx.cond(error != "", "true", "false")
        children.append(rx.cond(error != "", rx.text(error, class_name="field-error", role="alert",
                                                     id=error_id or None)))
    return rx.vstack(*children, spacing="1", width="100%", align="stretch")


def percent_bar(percent) -> rx.Component:
    """A usage bar for a percentage held as text (the figures are shown beside it)."""
    return rx.box(
        rx.box(width=percent.to(str) + "%", height="100%", background=rx.color("accent", 9), border_radius="3px"),
        width="100%",
        height="6px",
        background=rx.color("gray", 4),
        border_radius="3px",
        aria_hidden="true",
    )


def confirm_button(label_key: str, title_key: str, on_confirm, *, text_key: str = "", description=None,
                   size: str = "2", color: str = "red", trigger_id: str = "", **trigger_props) -> rx.Component:
    """A button that asks first: the dialog repeats the action's label on its confirm button."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button(tr(label_key), size=size, color_scheme=color, variant="soft",
                                          type="button", id=trigger_id or None, **trigger_props)),
        rx.alert_dialog.content(
            rx.alert_dialog.title(tr(title_key)),
            rx.alert_dialog.description(description if description is not None else tr(text_key)),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button(tr("common.cancel"), variant="soft")),
                rx.alert_dialog.action(rx.button(tr(label_key), color_scheme=color, on_click=on_confirm)),
                justify="end",
                margin_top="1em",
                wrap="wrap",
            ),
        ),
    )


def countdown(seconds, stamp, *, id_: str, on_zero=None, **props) -> rx.Component:
    """mm:ss counted down in the browser (assets/panel.js), no server event per second.
    ``on_zero``: an event sent once when it reaches zero (through a hidden button)."""
    trigger_id = f"{id_}-at-zero"
    clock = rx.el.span(id=id_, data_countdown=seconds, data_countdown_stamp=stamp,
                       data_on_zero=trigger_id if on_zero is not None else None,
                       style={"font-variant-numeric": "tabular-nums"}, **props)
    if on_zero is None:
        return clock
    return rx.fragment(clock, rx.el.button(id=trigger_id, on_click=on_zero, hidden=True, tab_index=-1,
                                           type="button", aria_hidden="true"))
