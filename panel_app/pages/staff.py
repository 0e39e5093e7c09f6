"""The staff console: /staff/login, /staff/setup, /staff/tickets, /staff/tickets/[ticket], /staff/admin,
/staff/security ("My sign-in methods")."""

import reflex as rx

from panel_app.components.forms import panel_form
from panel_app.components.i18n import tr
from panel_app.components.native_form import backend_path, native_form
from panel_app.components.passkey import passkey_ceremony, passkey_support
from panel_app.components.ui import countdown, data_table, field
from panel_app.services import support
from panel_app.state.staff import (QR_ELEMENT_ID, SECRET_ELEMENT_ID, StaffAdminState, StaffLoginState, StaffPage,
                                   StaffQueueState, StaffSecurityState, StaffState, StaffTicketState)


def _language_picker() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label=tr("shell.language"), variant="ghost"),
        rx.select.content(rx.select.item("English", value="en"), rx.select.item("Deutsch", value="de")),
        value=StaffState.ui_lang,
        on_change=StaffState.choose_language,
        size="1",
    )


def _card_page(title_key: str, *body: rx.Component) -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(rx.heading(tr(title_key), size="6", as_="h1"), rx.spacer(), _language_picker(),
                          width="100%", align="center"),
                rx.cond(StaffLoginState.message != "",
                        rx.callout(StaffLoginState.message, role="alert", width="100%", id="staff-login-message",
                                   color_scheme=rx.cond(StaffLoginState.message_is_error, "red", "blue"))),
                *body,
                spacing="4", width="100%",
            ),
            width="100%", max_width="420px", size="4",
        ),
        rx.el.main(id="main"),
        min_height="100vh", padding="1em", flex_direction="column",
    )


def staff_login_page() -> rx.Component:
    return _card_page(
        "staff.login.title",
        rx.text(tr("staff.login.subtitle"), size="2"),
        native_form(
            rx.vstack(
                rx.el.label(tr("login.email"), html_for="staff-email", class_name="field-label"),
                rx.input(id="staff-email", name="email", type="email", auto_complete="username", required=True,
                         max_length=254, width="100%", size="3"),
                rx.el.label(tr("login.password"), html_for="staff-password", class_name="field-label"),
                rx.input(id="staff-password", name="password", type="password", auto_complete="current-password",
                         required=True, max_length=1024, width="100%", size="3"),
                rx.button(tr("login.submit"), type="submit", size="3", width="100%", id="staff-login-submit"),
                spacing="2", width="100%",
            ),
            action=backend_path("/api/staff/login"), method="post", style={"width": "100%"},
        ),
    )


def staff_setup_page() -> rx.Component:
    return _card_page(
        "staff.setup.title",
        rx.text(tr("staff.setup.intro"), size="2"),
        native_form(
            rx.vstack(
                rx.el.label(tr("reset.new_password"), html_for="staff-new-password", class_name="field-label"),
                rx.input(id="staff-new-password", name="password", type="password", auto_complete="new-password",
                         required=True, min_length=10, max_length=1024, width="100%", size="3"),
                rx.button(tr("staff.setup.submit"), type="submit", size="3", width="100%", id="staff-setup-submit"),
                spacing="2", width="100%",
            ),
            action=backend_path("/api/staff/setup"), method="post", style={"width": "100%"},
        ),
    )


def _gate_passkey() -> rx.Component:
    """A passkey or security key answers the gate: one click, the browser's prompt."""
    return rx.vstack(
        rx.text(tr("staff.gate.passkey_intro"), size="2"),
        rx.cond(StaffState.webauthn,
                passkey_ceremony(mode="authenticate", options=StaffState.passkey_options,
                                 label=tr("staff.gate.passkey_button"), on_response=StaffState.verify_passkey,
                                 on_error=StaffState.passkey_failed, id="staff-passkey"),
                rx.text(tr("passkey.error.unsupported"), size="2", id="staff-passkey-unsupported")),
        spacing="2",
    )


