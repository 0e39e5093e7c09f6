"""/help: the verification FAQ, in the user's language."""

import reflex as rx

from panel_app.components.i18n import tr
from panel_app.components.shell import shell

# The questions, in order: help.q.<key> and help.a.<key> in the catalogs.
FAQ_KEYS = [
    "when", "how", "how_long", "methods", "choose", "every_time", "disable",
    "no_code", "no_access", "why", "shared", "tips",
]


def help_page() -> rx.Component:
    return shell(
        rx.vstack(
            rx.heading(tr("help.title"), size="6", as_="h1"),
            rx.text(tr("help.intro")),
            rx.accordion.root(
                *[
                    rx.accordion.item(
                        header=tr(f"help.q.{key}"),
                        content=rx.text(tr(f"help.a.{key}")),
                        value=key,
                    )
                    for key in FAQ_KEYS
                ],
                collapsible=True,
                type="multiple",
                width="100%",
                variant="outline",
            ),
            rx.link(tr("help.contact"), href="/support"),
            spacing="4",
            width="100%",
        )
    )
