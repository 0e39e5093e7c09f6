"""/dev/outbox: the demo outbox and the demo controls (demo mode only).

Every handler checks, at the moment of the event, demo mode and that the
request comes from this machine (the outbox holds everyone's codes and
invitation links), so a production server, or another computer that reaches
the port, gets nothing.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import reflex as rx

from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.delivery import demo_fault_choices, get_demo_faults, outbox_messages, set_demo_fault
from panel_app.delivery.outbox import outbox_attachment
from panel_app.i18n import formatting as fmt
from panel_app.i18n import t
from panel_app.services import demo, stepup
from panel_app.services.validation import parse_row_id
from panel_app.settings import get_settings
from panel_app.state import guard
from panel_app.state.auth import AuthState
from panel_app.state.rows import Option


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One message of the demo outbox, as it would have been sent."""

    id: str
    channel: str
    recipient: str
    subject: str
    text: str
    at: str
    attachment: str  # the file name of a letter's PDF, "" for none


class DemoState(AuthState):
    available: bool = False
    messages: list[OutboxRow] = []
    # The faults the next message of a channel can be made to fail with (value: error code).
    whatsapp_faults: list[Option] = []
    email_faults: list[Option] = []
    armed: dict[str, str] = {}  # channel -> the error code armed for its next message ("" for none)
    ttl: str = ""
    demo_message: str = ""

    def _allowed(self) -> bool:
        """Demo mode, and a socket from this machine's loopback interface. The address is
        the connection's own (X-Forwarded-For counts only behind configured proxies)."""
        if not get_settings().is_demo:
            return False
        try:
            return ipaddress.ip_address(self.router.session.client_ip or "").is_loopback
        except ValueError:
            return False

    def _read(self) -> None:
        with transaction() as db:
            rows = outbox_messages(db, limit=30)
            self.messages = [
                OutboxRow(id=str(r.id), channel=r.channel, recipient=r.recipient, subject=r.subject, text=r.text,
                          at=fmt.moment(r.created_at, self.lang), attachment=r.attachment_name or "")
                for r in rows
            ]
            self.armed = {k: v or "" for k, v in get_demo_faults(db).items()}
            self.ttl = str(demo.effective_ttl_seconds(db))
        self.whatsapp_faults = self._fault_options("whatsapp")
        self.email_faults = self._fault_options("email")

    def _fault_options(self, channel: str) -> list[Option]:
        return [Option(value=code, label=t(key, self.lang)) for code, key in demo_fault_choices(channel)]

    @rx.event
    def load(self):
        self.available = self._allowed()
        if self.available:
            self._read()

    @rx.event
    @guard.automatic  # the outbox page reloads itself: not a sign of a person at the keyboard
    def refresh(self):
        if self._allowed():
            self._read()

    @rx.event
    def download_attachment(self, message_id: str):
        """A letter's PDF, as the print service would have received it (demo, this machine only)."""
        target = parse_row_id(message_id)
        if not self._allowed() or target is None:
            return None
        with transaction() as db:
            found = outbox_attachment(db, target)
        if found is None:
            return None
        name, data = found
        return rx.download(data=data, filename=name)

    @rx.event
    def arm_fault(self, channel: str, error_code: str):
        if not self._allowed() or not isinstance(channel, str) or channel not in ("email", "whatsapp"):
            return
        codes = {code for code, _key in demo_fault_choices(channel)}
        error_code = error_code if isinstance(error_code, str) else ""
        with transaction() as db:
            set_demo_fault(db, channel, error_code if error_code in codes else None)
        self.demo_message = t("demo.fault_armed" if error_code in codes else "demo.fault_cleared", self.lang)
        self._read()

    @rx.event
    def set_ttl(self, seconds: str):
        if not self._allowed():
            return
        value = int(seconds) if isinstance(seconds, str) and seconds.isascii() and seconds.isdigit() \
            and len(seconds) < 6 else None
        default = get_settings().stepup_ttl_seconds
        if value is None or (value != default and value not in demo.TTL_CHOICES):
            self.demo_message = t("demo.ttl_invalid", self.lang,
                                  choices=", ".join(str(c) for c in sorted({*demo.TTL_CHOICES, default})))
            return
        with transaction() as db:
            demo.set_demo_ttl(db, None if value == default else value)
        self.demo_message = t("demo.ttl_set", self.lang, seconds=value)
        self._read()

    @guard.login_only
    def end_my_grant(self):
        ctx = guard.current()
        if not self._allowed():
            return
        stepup.end_grant(ctx.db, login_session=ctx.login_session, actor=ctx.actor, now=utcnow(), reason="demo")
        self._show_grant(ctx.login_session, ctx.now)
        self.demo_message = t("demo.grant_ended", self.lang)
