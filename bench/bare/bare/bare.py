"""One state, one trivial handler, one page: what Reflex itself costs."""

import reflex as rx


class BareState(rx.State):
    count: int = 0

    @rx.event
    def bump(self):
        self.count += 1


def index() -> rx.Component:
    return rx.center(rx.heading("Bare Reflex", as_="h1"), rx.text(BareState.count))


app = rx.App()
app.add_page(index, route="/")
