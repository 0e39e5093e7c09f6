"""The parts of the /email page (``MailState``, state/mail.py): one substate per form,
with the page's guard, wiped with it: creating a mailbox, changing or deleting one,
forwarders and the catch-all address.

No password is kept here either: it is read from the submitted form and handed to
the service; the live strength check keeps only its verdict.
"""

from __future__ import annotations

from typing import ClassVar

from panel_app.i18n import formatting as fmt
from panel_app.i18n import t
from panel_app.security.permissions import Area
from panel_app.services import domains, mail
from panel_app.services.validation import ValidationError, parse_row_id
from panel_app.state import guard
from panel_app.state.gated import PagePart
from panel_app.state.mail import MailState

_CREATE_FIELDS = ("local_part", "password", "quota_mb")
_FORWARDER_FIELDS = ("local_part", "destination")


def _typed(value: object, max_length: int = 300) -> str:
    """A typed (non-password) field, as text to show again."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return value[:max_length] if isinstance(value, str) else ""


class MailboxCreateState(PagePart, MailState):
    """The form that creates a mailbox."""

    area: ClassVar[Area] = Area.EMAIL

    # Create a mailbox (no password here: it is read from the form only).
    new_local_part: str = ""
    new_quota: str = str(mail.DEFAULT_QUOTA_MB)
    new_local_part_error: str = ""
    new_password_error: str = ""
    new_quota_error: str = ""
    password_feedback_key: str = ""
    password_feedback: str = ""
    create_key: int = 0
    password_key: int = 0

    def _on_domain_changed(self) -> None:
        self._start_over()

    def _start_over(self) -> None:
        self.new_local_part = ""
        self.new_quota = str(mail.DEFAULT_QUOTA_MB)
        self.new_local_part_error = self.new_password_error = self.new_quota_error = ""
        self.password_feedback_key = self.password_feedback = ""
        self.create_key += 1

    @guard.requires_stepup()
    def check_new_password(self, password: str):
        """Live feedback while typing; only the verdict is stored."""
        self.password_feedback_key, self.password_feedback = self._feedback(password)
        self.new_password_error = ""

    @guard.requires_stepup()
    def create_mailbox(self, form_data: dict):
        ctx = guard.current()
        if not isinstance(form_data, dict) or not self.selected_domain:
            return
        local_part = form_data.get("local_part")
        quota = form_data.get("quota_mb")
        self.new_local_part = _typed(local_part, 100)
        self.new_quota = _typed(quota, 20)
        self.new_local_part_error = self.new_password_error = self.new_quota_error = ""
        # The password field empties after every attempt (other fields keep what was typed).
        self.password_key += 1
        self.password_feedback_key = self.password_feedback = ""
        try:
            box = mail.create_mailbox(ctx.db, ctx.actor, self.selected_domain, local_part,
                                      form_data.get("password"), quota, now=ctx.now)
        except domains.NotFound as exc:
            self._handle_gone(exc)
            return
        except ValidationError as exc:
            if exc.field in _CREATE_FIELDS:
                setattr(self, {"local_part": "new_local_part_error", "password": "new_password_error",
                               "quota_mb": "new_quota_error"}[exc.field], self._text(exc))
            else:
                self._fail(exc.message_key, **exc.params)
            return
        self.new_local_part = ""
        self.new_quota = str(mail.DEFAULT_QUOTA_MB)
        self.password_feedback_key = self.password_feedback = ""
        self.create_key += 1
        self._say("mailui.created", address=box.address)
        self._reload()


class MailboxEditState(PagePart, MailState):
    """Changing one mailbox's password or size, and deleting one."""

    area: ClassVar[Area] = Area.EMAIL

    # Change one mailbox's password or size.
    password_box_id: str = ""
    password_box_address: str = ""
    change_password_error: str = ""
    change_feedback_key: str = ""
    change_feedback: str = ""
    quota_box_id: str = ""
    quota_box_address: str = ""
    quota_value: str = ""
    quota_error: str = ""
    edit_key: int = 0
    # Delete a mailbox: the full address must be typed.
    delete_box_id: str = ""
    delete_box_address: str = ""
    delete_typed: str = ""
    delete_error: str = ""

    def _on_loaded(self) -> None:
        self._forget_vanished_boxes()

    def _on_close_mailbox_forms(self) -> None:
        self._close_change_forms()
        self._close_delete_form()

    def _close_change_forms(self) -> None:
        self.password_box_id = self.password_box_address = self.change_password_error = ""
        self.change_feedback_key = self.change_feedback = ""
        self.quota_box_id = self.quota_box_address = self.quota_value = self.quota_error = ""
        self.edit_key += 1

    def _close_delete_form(self) -> None:
        self.delete_box_id = self.delete_box_address = self.delete_typed = self.delete_error = ""

    def _forget_vanished_boxes(self) -> None:
        """After a load: an editor of a mailbox that is gone closes."""
        if self.password_box_id and not any(b.id == self.password_box_id for b in self.mailboxes):
            self._close_change_forms()
        if self.quota_box_id and not any(b.id == self.quota_box_id for b in self.mailboxes):
            self._close_change_forms()
        if self.delete_box_id and not any(b.id == self.delete_box_id for b in self.mailboxes):
            self._close_delete_form()

    @guard.requires_stepup()
    def start_password_change(self, mailbox_id: str):
        box = self._box(mailbox_id)
        if box is None:
            return
        self._close_change_forms()
        self.password_box_id = box.id
        self.password_box_address = box.address

    @guard.requires_stepup()
    def check_changed_password(self, password: str):
        self.change_feedback_key, self.change_feedback = self._feedback(password)
        self.change_password_error = ""

    @guard.requires_stepup()
    def change_password(self, form_data: dict):
        ctx = guard.current()
        target = parse_row_id(self.password_box_id)
        if not isinstance(form_data, dict) or target is None:
            return
        try:
            mail.change_mailbox_password(ctx.db, ctx.actor, self.selected_domain, target,
                                         form_data.get("password"), now=ctx.now)
        except domains.NotFound as exc:
            self._handle_gone(exc)
            return
        except ValidationError as exc:
            self.change_password_error = self._text(exc)
            return
        address = self.password_box_address
        self._close_change_forms()
        self._say("mailui.password.changed", address=address)
        self._reload()

    @guard.requires_stepup()
    def start_quota_change(self, mailbox_id: str):
        box = self._box(mailbox_id)
        if box is None:
            return
        self._close_change_forms()
        self.quota_box_id = box.id
        self.quota_box_address = box.address
        self.quota_value = box.quota_mb

    @guard.requires_stepup()
    def change_quota(self, form_data: dict):
        ctx = guard.current()
        target = parse_row_id(self.quota_box_id)
        if not isinstance(form_data, dict) or target is None:
            return
        quota = form_data.get("quota_mb")
        self.quota_value = _typed(quota, 20)
        try:
            box = mail.set_mailbox_quota(ctx.db, ctx.actor, self.selected_domain, target, quota, now=ctx.now)
        except domains.NotFound as exc:
            self._handle_gone(exc)
            return
        except ValidationError as exc:
            self.quota_error = self._text(exc)
            return
        self._close_change_forms()
        self._say("mailui.quota.changed", address=box.address, quota=fmt.megabytes(box.quota_mb, self.lang))
        self._reload()

    @guard.requires_stepup()
    def cancel_edit(self):
        self._close_change_forms()

    @guard.requires_stepup()
    def start_delete(self, mailbox_id: str):
        box = self._box(mailbox_id)
        if box is None:
            return
        self._close_delete_form()
        self.delete_box_id = box.id
        self.delete_box_address = box.address

    @guard.requires_stepup()
    def cancel_delete(self):
        self._close_delete_form()

    @guard.requires_stepup()
    def delete_mailbox(self, form_data: dict):
        ctx = guard.current()
        target = parse_row_id(self.delete_box_id)
        if not isinstance(form_data, dict) or target is None:
            return
        typed = form_data.get("confirmation")
        self.delete_typed = _typed(typed, 300)
        try:
            mail.delete_mailbox(ctx.db, ctx.actor, self.selected_domain, target,
                                typed if isinstance(typed, str) else "", now=ctx.now)
        except domains.NotFound as exc:
            self._handle_gone(exc)
            return
        except ValidationError as exc:
            self.delete_error = self._text(exc)
            return
        address = self.delete_box_address
        self._close_delete_form()
        if self.password_box_id == str(target) or self.quota_box_id == str(target):
            self._close_change_forms()
        self._say("mailui.deleted", address=address)
        self._reload()


