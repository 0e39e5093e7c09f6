"""Base for the state of every sensitive page.

A page state mixes in ``GatedPage`` before ``AuthState`` and sets ``area``. It
implements ``_load`` (fetch display records once the guard has passed) and keeps
its sensitive fields on itself, so ``_wipe`` (``reset``) removes them from the
page. ``load`` is the page's on_load. Nothing polls: when the grant or the
session ends, the tab check in front of the next event and the push loop
(``state/push.py``) wipe every loaded page of the tab and the gate takes its
place. Every handler a page adds must carry ``@guard.requires_stepup()`` (a test
checks them all over the websocket).

A page with much to hold splits it into parts (``PagePart``): substates of the page
state for one form or one secret, guarded the same way and wiped with the page. The
parts live in a module of their own beside the page's (``state/dns_parts.py``) and
hear of the page's changes through hooks the page declares (``_parts``).
"""

from __future__ import annotations

import json
import secrets
from typing import ClassVar

import reflex as rx

from panel_app.i18n import t
from panel_app.security.permissions import Area
from panel_app.services.validation import ValidationError, parse_row_id
from panel_app.state import guard


class GatedPage(rx.State, mixin=True):
    area: ClassVar[Area]
    loaded: bool = False
    _page_id: str = ""  # new on every load of the page: what its parts belong to
    _shown_in: tuple = ()  # the (language, time zone) of the loaded records
    # The page's one line of feedback: what happened, or why not.
    message: str = ""
    error: str = ""
    # Counts what the page reported done: the browser then forgets the drafts of the forms
    # just submitted (assets/panel.js keeps what was typed across a grant's end).
    drafts_saved: int = 0

    def _say(self, key: str, **params) -> None:
        self.message, self.error = t(key, self.lang, **params), ""
        self.drafts_saved += 1

    def _fail(self, key: str, **params) -> None:
        self.error, self.message = t(key, self.lang, **params), ""

    def _act_on(self, raw_id: object, operation):
        """``operation(db, actor, row_id, now=...)`` on the row the page names; its result,
        or None when the id is junk or the service refused (the reason is shown)."""
        ctx = guard.current()
        target = parse_row_id(raw_id)
        if target is None:
            return None
        try:
            return operation(ctx.db, ctx.actor, target, now=ctx.now)
        except ValidationError as exc:
            self._fail(exc.message_key, **exc.params)
            self._reload()
            return None

    def _page(self) -> GatedPage:
        """The page state: this one, or the one a part belongs to."""
        page = self
        while isinstance(page.parent_state, GatedPage):
            page = page.parent_state
        return page

    def _parts(self) -> list[PagePart]:
        """The page's parts this event has (all of them, unless with Redis), ready for use.
        The page tells them what happened to it through hooks it declares and each part
        overrides (``DnsState._on_not_found``): a page never names its parts, which live in
        their own module and import the page."""
        parts = [sub for sub in self._page().substates.values() if isinstance(sub, PagePart)]
        for part in parts:
            part._join_page()
        return parts

    def _wipe(self) -> None:
        self._page().reset()  # with every part this event has loaded (PagePart: the others)

    def _accept(self, ctx: guard.GuardContext) -> None:
        super()._accept(ctx)
        if not ctx.grant_checked:
            return
        if not self.loaded:
            self._page_id = secrets.token_hex(8)
        elif self._shown_in == (ctx.lang, ctx.tz):
            return
        # A first load, or the language or time zone changed since: every text the page's
        # records hold is computed anew (its parts keep what they hold).
        self._load(ctx)
        self._shown_in = (ctx.lang, ctx.tz)
        self.loaded = True
        self._holds_sensitive = True

    def _load(self, ctx: guard.GuardContext) -> None:
        raise NotImplementedError

    def _reload(self) -> None:
        """After a change: read the page's records again inside the same event."""
        self._load(guard.current())

    @guard.requires_stepup()
    @guard.automatic
    def load(self):
        """on_load (and when a grant arrives by push): the data appears only after the
        guard confirmed the grant."""

    @guard.requires_stepup()
    @guard.automatic
    def tick(self):
        """Sent by the browser when the countdown reaches zero: the guard wipes the page
        and the gate takes its place (the push loop does the same within a second)."""


class PagePart(rx.State, mixin=True):
    """A part of a sensitive page: a substate of the page state (``class
    DnsRecordFormState(PagePart, DnsState)``) that holds one form or one secret. It has
    the page's guard and wipe and names the page's area again (``area: ClassVar[Area]``,
    as every gated state does); every handler it adds carries
    ``@guard.requires_stepup()`` like the page's own (the same tests find them). What a
    part holds belongs to one load of the page: used after the page was wiped and loaded
    again, it starts empty (with Redis an event loads only the parts it needs, so a wipe
    may not have reached it)."""

    _part_of: str = ""  # the load of the page (GatedPage._page_id) what it holds belongs to

    def _accept(self, ctx: guard.GuardContext) -> None:
        super()._accept(ctx)
        self._join_page()

    def _join_page(self) -> None:
        """Before the part is used (by its own handler or by the page): what it holds
        from an earlier load of the page goes."""
        page_id = self._page()._page_id
        if self._part_of != page_id:
            self.reset()  # its own fields only: the page's are the page's
            self._part_of = page_id

    @guard.requires_stepup()
    @guard.automatic
    def load(self):
        """The part's data comes with its page's: the guard loads the page."""


def gated_page_classes() -> list[type]:
    """Every concrete sensitive page state."""
    found, todo = [], list(GatedPage.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return sorted(set(found), key=lambda c: c.__name__)


def reveal_once(element_id: str, value: str | list[str], *, seconds: int = 0):
    """Show a secret (a transfer auth code, new recovery codes, an authenticator key) to
    the user who asked, without keeping it in the tab's state: it travels in this one
    answer and is written straight into the element ``element_id`` (assets/panel.js),
    cleared after ``seconds`` (0: when the element goes). A reconnect, another event or
    the state store never hand it out again. Return it from the guarded handler."""
    return rx.call_script(f"window.panelReveal({json.dumps(element_id)}, {json.dumps(value)}, {int(seconds)})")
