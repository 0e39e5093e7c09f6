"""/payment-methods: masked cards and SEPA mandates; add, make default, remove.

A full card number or IBAN exists only in the submitted form data of one event:
it is read from there, handed to the payments service (which keeps the last four
digits) and dropped. No state var ever holds it, so it is never sent back to the
browser, persisted with the state or shown in an error message. After a
successful add the form is remounted empty; after an error the other fields are
kept from state vars while the number stays only in the browser's input field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from panel_app.i18n import t
from panel_app.security.permissions import Area
from panel_app.services import payments
from panel_app.services.validation import FormErrors, ValidationError, parse_row_id
from panel_app.state import guard
from panel_app.state.auth import AuthState
from panel_app.state.gated import GatedPage

_SHORT_INPUT = 200
_NUMBER_LIKE_DIGITS = 8
# Which state var shows the error of which card form field.
_CARD_ERROR_VARS = {"number": "card_number_error", "exp_month": "card_exp_month_error",
                    "exp_year": "card_exp_year_error", "holder": "card_holder_error"}


def _text(form_data: dict, name: str, limit: int = _SHORT_INPUT) -> str:
    """A kept (non-secret) form value for redisplay: a bounded string or "".

    A value with many digits is not kept: it may be a card number or IBAN typed
    into the wrong field, and those must not enter state.
    """
    value = form_data.get(name)
    if not isinstance(value, str) or sum(c.isdigit() for c in value) >= _NUMBER_LIKE_DIGITS:
        return ""
    return value[:limit]


@dataclass(frozen=True, slots=True)
class MethodRow:
    """A stored card or SEPA mandate, masked."""

    id: str
    kind: str
    kind_label: str
    label: str
    masked: str
    holder: str
    default: str  # "1" or ""
    expired: str  # "1" or ""
    remove_label: str
    default_label: str


class PaymentsState(GatedPage, AuthState):
    area: ClassVar[Area] = Area.PAYMENTS

    methods: list[MethodRow] = []
    # Card form: holder and expiry are kept on error; the number never enters state.
    card_holder: str = ""
    card_exp_month: str = ""
    card_exp_year: str = ""
    card_number_error: str = ""
    card_exp_month_error: str = ""
    card_exp_year_error: str = ""
    card_holder_error: str = ""
    card_form_key: int = 0
    # SEPA form: holder is kept on error; the IBAN never enters state.
    sepa_holder: str = ""
    sepa_iban_error: str = ""
    sepa_holder_error: str = ""
    sepa_form_key: int = 0

    def _load(self, ctx: guard.GuardContext) -> None:
        lang = ctx.lang
        self.methods = [
            MethodRow(
                id=str(row.id),
                kind=row.kind,
                kind_label=t(f"payments.kind.{row.kind}", lang),
                label=row.label,
                masked=row.masked,
                holder=row.holder,
                default="1" if row.is_default else "",
                expired="1" if row.expired else "",
                remove_label=t("payments.remove_named", lang, masked=row.masked),
                default_label=t("payments.make_default_named", lang, masked=row.masked),
            )
            for row in payments.list_payment_methods(ctx.db, ctx.user.account_id, today=ctx.now.date(), lang=lang)
        ]

    def _clear_card_errors(self) -> None:
        self.card_number_error = self.card_exp_month_error = self.card_exp_year_error = ""
        self.card_holder_error = ""

    def _clear_sepa_errors(self) -> None:
        self.sepa_iban_error = self.sepa_holder_error = ""

    @guard.requires_stepup()
    def add_card(self, form_data: dict):
        ctx = guard.current()
        if not isinstance(form_data, dict):
            return
        self._clear_card_errors()
        self.message = self.error = ""
        self.card_holder = _text(form_data, "holder")
        self.card_exp_month = _text(form_data, "exp_month", 4)
        self.card_exp_year = _text(form_data, "exp_year", 4)
        try:
            payments.add_card(ctx.db, ctx.actor, number=form_data.get("number"),
                              exp_month=form_data.get("exp_month"), exp_year=form_data.get("exp_year"),
                              holder=form_data.get("holder"), now=ctx.now, lang=ctx.lang)
        except ValidationError as exc:
            # Every wrong field at once, each message beside its field.
            for error in exc.errors if isinstance(exc, FormErrors) else [exc]:
                text = t(error.message_key, ctx.lang, **error.params)
                target = _CARD_ERROR_VARS.get(error.field)
                if target:
                    setattr(self, target, text)
                else:
                    self.error = text
            return
        finally:
            # The full number goes no further than this event (Reflex also sends it keyed by the
            # input's id, so everything is dropped).
            form_data.clear()
        self.card_holder = self.card_exp_month = self.card_exp_year = ""
        self.card_form_key += 1
        self._say("payments.added")
        self._reload()

    @guard.requires_stepup()
    def add_sepa(self, form_data: dict):
        ctx = guard.current()
        if not isinstance(form_data, dict):
            return
        self._clear_sepa_errors()
        self.message = self.error = ""
        self.sepa_holder = _text(form_data, "holder")
        try:
            payments.add_sepa(ctx.db, ctx.actor, iban=form_data.get("iban"), holder=form_data.get("holder"),
                              now=ctx.now, lang=ctx.lang)
        except ValidationError as exc:
            text = t(exc.message_key, ctx.lang, **exc.params)
            if exc.field == "iban":
                self.sepa_iban_error = text
            elif exc.field == "holder":
                self.sepa_holder_error = text
            else:
                self.error = text
            return
        finally:
            form_data.clear()
        self.sepa_holder = ""
        self.sepa_form_key += 1
        self._say("payments.added")
        self._reload()

    @guard.requires_stepup()
    def make_default(self, method_id: str):
        ctx = guard.current()
        target = parse_row_id(method_id)
        if target is None:
            return
        try:
            payments.set_default(ctx.db, ctx.actor, target, now=ctx.now)
        except ValidationError as exc:
            self._fail(exc.message_key, **exc.params)
            self._reload()
            return
        self._say("payments.default_set")
        self._reload()

    @guard.requires_stepup()
    def remove(self, method_id: str):
        ctx = guard.current()
        target = parse_row_id(method_id)
        if target is None:
            return
        try:
            payments.remove_payment_method(ctx.db, ctx.actor, target, now=ctx.now)
        except ValidationError as exc:
            self._fail(exc.message_key, **exc.params)
            self._reload()
            return
        self._say("payments.removed")
        self._reload()