class MailForwardingState(PagePart, MailState):
    """Forwarders and the catch-all address of the selected domain."""

    area: ClassVar[Area] = Area.EMAIL

    # Forwarders.
    fwd_local_part: str = ""
    fwd_destination: str = ""
    fwd_local_part_error: str = ""
    fwd_destination_error: str = ""
    fwd_key: int = 0
    # Catch-all.
    catch_all_mode: str = "off"
    catch_all_value: str = ""
    catch_all_error: str = ""
    catch_all_key: int = 0

    def _on_domain_changed(self) -> None:
        self._start_over()

    def _start_over(self) -> None:
        self.fwd_local_part = self.fwd_destination = ""
        self.fwd_local_part_error = self.fwd_destination_error = ""
        self.fwd_key += 1
        self._reset_catch_all_form()

    def _reset_catch_all_form(self) -> None:
        self.catch_all_error = ""
        self.catch_all_mode = "on" if self.catch_all else "off"
        self.catch_all_value = self.catch_all
        self.catch_all_key += 1

    @guard.requires_stepup()
    def create_forwarder(self, form_data: dict):
        ctx = guard.current()
        if not isinstance(form_data, dict) or not self.selected_domain:
            return
        local_part = form_data.get("local_part")
        destination = form_data.get("destination")
        self.fwd_local_part = _typed(local_part, 100)
        self.fwd_destination = _typed(destination, 300)
        self.fwd_local_part_error = self.fwd_destination_error = ""
        try:
            fwd = mail.create_forwarder(ctx.db, ctx.actor, self.selected_domain, local_part, destination,
                                        now=ctx.now)
        except domains.NotFound as exc:
            self._handle_gone(exc)
            return
        except ValidationError as exc:
            if exc.field in _FORWARDER_FIELDS:
                setattr(self, f"fwd_{exc.field}_error", self._text(exc))
            else:
                self._fail(exc.message_key, **exc.params)
            return
        self.fwd_local_part = self.fwd_destination = ""
        self.fwd_key += 1
        self._say("mailui.forwarder.created", address=fwd.address, destination=fwd.destination)
        self._reload()

    @guard.requires_stepup()
    def delete_forwarder(self, forwarder_id: str):
        ctx = guard.current()
        target = parse_row_id(forwarder_id)
        if target is None or not self.selected_domain:
            return
        address = next((f.address for f in self.forwarders if f.id == str(target)), "")
        try:
            mail.delete_forwarder(ctx.db, ctx.actor, self.selected_domain, target, now=ctx.now)
        except domains.NotFound as exc:
            self._handle_gone(exc)
            return
        except ValidationError as exc:
            self._fail(exc.message_key, **exc.params)
            return
        self._say("mailui.forwarder.deleted", address=address)
        self._reload()

    @guard.requires_stepup()
    def set_catch_all_mode(self, mode: str):
        if mode in ("off", "on"):
            self.catch_all_mode = mode
            self.catch_all_error = ""

    @guard.requires_stepup()
    def save_catch_all(self, form_data: dict):
        ctx = guard.current()
        if not isinstance(form_data, dict) or not self.selected_domain:
            return
        mode = form_data.get("mode")
        if mode not in ("off", "on"):
            mode = self.catch_all_mode
        destination = form_data.get("destination")
        self.catch_all_mode = mode
        self.catch_all_value = _typed(destination, 300)
        self.catch_all_error = ""
        if mode == "on" and not (isinstance(destination, str) and destination.strip()):
            self.catch_all_error = t("validation.required", self.lang)
            return
        try:
            value = mail.set_catch_all(ctx.db, ctx.actor, self.selected_domain,
                                       destination if mode == "on" else None, now=ctx.now)
        except domains.NotFound as exc:
            self._handle_gone(exc)
            return
        except ValidationError as exc:
            self.catch_all_error = self._text(exc)
            return
        self._reload()
        self._reset_catch_all_form()
        if value:
            self._say("mailui.catch_all.saved_on", destination=value)
        else:
            self._say("mailui.catch_all.saved_off")
