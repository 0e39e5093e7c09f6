"""/dev/outbox: messages that would have been sent, and the demo controls."""

import reflex as rx

from panel_app.components.i18n import tr
from panel_app.services.demo import TTL_CHOICES
from panel_app.state.demo import DemoState


def _message(row) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.badge(row.channel), rx.text(row.recipient, weight="medium", class_name="outbox-to"),
                      rx.spacer(), rx.text(row.at, size="1"), width="100%", wrap="wrap"),
            rx.cond(row.subject != "", rx.text(row.subject, weight="bold", size="2")),
            rx.el.pre(row.text, style={"white-space": "pre-wrap", "margin": 0, "font-size": "13px"},
                      class_name="outbox-text"),
            rx.cond(row.attachment != "",
                    rx.button(rx.icon("file-down", size=14, aria_hidden="true"), tr("demo.download_pdf"),
                              " (" + row.attachment + ")", size="1", variant="soft", type="button",
                              on_click=DemoState.download_attachment(row.id), class_name="outbox-attachment")),
            spacing="1",
            width="100%",
        ),
        width="100%",
        class_name="outbox-message",
    )


def _fault_select(channel: str, choices) -> rx.Component:
    return rx.hstack(
        rx.text(tr(f"demo.fail_next_{channel}"), size="2"),
        rx.select.root(
            rx.select.trigger(placeholder=tr("demo.no_fault"), aria_label=tr(f"demo.fail_next_{channel}")),
            rx.select.content(
                rx.select.item(tr("demo.no_fault"), value="none"),
                rx.foreach(choices, lambda c: rx.select.item(c.label, value=c.value)),
            ),
            value=rx.cond(DemoState.armed[channel] != "", DemoState.armed[channel], "none"),
            on_change=lambda v: DemoState.arm_fault(channel, v),
            size="1",
        ),
        align="center",
        wrap="wrap",
    )


def outbox_page() -> rx.Component:
    return rx.box(
        rx.el.main(
            rx.vstack(
                rx.hstack(rx.heading(tr("demo.title"), size="6", as_="h1"), rx.spacer(),
                          rx.link(tr("nav.dashboard"), href="/dashboard"), width="100%"),
                rx.cond(
                    DemoState.available,
                    rx.vstack(
                        rx.card(
                            rx.vstack(
                                rx.heading(tr("demo.controls"), size="4", as_="h2"),
                                _fault_select("whatsapp", DemoState.whatsapp_faults),
                                _fault_select("email", DemoState.email_faults),
                                rx.hstack(
                                    rx.text(tr("demo.ttl"), size="2"),
                                    rx.select.root(
                                        rx.select.trigger(aria_label=tr("demo.ttl")),
                                        rx.select.content(*[rx.select.item(f"{s} s", value=str(s))
                                                            for s in TTL_CHOICES]),
                                        value=DemoState.ttl,
                                        on_change=DemoState.set_ttl,
                                        size="1",
                                    ),
                                    align="center",
                                ),
                                rx.button(tr("demo.end_grant"), size="1", variant="soft", on_click=DemoState.end_my_grant,
                                          id="demo-end-grant"),
                                rx.cond(DemoState.demo_message != "", rx.text(DemoState.demo_message, size="2",
                                                                              role="status")),
                                spacing="3",
                                align="start",
                            ),
                            width="100%",
                        ),
                        rx.heading(tr("demo.messages"), size="4", as_="h2"),
                        rx.cond(DemoState.messages.length() > 0,
                                rx.vstack(rx.foreach(DemoState.messages, _message), width="100%"),
                                rx.text(tr("demo.empty"))),
                        spacing="4",
                        width="100%",
                    ),
                    rx.text(tr("demo.unavailable")),
                ),
                rx.moment(interval=2000, on_change=DemoState.refresh, display="none"),
                spacing="4",
                width="100%",
                max_width="900px",
                padding="1.25em",
            ),
            id="main",
        ),
    )