def _gate_app() -> rx.Component:
    return rx.vstack(
        rx.cond(
            StaffState.needs_app,
            rx.vstack(
                rx.text(tr("staff.gate.setup_intro"), size="2"),
                rx.button(tr("staff.gate.setup_start"), on_click=StaffState.begin_setup, variant="soft",
                          id="staff-setup-app"),
                # Rendered once "Show QR code" was pressed: the event fills them (no empty image before).
                rx.cond(StaffState.app_setup_shown,
                        rx.vstack(rx.image(id=QR_ELEMENT_ID, alt=tr("security.qr_alt"), width="180px"),
                                  rx.code(id=SECRET_ELEMENT_ID), spacing="2")),
                spacing="2",
            ),
            rx.text(rx.cond(StaffState.has_passkey, tr("staff.gate.app_instead"), tr("staff.gate.intro")), size="2"),
        ),
        panel_form(
            rx.hstack(
                rx.input(id="staff-code", name="code", auto_complete="one-time-code", max_length=64,
                         aria_label=tr("staff.gate.code"), placeholder="123456"),
                rx.button(tr("reset.verify"), type="submit", id="staff-verify"),
            ),
            on_submit=StaffState.verify, reset_on_submit=True,
        ),
        spacing="2",
    )


def _gate() -> rx.Component:
    passkey_ready = StaffState.has_passkey & ~StaffState.needs_app
    return rx.card(
        rx.vstack(
            rx.heading(tr("staff.gate.title"), size="4", as_="h2"),
            rx.cond(StaffState.gate_notice != "", rx.callout(StaffState.gate_notice, icon="check", color_scheme="green",
                                                             role="status", id="staff-gate-notice")),
            rx.cond(
                StaffState.passkey_setup_only,
                # Passkeys required, none yet: the app's grant opens only the page to add one.
                rx.vstack(
                    rx.text(tr("staff.gate.must_add_passkey"), size="2"),
                    rx.link(tr("staff.gate.add_passkey"), href="/staff/security", id="staff-go-add-passkey",
                            weight="bold"),
                    spacing="2",
                ),
                rx.vstack(
                    rx.cond(StaffState.require_passkey & ~StaffState.has_passkey,
                            rx.callout(tr("staff.gate.passkey_required_intro"), color_scheme="amber",
                                       id="staff-passkey-required")),
                    rx.cond(passkey_ready, _gate_passkey()),
                    rx.cond(~(StaffState.require_passkey & StaffState.has_passkey), _gate_app()),
                    spacing="3",
                ),
            ),
            rx.cond(StaffState.gate_error != "", rx.text(StaffState.gate_error, class_name="field-error",
                                                         role="alert", id="staff-gate-error")),
            passkey_support(StaffState.passkey_support),
            spacing="3",
        ),
        id="staff-gate",
    )


def _shell(state: type[StaffPage], title_key: str, content: rx.Component, *, setup_page: bool = False) -> rx.Component:
    """``setup_page``: also shown while the grant opens only the adding of a passkey."""
    open_here = StaffState.gate_open | StaffState.passkey_setup_only if setup_page else StaffState.gate_open
    return rx.box(
        rx.el.header(
            rx.hstack(
                rx.heading(tr("staff.console"), size="4"),
                rx.link(tr("staff.nav.tickets"), href="/staff/tickets"),
                rx.cond(StaffState.staff_role == "staff_admin", rx.link(tr("staff.nav.admin"), href="/staff/admin")),
                rx.link(tr("staff.nav.security"), href="/staff/security"),
                rx.spacer(),
                rx.cond(StaffState.gate_open,
                        rx.hstack(rx.text(tr("staff.grant_left"), size="1"),
                                  countdown(StaffState.grant_seconds_left, StaffState.grant_stamp,
                                            id_="staff-countdown", on_zero=state.load),
                                  rx.button(tr("grant.lock_now"), size="1", variant="soft",
                                            on_click=StaffState.lock_now),
                                  align="center")),
                rx.text(StaffState.staff_name, size="2"),
                _language_picker(),
                native_form(rx.button(tr("shell.logout"), type="submit", size="1", variant="soft",
                                      id="staff-logout"),
                            action=backend_path("/api/staff/logout"), method="post"),
                align="center", spacing="4", wrap="wrap", padding="1em",
            ),
        ),
        rx.el.main(
            rx.vstack(
                rx.heading(tr(title_key), size="6", as_="h1"),
                rx.cond(state.message != "", rx.callout(state.message, icon="check", color_scheme="green",
                                                        role="status")),
                rx.cond(state.error != "", rx.callout(state.error, icon="circle-x", color_scheme="red",
                                                      role="alert", id="staff-error")),
                rx.cond(StaffState.forbidden, rx.callout(tr("staff.forbidden"), color_scheme="red", role="alert")),
                rx.cond(open_here, content, _gate()),
                spacing="4", width="100%", align="start",
            ),
            id="main", style={"padding": "1em", "maxWidth": "1100px"},
        ),
    )


