"""Every route of the panel, with its title and on_load check."""

from __future__ import annotations

import reflex as rx

from panel_app.components.i18n import page_title
from panel_app.pages.activity import activity_page
from panel_app.pages.billing import invoices_page
from panel_app.pages.dns import domain_page
from panel_app.pages.mail import email_page
from panel_app.pages.payments import payment_methods_page
from panel_app.pages.profile import profile_page
from panel_app.pages.letter import letter_page
from panel_app.pages.support import support_page
from panel_app.pages.demo import outbox_page
from panel_app.pages.invite import invite_page
from panel_app.pages.reset import forgot_page, reset_page
from panel_app.pages.staff import (staff_admin_page, staff_login_page, staff_queue_page, staff_security_page,
                                   staff_setup_page, staff_ticket_page)
from panel_app.pages.team import team_page
from panel_app.pages.help import help_page
from panel_app.pages.login import login_page
from panel_app.pages.security import security_page
from panel_app.pages.standard import dashboard_page, domain_list_page, services_page
from panel_app.settings import get_settings
from panel_app.state.activity import ActivityState
from panel_app.state.auth import AuthState
from panel_app.state.billing import InvoicesState
from panel_app.state.dns import DnsState
from panel_app.state.mail import MailState
from panel_app.state.payments import PaymentsState
from panel_app.state.profile import ProfileState
from panel_app.state.letter import LetterState
from panel_app.state.support import SupportState
from panel_app.state.invite import InviteState
from panel_app.state.reset import ForgotState, ResetState
from panel_app.state.staff import (StaffAdminState, StaffLoginState, StaffQueueState, StaffSecurityState,
                                   StaffTicketState)
from panel_app.state.team import TeamState
from panel_app.state.demo import DemoState
from panel_app.state.login import LoginState
from panel_app.state.security import SecurityState
from panel_app.state.standard import DashboardState, DomainListState, ServicesState


def add_pages(app: rx.App) -> None:
    app.add_page(login_page, route="/login", title=page_title("route.login"), on_load=LoginState.open_login)
    app.add_page(lambda: rx.fragment(), route="/", title="Panel", on_load=rx.redirect("/dashboard", replace=True))
    app.add_page(dashboard_page, route="/dashboard", title=page_title("route.dashboard"), on_load=DashboardState.load)
    app.add_page(services_page, route="/services", title=page_title("route.services"), on_load=ServicesState.load)
    app.add_page(domain_list_page, route="/domains", title=page_title("route.domains"), on_load=DomainListState.load)
    app.add_page(support_page, route="/support", title=page_title("route.support"), on_load=SupportState.load)
    app.add_page(letter_page, route="/support/letter", title=page_title("route.support_letter"),
                 on_load=LetterState.load)
    app.add_page(help_page, route="/help", title=page_title("route.help"), on_load=AuthState.check_login)
    app.add_page(security_page, route="/security", title=page_title("route.security"), on_load=SecurityState.load)
    app.add_page(profile_page, route="/profile", title=page_title("route.profile"), on_load=ProfileState.load)
    app.add_page(invoices_page, route="/invoices", title=page_title("route.invoices"), on_load=InvoicesState.load)
    app.add_page(payment_methods_page, route="/payment-methods", title=page_title("route.payment_methods"),
                 on_load=PaymentsState.load)
    app.add_page(domain_page, route="/domains/[domain]", title=page_title("route.domain"), on_load=DnsState.load)
    app.add_page(email_page, route="/email", title=page_title("route.email"), on_load=MailState.load)
    app.add_page(team_page, route="/team", title=page_title("route.team"), on_load=TeamState.load)
    app.add_page(activity_page, route="/activity", title=page_title("route.activity"), on_load=ActivityState.load)
    app.add_page(invite_page, route="/invite", title=page_title("route.invite"), on_load=InviteState.open_invite)
    app.add_page(forgot_page, route="/forgot", title=page_title("route.forgot"), on_load=ForgotState.open_forgot)
    app.add_page(reset_page, route="/reset", title=page_title("route.reset"), on_load=ResetState.open_reset)
    app.add_page(staff_login_page, route="/staff/login", title=page_title("route.staff_login"),
                 on_load=StaffLoginState.open_page)
    app.add_page(staff_setup_page, route="/staff/setup", title=page_title("route.staff_setup"),
                 on_load=StaffLoginState.open_page)
    app.add_page(lambda: rx.fragment(), route="/staff", title=page_title("route.staff"),
                 on_load=rx.redirect("/staff/tickets", replace=True))
    app.add_page(staff_queue_page, route="/staff/tickets", title=page_title("route.staff_tickets"),
                 on_load=[StaffLoginState.follow_language, StaffQueueState.load])
    app.add_page(staff_ticket_page, route="/staff/tickets/[ticket]", title=page_title("route.staff_ticket"),
                 on_load=[StaffLoginState.follow_language, StaffTicketState.load])
    app.add_page(staff_admin_page, route="/staff/admin", title=page_title("route.staff_admin"),
                 on_load=[StaffLoginState.follow_language, StaffAdminState.load])
    app.add_page(staff_security_page, route="/staff/security", title=page_title("route.staff_security"),
                 on_load=[StaffLoginState.follow_language, StaffSecurityState.load])
    if get_settings().is_demo:
        app.add_page(outbox_page, route="/dev/outbox", title=page_title("route.outbox"), on_load=DemoState.load)
