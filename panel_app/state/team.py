"""/team: the owner invites technical administrators, sets their areas, removes them.

Only owners may enter Area.TEAM (the guard), and every service call checks again
that the actor is the owner. Invitation links never reach this page: they go by
email only (a background task), so nobody but the invited address holds one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from panel_app.i18n import formatting as fmt
from panel_app.i18n import t
from panel_app.security.permissions import GRANTABLE_AREAS, ROLE_OWNER, Area
from panel_app.services import invitations, team
from panel_app.services.notifications import notify_user
from panel_app.services.validation import ValidationError, parse_row_id
from panel_app.state import guard
from panel_app.state.auth import AuthState
from panel_app.state.gated import GatedPage
from panel_app.state.rows import Option
from panel_app.tasks import spawn

_CHECKED = ("on", "true", "1", True)


def _areas_from_form(form_data: dict) -> list[str]:
    return [a.value for a in GRANTABLE_AREAS if form_data.get(f"area_{a.value}") in _CHECKED]


def _areas_text(areas, lang: str) -> str:
    return ", ".join(t(f"activity.area.{a}", lang) for a in areas)


@dataclass(frozen=True, slots=True)
class MemberRow:
    id: str
    email: str
    name: str
    role: str
    role_label: str
    areas: str
    status: str
    status_label: str
    created: str
    sessions: str
    area_values: str  # the member's areas, comma-separated
    manageable: str  # "1" or ""


@dataclass(frozen=True, slots=True)
class InvitationRow:
    id: str
    email: str
    name: str
    areas: str
    status: str
    status_label: str
    created: str
    expires: str


class TeamState(GatedPage, AuthState):
    area: ClassVar[Area] = Area.TEAM

    members: list[MemberRow] = []
    invitations: list[InvitationRow] = []
    area_options: list[Option] = []
    # The invite form: what was typed stays on error; form_key remounts it (empty) after success.
    invite_email: str = ""
    invite_name: str = ""
    invite_areas: list[str] = []
    invite_email_error: str = ""
    invite_name_error: str = ""
    invite_areas_error: str = ""
    form_key: int = 0
    # Changing one administrator's areas.
    editing_id: str = ""
    editing_email: str = ""
    edit_areas: list[str] = []
    edit_error: str = ""

    def _load(self, ctx: guard.GuardContext) -> None:
        lang = ctx.lang
        overview = team.list_team(ctx.db, ctx.actor, now=ctx.now)
        self.area_options = [Option(value=a.value, label=t(f"activity.area.{a.value}", lang))
                             for a in GRANTABLE_AREAS]
        self.members = [
            MemberRow(
                id=str(m.id),
                email=m.email,
                name=m.name or "—",
                role=m.role,
                role_label=t("team.role.owner" if m.role == ROLE_OWNER else "team.role.admin", lang),
                areas=(t("team.areas_all", lang) if m.role == ROLE_OWNER
                          else _areas_text(m.areas, lang) or "—"),
                status=m.status,
                status_label=t(f"team.status.{m.status}", lang),
                created=fmt.day(m.created_at, lang),
                sessions=str(m.active_sessions),
                area_values=",".join(m.areas),
                manageable="1" if m.role != ROLE_OWNER and m.status == team.STATUS_ACTIVE else "",
            )
            for m in overview.members
        ]
        self.invitations = [
            InvitationRow(
                id=str(i.id),
                email=i.email,
                name=i.name or "—",
                areas=_areas_text(i.areas, lang),
                status=i.status,
                status_label=t(f"team.status.{i.status}", lang),
                created=fmt.day(i.created_at, lang),
                expires=guard.current().moment(i.expires_at),
            )
            for i in overview.invitations
        ]
        if self.editing_id and not any(m.id == self.editing_id and m.manageable for m in self.members):
            self._stop_editing()

    @guard.requires_stepup()
    def load(self):
        """on_load: fresh records on every visit (an invitation may have been accepted meanwhile)."""
        self._reload()

    def _stop_editing(self) -> None:
        self.editing_id = self.editing_email = self.edit_error = ""
        self.edit_areas = []

    def _clear_invite_errors(self) -> None:
        self.invite_email_error = self.invite_name_error = self.invite_areas_error = ""

    # --- inviting ---------------------------------------------------------------------------

    @guard.requires_stepup()
    def invite(self, form_data: dict):
        ctx = guard.current()
        if not isinstance(form_data, dict):
            return
        email = form_data.get("email")
        name = form_data.get("name")
        areas = _areas_from_form(form_data)
        self._clear_invite_errors()
        self.invite_email = email[:254] if isinstance(email, str) else ""
        self.invite_name = name[:200] if isinstance(name, str) else ""
        self.invite_areas = areas
        try:
            sent = invitations.invite_admin(ctx.db, ctx.actor, email=email, name=name or "", areas=areas,
                                            now=ctx.now)
        except ValidationError as exc:
            text = t(exc.message_key, ctx.lang, **exc.params)
            if exc.field == "email":
                self.invite_email_error = text
            elif exc.field == "name":
                self.invite_name_error = text
            elif exc.field == "areas":
                self.invite_areas_error = text
            else:
                self._fail(exc.message_key, **exc.params)
            return
        spawn(invitations.send_invitation_email(sent))
        self.invite_email = self.invite_name = ""
        self.invite_areas = []
        self.form_key += 1
        self._say("team.invited", email=sent.email)
        self._reload()

    @guard.requires_stepup()
    def resend_invitation(self, invitation_id: str):
        sent = self._act_on(invitation_id, invitations.resend_invitation)
        if sent is not None:
            spawn(invitations.send_invitation_email(sent))
            self._say("team.resent", email=sent.email)
            self._reload()

    @guard.requires_stepup()
    def revoke_invitation(self, invitation_id: str):
        email = self._act_on(invitation_id, invitations.revoke_invitation)
        if email is not None:
            self._say("team.invitation_revoked", email=email)
            self._reload()

    # --- administrators ---------------------------------------------------------------------

    @guard.requires_stepup()
    def start_edit(self, admin_id: str):
        target = parse_row_id(admin_id)
        row = next((m for m in self.members
                    if target is not None and m.id == str(target) and m.manageable), None)
        if row is None:
            return
        self.editing_id = row.id
        self.editing_email = row.email
        self.edit_areas = [a for a in row.area_values.split(",") if a]
        self.edit_error = ""

    @guard.requires_stepup()
    def cancel_edit(self):
        self._stop_editing()

    @guard.requires_stepup()
    def save_areas(self, form_data: dict):
        ctx = guard.current()
        if not isinstance(form_data, dict):
            return
        target = parse_row_id(self.editing_id)
        if target is None:
            return
        areas = _areas_from_form(form_data)
        try:
            member = team.change_areas(ctx.db, ctx.actor, target, areas, now=ctx.now)
        except ValidationError as exc:
            if exc.field == "areas":
                self.edit_areas = areas
                self.edit_error = t(exc.message_key, ctx.lang, **exc.params)
            else:
                self._stop_editing()
                self._fail(exc.message_key, **exc.params)
                self._reload()
            return
        self._stop_editing()
        self._say("team.areas_saved", email=member.email)
        self._reload()

    @guard.requires_stepup()
    def end_sessions(self, admin_id: str):
        count = self._act_on(admin_id, team.end_admin_sessions)
        if count is not None:
            self._say("team.sessions_ended", count=count)
            self._reload()

    @guard.requires_stepup()
    def remove_admin(self, admin_id: str):
        removed = self._act_on(admin_id, team.revoke_admin)
        if removed is None:
            return
        label = f"{removed.name} <{removed.email}>" if removed.name else removed.email
        spawn(notify_user(guard.current().user.id, "admin_removed", admin=label))
        if self.editing_id == str(removed.user_id):
            self._stop_editing()
        self._say("team.removed", email=removed.email)
        self._reload()