def _select(name: str, label_key: str, value, options: list[tuple[str, str]], on_change) -> rx.Component:
    return rx.vstack(
        rx.el.label(tr(label_key), html_for=f"filter-{name}", class_name="field-label"),
        rx.el.select(*[rx.el.option(tr(key) if key else "—", value=v) for v, key in options],
                     id=f"filter-{name}", value=value, on_change=on_change),
        spacing="1",
    )


def staff_queue_page() -> rx.Component:
    s = StaffQueueState
    filters = rx.hstack(
        _select("kind", "staff.filter.kind", s.kind_filter,
                [("", "staff.filter.all"), *[(k, f"support.kind.{k}") for k in support.KINDS]],
                lambda v: s.set_filter("kind", v)),
        _select("status", "staff.filter.status", s.status_filter,
                [("", "staff.filter.all"), *[(k, f"support.status.{k}") for k in ("open", "answered", "closed")]],
                lambda v: s.set_filter("status", v)),
        _select("age", "staff.filter.age", s.age_filter,
                [(a, f"staff.age.{a}") for a in ("any", "1d", "7d", "30d")], lambda v: s.set_filter("age", v)),
        spacing="4", wrap="wrap",
    )

    def row(r):
        return rx.table.row(
            rx.table.row_header_cell(rx.link(f"#{r['id']} " + r.subject, href="/staff/tickets/" + r.id)),
            rx.table.cell(r.kind), rx.table.cell(r.status), rx.table.cell(r.customer),
            rx.table.cell(r.updated),
        )

    empty = rx.hstack(
        rx.text(s.empty_text, size="2", id="staff-queue-empty", role="status"),
        rx.cond(s.can_clear, rx.button(tr("staff.queue.clear"), size="1", variant="soft", on_click=s.clear_filters,
                                       id="staff-queue-clear")),
        align="center", spacing="3", wrap="wrap")
    return _shell(s, "staff.queue.title", rx.vstack(
        filters,
        rx.cond(
            s.rows.length() > 0,
            data_table(["support.field.subject", "support.field.kind", "common.status", "staff.customer",
                        "support.col.updated"], s.rows, row),
            rx.cond(s.loaded, empty, rx.text(tr("grant.loading"), size="2")),
        ),
        spacing="4", width="100%"))


def _letter_box() -> rx.Component:
    """Letters by post of this ticket (when, until when, used or not: never the code)."""
    s = StaffTicketState
    return rx.vstack(
        rx.heading(tr("staff.letter.title"), size="3", as_="h3"),
        rx.text(tr("staff.letter.intro"), size="2"),
        rx.foreach(s.letters, lambda line: rx.text(line, size="2", class_name="staff-letter")),
        rx.cond(s.letter_proven, rx.callout(tr("staff.letter.proven"), color_scheme="green", id="letter-proven",
                                            width="100%")),
        rx.cond(s.evidence_passed & ~s.letter_live,
                rx.button(tr("staff.letter.submit"), variant="soft", on_click=s.request_letter,
                          id="letter-request")),
        spacing="2", width="100%")


