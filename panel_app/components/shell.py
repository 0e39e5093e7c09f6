"""The application shell: sidebar (desktop) or menu (mobile), header, content."""

from __future__ import annotations

import reflex as rx
from reflex.components.radix.themes.base import RadixThemesComponent

from panel_app.components.i18n import language_items, tr
from panel_app.components.native_form import backend_path, native_form
from panel_app.components.ui import countdown
from panel_app.security.permissions import SENSITIVE_AREAS, Area
from panel_app.settings import get_settings
from panel_app.state.auth import AuthState
from panel_app.state.stepup import GrantState


class MenuLabel(RadixThemesComponent):
    """Radix Themes' DropdownMenu.Label (not wrapped by Reflex 0.10): a group's heading."""

    tag = "DropdownMenu.Label"


class MenuGroup(RadixThemesComponent):
    """Radix Themes' DropdownMenu.Group: items that belong together (role=group)."""

    tag = "DropdownMenu.Group"


# (area, route, label key, lucide icon)
NAV_ITEMS: list[tuple[Area, str, str, str]] = [
    (Area.DASHBOARD, "/dashboard", "nav.dashboard", "layout-dashboard"),
    (Area.SERVICES, "/services", "nav.services", "server"),
    (Area.DOMAINS, "/domains", "nav.domains", "globe"),
    (Area.SUPPORT, "/support", "nav.support", "life-buoy"),
    (Area.HELP, "/help", "nav.help", "circle-help"),
    (Area.PROFILE, "/profile", "nav.profile", "id-card"),
    (Area.INVOICES, "/invoices", "nav.invoices", "receipt"),
    (Area.PAYMENTS, "/payment-methods", "nav.payments", "credit-card"),
    (Area.EMAIL, "/email", "nav.email", "mail"),
    (Area.SECURITY, "/security", "nav.security", "shield-check"),
    (Area.TEAM, "/team", "nav.team", "users"),
    (Area.ACTIVITY, "/activity", "nav.activity", "history"),
]


def _is_current(route: str) -> rx.Var:
    """Whether the page shown is ``route`` or one below it (/domains/example.com: Domains)."""
    path = rx.State.router.url.path
    return (path == route) | path.startswith(route + "/")


def padlock(size: int = 14) -> rx.Component:
    """A protected area's padlock: open while this session is verified (the grant's
    countdown runs), closed again when the grant ends. Says which in words too."""
    return rx.cond(
        AuthState.grant_active,
        rx.icon("lock-open", size=size, aria_label=tr("nav.sensitive_unlocked"), role="img",
                color=rx.color("green", 11), class_name="nav-padlock", data_lock="open"),
        rx.icon("lock", size=size, aria_label=tr("nav.sensitive"), role="img", color=rx.color("amber", 11),
                class_name="nav-padlock", data_lock="closed"),
    )


def _nav_link(area: Area, route: str, label_key: str, icon: str) -> rx.Component:
    sensitive = area in SENSITIVE_AREAS
    current = _is_current(route)
    return rx.cond(
        AuthState.areas.contains(area.value),
        rx.link(
            rx.hstack(
                rx.icon(icon, size=16, aria_hidden="true"),
                rx.text(tr(label_key), size="2", weight=rx.cond(current, "bold", "regular")),
                rx.spacer(),
                padlock() if sensitive else rx.fragment(),
                align="center",
                width="100%",
                spacing="2",
            ),
            href=route,
            underline="none",
            class_name="nav-link",
            aria_current=rx.cond(current, "page", None),
            width="100%",
            padding_x="0.75em",
            padding_y="0.5em",
            border_radius="6px",
            color=rx.color("gray", 12),
        ),
    )


def nav_links() -> rx.Component:
    standard = [item for item in NAV_ITEMS if item[0] not in SENSITIVE_AREAS]
    sensitive = [item for item in NAV_ITEMS if item[0] in SENSITIVE_AREAS]
    return rx.vstack(
        *[_nav_link(*item) for item in standard],
        rx.separator(size="4", margin_y="0.5em"),
        rx.text(tr("nav.sensitive_heading"), size="1", color=rx.color("gray", 11), padding_x="0.75em",
                id="nav-protected-heading"),
        rx.vstack(*[_nav_link(*item) for item in sensitive], spacing="1", width="100%", role="group",
                  aria_labelledby="nav-protected-heading"),
        spacing="1",
        width="100%",
    )


def _menu_item(area: Area, route: str, label_key: str, icon: str) -> rx.Component:
    """One entry of the phone menu: like the sidebar's (icon, padlock, current page)."""
    current = _is_current(route)
    return rx.cond(
        AuthState.areas.contains(area.value),
        rx.menu.item(
            rx.hstack(
                rx.icon(icon, size=16, aria_hidden="true"),
                rx.text(tr(label_key), weight=rx.cond(current, "bold", "regular")),
                rx.spacer(),
                padlock() if area in SENSITIVE_AREAS else rx.fragment(),
                align="center",
                width="100%",
                spacing="2",
            ),
            on_click=rx.redirect(route),
            class_name="nav-menu-item",
            aria_current=rx.cond(current, "page", None),
        ),
    )


