"""/invite?token=...: a public page where an invited administrator sets up their login.

No login is needed, so these handlers carry no guard. Instead each one decides
from the database at the moment of the event: the token is read from the page
URL and checked again when the form is sent (not only when the page loaded), and
every field is validated by the service. Nothing here reveals anything about an
address other than the invited one.
"""

from __future__ import annotations

import logging

import reflex as rx

from panel_app.clock import utcnow
from panel_app.db import transaction
from panel_app.i18n import LANGUAGES, t
from panel_app.i18n import formatting as fmt
from panel_app.services import invitations
from panel_app.services.notifications import notify_user
from panel_app.services.validation import ValidationError
from panel_app.state.auth import AuthState
from panel_app.tasks import spawn

log = logging.getLogger(__name__)

STATUS_LOADING = "loading"
STATUS_INVALID = "invalid"
STATUS_OPEN = "open"
STATUS_DONE = "done"


class InviteState(AuthState):
    invite_status: str = STATUS_LOADING
    intro_text: str = ""
    inviter: str = ""
    account_name: str = ""
    invite_email: str = ""
    areas_text: str = ""
    expires: str = ""
    name_value: str = ""
    phone_value: str = ""
    name_error: str = ""
    password_error: str = ""
    phone_error: str = ""
    language_error: str = ""
    form_error: str = ""
    _language_chosen: bool = False
    _preview_name: str = ""

    def _token(self) -> object:
        return self.router.url.query_parameters.get("token") if self.router.url else None

    def _clear_errors(self) -> None:
        self.name_error = self.password_error = self.phone_error = self.language_error = self.form_error = ""

    def _show_invalid(self) -> None:
        self.invite_status = STATUS_INVALID
        self.inviter = self.account_name = self.invite_email = self.areas_text = self.expires = ""
        self.intro_text = ""
        self.name_value = self.phone_value = ""
        self._clear_errors()

    def _show(self, preview: invitations.InvitationPreview) -> None:
        lang = self.lang
        self.invite_status = STATUS_OPEN
        self.inviter = preview.inviter_name
        self.account_name = preview.account_name
        self.intro_text = t("invite.intro", lang, inviter=preview.inviter_name, account=preview.account_name)
        self.invite_email = preview.email
        self.areas_text = ", ".join(t(f"activity.area.{a}", lang) for a in preview.areas)
        self.expires = fmt.moment(preview.expires_at, lang)
        self._preview_name = preview.name

    def _refresh(self) -> bool:
        """Show the invitation behind the URL's token, checked in the database now."""
        with transaction() as db:
            preview = invitations.describe_invitation(db, self._token(), now=utcnow())
        if preview is None:
            self._show_invalid()
            return False
        self._show(preview)
        return True

    @rx.event
    def open_invite(self):
        """on_load: who invited, for which account; or a plain "this link does not work"."""
        if not self.signed_in and not self._language_chosen:
            self.lang = self._tab_language()
        self._clear_errors()
        self.phone_value = ""
        if self._refresh():
            self.name_value = self._preview_name

    @rx.event
    def choose_language(self, lang: str):
        """The page's language before there is a login (a display preference of this tab)."""
        if not isinstance(lang, str) or lang not in LANGUAGES or self.signed_in:
            return
        self.lang = self._picked_language = lang
        self._language_chosen = True
        if self.invite_status == STATUS_OPEN:
            self._refresh()

    @rx.event
    def accept(self, form_data: dict):
        if self.invite_status != STATUS_OPEN or not isinstance(form_data, dict):
            return
        name, password = form_data.get("name"), form_data.get("password")
        phone, language = form_data.get("phone"), form_data.get("language") or self.lang
        self._clear_errors()
        self.name_value = name[:200] if isinstance(name, str) else ""
        self.phone_value = phone[:32] if isinstance(phone, str) else ""
        router = self.router
        try:
            with transaction() as db:
                joined = invitations.accept_invitation(
                    db, self._token(), name=name, password=password, phone=phone, language=language,
                    now=utcnow(), ip=(router.session.client_ip or "")[:64],
                    user_agent=(router.headers.user_agent or "")[:300],
                )
        except invitations.InvitationInvalid:
            self._show_invalid()
            return
        except ValidationError as exc:
            text = t(exc.message_key, self.lang, **exc.params)
            target = {"name": "name_error", "password": "password_error", "phone": "phone_error",
                      "language": "language_error"}.get(exc.field, "form_error")
            setattr(self, target, text)
            return
        label = f"{joined.name} <{joined.email}>"
        for owner_id, owner_lang in zip(joined.owner_ids, joined.owner_languages, strict=True):
            areas = ", ".join(t(f"activity.area.{a}", owner_lang) for a in joined.areas)
            spawn(notify_user(owner_id, "admin_added", admin=label, areas=areas))
        self.invite_status = STATUS_DONE
        self.name_value = self.phone_value = ""