# The checklist's items and the fields that ask for each (an invoice: its number and total).
_EVIDENCE_FIELDS = (("customer_number", ("customer_number",)), ("invoice", ("invoice_number", "invoice_amount")),
                    ("payment_last4", ("payment_last4",)), ("postal_code", ("postal_code",)))


def _evidence_fields() -> list[rx.Component]:
    """Only the items the requester's role shows them (a technician: no payment method...)."""
    s = StaffTicketState
    return [rx.cond(s.evidence_asks.contains(item), rx.vstack(
        *[field(f"staff.evidence.field.{name}",
                rx.input(id=f"evidence-{name}", name=name, max_length=60, width="100%"), None, f"evidence-{name}")
          for name in names], spacing="2", width="100%"))
        for item, names in _EVIDENCE_FIELDS]


def _evidence_form() -> rx.Component:
    s = StaffTicketState
    return rx.card(rx.vstack(
        rx.heading(tr("staff.evidence.title"), size="4", as_="h2"),
        rx.text(s.evidence_intro, size="2"),
        rx.cond(s.evidence_role_note != "", rx.callout(s.evidence_role_note, color_scheme="blue", size="1",
                                                       id="evidence-role-note", width="100%")),
        panel_form(rx.vstack(
            *_evidence_fields(),
            rx.button(tr("staff.evidence.submit"), type="submit", id="evidence-submit"),
            spacing="2", width="100%"), on_submit=s.check_evidence, reset_on_submit=False, width="100%"),
        rx.foreach(s.evidence_result, lambda line: rx.text(line, size="2", class_name="evidence-item")),
        rx.cond(s.evidence_verdict != "",
                rx.text(s.evidence_verdict, size="3", weight="bold", id="evidence-verdict", role="status",
                        color=rx.cond(s.evidence_verdict_ok, "var(--green-11)", "var(--red-11)"))),
        rx.cond(s.evidence_withdrawn,
                rx.callout(tr("staff.evidence.withdrawn"), color_scheme="amber", icon="triangle-alert",
                           id="evidence-withdrawn", width="100%")),
        rx.cond(s.evidence_passed,
                rx.callout(tr("staff.evidence.passed"), color_scheme="green", id="evidence-passed", width="100%")),
        rx.cond(s.evidence_passed, rx.vstack(
            rx.heading(tr("staff.change.title"), size="3", as_="h3"),
            panel_form(rx.vstack(
                rx.el.label(tr("staff.change.kind"), html_for="change-kind", class_name="field-label"),
                rx.el.select(rx.el.option(tr("profile.kind.phone"), value="phone"),
                             rx.el.option(tr("profile.kind.email"), value="email"), id="change-kind", name="kind"),
                field("staff.change.value", rx.input(id="change-value", name="value", max_length=254, width="100%"),
                      None, "change-value"),
                rx.button(tr("staff.change.submit"), type="submit", id="change-submit"),
                spacing="2", width="100%"), on_submit=s.schedule_change, width="100%"),
            rx.cond(s.requester_has_app & (s.open_request == "") & s.letter_proven, panel_form(rx.vstack(
                field("staff.request.reason", rx.input(id="request-reason", name="reason", max_length=500,
                                                       width="100%"), None, "request-reason"),
                rx.button(tr("staff.request.submit"), type="submit", variant="soft", id="request-submit"),
                spacing="2", width="100%"), on_submit=s.request_app_removal, width="100%")),
            spacing="3", width="100%")),
        _letter_box(),
        rx.heading(tr("staff.refuse.title"), size="3", as_="h3"),
        panel_form(rx.vstack(
            field("staff.refuse.reason", rx.text_area(id="refuse-reason", name="reason", max_length=500,
                                                      width="100%"), None, "refuse-reason"),
            rx.button(tr("staff.refuse.submit"), type="submit", color_scheme="red", variant="soft",
                      id="refuse-submit"),
            spacing="2", width="100%"), on_submit=s.refuse, width="100%"),
        spacing="3", width="100%"), width="100%")


