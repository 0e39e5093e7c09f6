"""Standard sections: dashboard, services, domain list."""

import reflex as rx

from panel_app.components.i18n import tr, tr_format
from panel_app.components.shell import shell
from panel_app.components.ui import data_table, page_heading, percent_bar, stat
from panel_app.state.standard import DashboardState, DomainListState, ServicesState


def _service_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(rx.text(row.name, weight="medium"), rx.text(row.plan, size="1"),
                                           spacing="0")),
        rx.table.cell(row.status),
        rx.table.cell(row.renews),
        rx.table.cell(row.price),
        rx.table.cell(rx.vstack(rx.text(row.disk, size="1"), percent_bar(row.disk_percent), spacing="1",
                                min_width="120px")),
        rx.table.cell(rx.vstack(rx.text(row.traffic, size="1"), percent_bar(row.traffic_percent),
                                spacing="1", min_width="120px")),
    )


SERVICE_HEADERS = ["common.name", "common.status", "services.renews", "services.price", "services.disk",
                   "services.traffic"]


def _domain_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(row.name, href="/domains/" + row.name)),
        rx.table.cell(row.expires),
        rx.table.cell(row.auto_renew),
        rx.table.cell(row.locked),
        rx.table.cell(rx.link(rx.hstack(rx.icon("lock", size=14, aria_hidden="true"), tr("domainlist.manage"),
                                        spacing="1", align="center"),
                              href="/domains/" + row.name)),
    )


DOMAIN_HEADERS = ["common.name", "domainlist.expires", "domainlist.auto_renew", "domainlist.transfer_lock",
                  "common.actions"]


def dashboard_page() -> rx.Component:
    return shell(
        rx.vstack(
            page_heading("dashboard.title"),
            rx.text(tr_format("dashboard.welcome", name=DashboardState.user_name), size="4"),
            rx.flex(
                stat("dashboard.customer_number", DashboardState.customer_number),
                stat("dashboard.active_services", DashboardState.service_count),
                stat("dashboard.domains", DashboardState.domain_count),
                stat("dashboard.open_tickets", DashboardState.open_tickets),
                stat("dashboard.next_renewal", DashboardState.next_renewal),
                wrap="wrap",
                gap="3",
                width="100%",
            ),
            rx.callout(tr("dashboard.protected_hint"), icon="lock", size="1"),
            rx.cond(
                DashboardState.services.length() > 0,
                rx.vstack(rx.heading(tr("dashboard.your_services"), size="4", as_="h2"),
                          data_table(SERVICE_HEADERS, DashboardState.services, _service_row), width="100%"),
            ),
            rx.cond(
                DashboardState.domains.length() > 0,
                rx.vstack(rx.heading(tr("dashboard.your_domains"), size="4", as_="h2"),
                          data_table(DOMAIN_HEADERS, DashboardState.domains, _domain_row), width="100%"),
            ),
            spacing="4",
            width="100%",
        )
    )


def services_page() -> rx.Component:
    return shell(
        rx.vstack(
            page_heading("services.title"),
            rx.cond(ServicesState.services.length() > 0,
                    data_table(SERVICE_HEADERS, ServicesState.services, _service_row),
                    rx.text(tr("services.empty"))),
            spacing="4",
            width="100%",
        )
    )


def domain_list_page() -> rx.Component:
    return shell(
        rx.vstack(
            page_heading("domainlist.title"),
            rx.text(tr("domainlist.manage_hint"), color=rx.color("gray", 11)),
            rx.cond(DomainListState.domains.length() > 0,
                    data_table(DOMAIN_HEADERS, DomainListState.domains, _domain_row),
                    rx.text(tr("domainlist.empty"))),
            spacing="4",
            width="100%",
        )
    )