def phone_menu() -> rx.Component:
    """The navigation at phone and tablet width: the same two groups as the sidebar."""
    standard = [item for item in NAV_ITEMS if item[0] not in SENSITIVE_AREAS]
    sensitive = [item for item in NAV_ITEMS if item[0] in SENSITIVE_AREAS]
    return rx.menu.root(
        rx.menu.trigger(rx.icon_button(rx.icon("menu"), variant="ghost", aria_label=tr("shell.menu"),
                                       id="phone-menu")),
        rx.menu.content(
            *[_menu_item(*item) for item in standard],
            rx.menu.separator(),
            MenuGroup.create(
                MenuLabel.create(tr("nav.sensitive_heading"), id="menu-protected-heading"),
                *[_menu_item(*item) for item in sensitive],
                aria_labelledby="menu-protected-heading",
            ),
            min_width="14em",
        ),
    )


def grant_badge(tick_event) -> rx.Component:
    """The live countdown of the grant; at zero the page asks the server once."""
    return rx.cond(
        AuthState.grant_active,
        rx.badge(
            rx.icon("shield-check", size=14, aria_hidden="true"),
            tr("grant.verified_for"),
            countdown(AuthState.grant_seconds_left, AuthState.grant_stamp, id_="grant-countdown",
                      on_zero=tick_event),
            color_scheme="green",
            size="2",
            role="timer",
            aria_live="off",
        ),
    )


def lock_button() -> rx.Component:
    """End the verification now (before leaving the desk), in every tab."""
    return rx.cond(
        AuthState.grant_active,
        rx.button(rx.icon("lock", size=14, aria_hidden="true"), tr("grant.lock_now"), size="1",
                  variant="ghost", on_click=GrantState.end_now, id="lock-now"),
    )


def language_switch() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label=tr("shell.language"), variant="ghost"),
        rx.select.content(
            *language_items(),
        ),
        value=AuthState.lang,
        on_change=AuthState.set_language,
        size="1",
    )


def logout_form() -> rx.Component:
    return native_form(
        rx.button(rx.icon("log-out", size=14, aria_hidden="true"), tr("shell.logout"), type="submit",
                  variant="soft", size="1", id="logout-button", on_click=AuthState.forget_tab),
        action=backend_path("/api/session/logout"),
        method="post",
    )


def header(tick_event) -> rx.Component:
    return rx.hstack(
        rx.mobile_and_tablet(phone_menu()),
        rx.link(rx.heading("Panel", size="4"), href="/dashboard", underline="none", color=rx.color("gray", 12)),
        rx.spacer(),
        grant_badge(tick_event),
        lock_button(),
        *([rx.link(tr("shell.demo_outbox"), href="/dev/outbox", size="2")] if get_settings().is_demo else []),
        rx.desktop_only(rx.text(AuthState.user_name, size="2", color=rx.color("gray", 11))),
        language_switch(),
        rx.color_mode.button(size="1", variant="ghost", aria_label=tr("shell.color_mode")),
        logout_form(),
        align="center",
        spacing="3",
        padding_x="1em",
        padding_y="0.6em",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        width="100%",
        wrap="wrap",
    )


def shell(content: rx.Component, tick_event=None) -> rx.Component:
    """Logged-in layout. ``tick_event``: the page's check when the countdown ends."""
    return rx.box(
        rx.el.a(tr("shell.skip"), href="#main", class_name="skip-link"),
        header(tick_event or AuthState.tick),
        rx.hstack(
            rx.desktop_only(
                rx.box(
                    rx.el.nav(nav_links(), aria_label=tr("shell.navigation")),
                    width="240px",
                    min_width="240px",
                    padding="0.75em",
                    border_right=f"1px solid {rx.color('gray', 5)}",
                    min_height="calc(100vh - 56px)",
                ),
            ),
            rx.el.main(
                rx.cond(
                    AuthState.notice != "",
                    rx.callout(AuthState.notice, icon="info", margin_bottom="1em", role="status", id="shell-notice"),
                ),
                rx.cond(
                    AuthState.pending_change != "",
                    rx.callout.root(
                        rx.callout.icon(rx.icon("clock")),
                        rx.callout.text(AuthState.pending_change, " ",
                                        rx.link(tr("shell.pending_change_link"), href="/profile")),
                        color_scheme="amber", margin_bottom="1em", role="status", id="pending-change-banner",
                    ),
                ),
                content,
                id="main",
                tab_index=-1,
                style={"flex": "1", "min-width": "0", "padding": "1.25em", "max-width": "1100px"},
            ),
            align="start",
            spacing="0",
            width="100%",
        ),
        width="100%",
    )
