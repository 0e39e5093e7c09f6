"""/support/letter: enter the code from a letter by post (a login is enough)."""

import reflex as rx

from panel_app.components.forms import panel_form
from panel_app.components.i18n import tr
from panel_app.components.shell import shell
from panel_app.components.ui import field, page_heading
from panel_app.state.letter import LetterState


def _form() -> rx.Component:
    return panel_form(
        rx.vstack(
            field("letter.code",
                  rx.input(id="letter-code", name="code", auto_complete="one-time-code", input_mode="text",
                           auto_capitalize="characters", spell_check=False, max_length=40, required=True,
                           placeholder="ABCD-EFGH-JKMN", size="3", width="100%", max_width="320px"),
                  None, "letter-code"),
            rx.button(tr("letter.submit"), type="submit", id="letter-submit"),
            spacing="3",
            align="start",
            width="100%",
        ),
        on_submit=LetterState.submit,
        reset_on_submit=True,
        key=LetterState.form_key.to_string(),
        width="100%",
    )


def letter_page() -> rx.Component:
    return shell(
        rx.vstack(
            page_heading("letter.title"),
            rx.text(tr("letter.intro"), size="2"),
            rx.cond(LetterState.message != "", rx.callout(LetterState.message, icon="check", color_scheme="green",
                                                          role="status", width="100%", id="letter-message")),
            rx.cond(LetterState.error != "", rx.callout(LetterState.error, icon="circle-x", color_scheme="red",
                                                        role="alert", width="100%", id="letter-error")),
            rx.cond(LetterState.status_text != "", rx.text(LetterState.status_text, size="2")),
            rx.cond(LetterState.letter_live, _form()),
            rx.cond(LetterState.loaded & ~LetterState.has_letter, rx.text(tr("letter.error.none"), size="2")),
            rx.link(tr("support.back"), href="/support"),
            spacing="4",
            width="100%",
            align="start",
        )
    )