def _pending_change(change) -> rx.Component:
    """A waiting change of the customer, and cancelling it when they did not ask for it."""
    s = StaffTicketState
    form = panel_form(rx.hstack(
        rx.el.input(type="hidden", name="change", value=change.id),
        rx.input(name="reason", max_length=500, required=True, placeholder=tr("staff.change.cancel_reason"),
                 aria_label=tr("staff.change.cancel_reason"), id="cancel-change-reason-" + change.id),
        rx.button(tr("staff.change.cancel"), type="submit", color_scheme="red", variant="soft", size="1",
                  id="cancel-change-" + change.id),
        wrap="wrap", align="center"), on_submit=s.cancel_change, width="100%")
    return rx.callout.root(rx.vstack(rx.text(change.text, size="2"), rx.cond(s.status != "closed", form),
                                     spacing="2", width="100%"), color_scheme="amber", width="100%")


def staff_ticket_page() -> rx.Component:
    s = StaffTicketState
    facts = rx.el.dl(
        *[rx.hstack(rx.el.dt(tr(key), class_name="field-label"), rx.el.dd(value, style={"margin": "0"}, id=dd_id),
                    wrap="wrap")
          for key, value, dd_id in (("staff.customer", s.customer, "staff-ticket-customer"),
                                    ("staff.requester", s.requester, "staff-ticket-requester"),
                                    ("profile.kind.email", s.requester_email, "staff-ticket-email"),
                                    ("profile.kind.phone", s.requester_phone, "staff-ticket-phone"),
                                    ("common.status", s.status_text, "staff-ticket-status"))],
        style={"margin": "0"},
    )
    messages = rx.foreach(s.messages, lambda m: rx.card(rx.vstack(
        rx.text(m.author + " · " + m.when, size="1", weight="bold"),
        rx.text(m.body, white_space="pre-wrap", size="2"), spacing="1"), width="100%"))
    reply = panel_form(rx.vstack(
        field("staff.reply.body", rx.text_area(id="reply-body", name="body", max_length=10000, width="100%"),
              None, "reply-body"),
        rx.hstack(rx.checkbox(name="close", id="reply-close"),
                  rx.el.label(tr("staff.reply.close"), html_for="reply-close")),
        rx.button(tr("staff.reply.submit"), type="submit", id="reply-submit"),
        spacing="2", width="100%"), on_submit=s.reply, reset_on_submit=True, width="100%")
    return _shell(s, "staff.ticket.title", rx.cond(s.loaded, rx.vstack(
        rx.heading(s.subject, size="4", as_="h2", id="staff-ticket-subject"),
        facts,
        rx.foreach(s.pending_changes, _pending_change),
        messages,
        rx.cond(s.is_contact_update & (s.status != "closed"), _evidence_form()),
        rx.cond(s.status != "closed", reply),
        rx.cond(s.status != "closed", rx.button(tr("staff.ticket.close"), variant="soft", on_click=s.close_ticket)),
        spacing="4", width="100%"), rx.text(tr("grant.loading"))))


def staff_admin_page() -> rx.Component:
    s = StaffAdminState

    def request_row(r):
        return rx.table.row(
            rx.table.row_header_cell(r.customer), rx.table.cell("#" + r.ticket), rx.table.cell(r.reason),
            rx.table.cell(r.by), rx.table.cell(r.when),
            rx.table.cell(rx.hstack(
                rx.button(tr("staff.request.approve"), size="1", on_click=s.approve(r.id)),
                rx.button(tr("staff.request.reject"), size="1", variant="soft", on_click=s.reject(r.id)))),
        )

    def audit_row(r):
        return rx.table.row(rx.table.row_header_cell(r.when), rx.table.cell(r.staff),
                            rx.table.cell(r.action), rx.table.cell(r.ticket), rx.table.cell(r.detail))

    return _shell(s, "staff.admin.title", rx.vstack(
        rx.heading(tr("staff.admin.requests"), size="4", as_="h2"),
        data_table(["staff.customer", "staff.ticket", "staff.request.reason", "staff.request.by", "staff.when",
                    "common.actions"], s.requests, request_row),
        rx.heading(tr("staff.admin.audit"), size="4", as_="h2"),
        data_table(["staff.when", "staff.member", "staff.action", "staff.ticket", "staff.detail"], s.audit_rows,
                   audit_row),
        spacing="4", width="100%"))


def _passkey_row(row) -> rx.Component:
    s = StaffSecurityState
    rename = panel_form(rx.hstack(
        rx.el.input(type="hidden", name="id", value=row.id),
        rx.input(name="name", default_value=row.name, max_length=60, required=True, size="1",
                 aria_label=tr("staff.passkey.name"), id="passkey-name-" + row.id),
        rx.button(tr("staff.passkey.rename"), type="submit", size="1", variant="soft", id="passkey-rename-" + row.id),
        align="center"), on_submit=s.rename)
    return rx.table.row(
        rx.table.row_header_cell(row.name, class_name="staff-passkey-name"),
        rx.table.cell(row.kind), rx.table.cell(row.created), rx.table.cell(row.last_used),
        rx.table.cell(rx.hstack(
            rename,
            rx.cond(s.can_remove, rx.button(tr("staff.passkey.remove"), size="1", color_scheme="red", variant="soft",
                                            on_click=s.remove(row.id), id="passkey-remove-" + row.id)),
            align="center", wrap="wrap")),
    )


def _add_passkey() -> rx.Component:
    """Name it, then the browser's prompt (the options are made when the name is given, so
    the prompt opens in the click's own gesture)."""
    s = StaffSecurityState
    return rx.card(rx.vstack(
        rx.heading(tr("staff.passkey.add_title"), size="4", as_="h2"),
        rx.text(tr("staff.passkey.add_intro"), size="2"),
        rx.cond(
            s.adding,
            rx.hstack(
                rx.cond(StaffState.webauthn,
                        passkey_ceremony(mode="register", options=s.register_options,
                                         label=tr("staff.passkey.create"), on_response=s.finish_add,
                                         on_error=s.add_failed, id="passkey-create"),
                        rx.text(tr("passkey.error.unsupported"), size="2")),
                rx.button(tr("staff.passkey.cancel"), variant="soft", on_click=s.cancel_add, id="passkey-cancel"),
                align="center", wrap="wrap"),
            panel_form(rx.hstack(
                rx.vstack(
                    rx.el.label(tr("staff.passkey.name"), html_for="passkey-new-name", class_name="field-label"),
                    rx.input(id="passkey-new-name", name="name", max_length=60, required=True,
                             placeholder=tr("staff.passkey.name_example")),
                    spacing="1"),
                rx.button(tr("staff.passkey.continue"), type="submit", id="passkey-continue"),
                align="end", wrap="wrap"), on_submit=s.begin_add, reset_on_submit=True),
        ),
        spacing="3", width="100%"), width="100%")


def staff_security_page() -> rx.Component:
    s = StaffSecurityState
    return _shell(s, "staff.security.title", rx.cond(s.loaded, rx.vstack(
        rx.text(rx.cond(StaffState.require_passkey, tr("staff.security.intro_required"), tr("staff.security.intro")),
                size="2"),
        rx.heading(tr("staff.passkey.list_title"), size="4", as_="h2"),
        rx.cond(s.passkeys.length() > 0,
                data_table(["staff.passkey.name", "staff.passkey.kind", "staff.passkey.created",
                            "staff.passkey.last_used", "common.actions"], s.passkeys, _passkey_row),
                rx.text(tr("staff.passkey.none"), size="2", id="passkey-none")),
        _add_passkey(),
        passkey_support(StaffState.passkey_support),
        spacing="4", width="100%"), rx.text(tr("grant.loading"))), setup_page=True)
