"""Payment methods: card and IBAN validation, masking, defaults, and that no full
number is ever stored or logged."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import inspect as sa_inspect
from sqlmodel import SQLModel, select

from panel_app.models import AuditEvent, Invoice, PaymentMethod
from panel_app.services import payments
from panel_app.services.audit import Actor
from panel_app.services.payments import (
    add_card,
    add_sepa,
    detect_brand,
    iban_checksum_valid,
    list_payment_methods,
    luhn_valid,
    mask_iban,
    normalize_card_number,
    normalize_expiry,
    normalize_iban,
    remove_payment_method,
    set_default,
)
from panel_app.services.validation import FormErrors, NotFound, ValidationError

TODAY = date(2026, 11, 25)
VISA = "4242424242424242"
MASTERCARD = "5555555555554444"
IBAN_DE = "DE89370400440532013000"


@pytest.fixture
def owner(make_user):
    return make_user()


@pytest.fixture
def actor(owner):
    return Actor.for_user(owner)


def audits(db):
    db.expire_all()
    return db.exec(select(AuditEvent).order_by(AuditEvent.id)).all()


def error_key(callable_, *args, **kwargs) -> str:
    with pytest.raises(ValidationError) as info:
        callable_(*args, **kwargs)
    return info.value.message_key


# --- Luhn and brands ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number, brand",
    [
        ("4242424242424242", "Visa"), ("4111111111111111", "Visa"), ("4222222222222", "Visa"),
        ("5555555555554444", "Mastercard"), ("2223003122003222", "Mastercard"),
        ("378282246310005", "Amex"), ("6011111111111117", "Discover"), ("3530111333300000", "JCB"),
        ("30569309025904", "Diners Club"), ("6200000000000005", "UnionPay"), ("6759649826438453", "Maestro"),
    ],
)
def test_known_test_cards_pass_luhn_and_get_their_brand(number, brand):
    assert luhn_valid(number)
    assert detect_brand(number) == brand
    assert normalize_card_number(number) == number


@pytest.mark.parametrize("number", ["4242424242424241", "5555555555554445", "378282246310006", "1", ""])
def test_luhn_rejects_wrong_check_digits(number):
    assert not luhn_valid(number)


def test_luhn_rejects_non_digits():
    assert not luhn_valid("42424242424242a2")
    assert not luhn_valid("４２４２")  # full-width digits are not ASCII digits


@pytest.mark.parametrize(
    "raw, key",
    [
        ("4242424242424241", "payments.error.card_checksum"),
        ("4242 4242 4242 4241", "payments.error.card_checksum"),
        ("9999999999999995", "payments.error.card_brand_unsupported"),  # Luhn-valid, unknown issuer
        ("42424242424242424242", "payments.error.card_number_invalid"),  # 20 digits
        ("42424242424", "payments.error.card_number_invalid"),  # 11 digits
        ("4242-4242-4242-424x", "payments.error.card_number_invalid"),
        ("", "payments.error.card_number_invalid"),
        (4242424242424242, "payments.error.card_number_invalid"),  # JSON number, not a string
        (None, "payments.error.card_number_invalid"),
        (["4242424242424242"], "payments.error.card_number_invalid"),
    ],
)
def test_card_number_rules(raw, key):
    assert error_key(normalize_card_number, raw) == key


def test_card_number_accepts_spaces_and_hyphens():
    assert normalize_card_number(" 4242 4242-4242 4242 ") == VISA


def test_card_number_never_appears_in_the_error():
    with pytest.raises(ValidationError) as info:
        normalize_card_number("4242424242424241")
    assert "4242424242424241" not in str(info.value) and "4241" not in repr(info.value.params)


# --- expiry ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "month, year, expected",
    [(11, 2026, (11, 2026)), (11, 26, (11, 2026)), ("08", "28", (8, 2028)), (12, 2046, (12, 2046)),
     ("1", "2030", (1, 2030))],
)
def test_expiry_accepted(month, year, expected):
    assert normalize_expiry(month, year, TODAY) == expected


@pytest.mark.parametrize(
    "month, year, key",
    [
        (10, 2026, "payments.error.card_expired"),  # last month
        (12, 2025, "payments.error.year_past"),
        (13, 2027, "payments.error.month_invalid"),
        (0, 2027, "payments.error.month_invalid"),
        (1, 2047, "payments.error.year_invalid"),  # more than 20 years ahead
        (1, 1999, "payments.error.year_invalid"),
        ("ab", 2027, "payments.error.month_invalid"),
        (True, 2027, "payments.error.month_invalid"),
        (1, None, "payments.error.year_invalid"),
        (1, 12345, "payments.error.year_invalid"),
    ],
)
def test_expiry_rejected(month, year, key):
    assert error_key(normalize_expiry, month, year, TODAY) == key


def test_a_wrong_month_and_a_past_year_are_both_reported():
    with pytest.raises(FormErrors) as info:
        normalize_expiry("13", "2020", TODAY)
    assert [(e.field, e.message_key) for e in info.value.errors] == [
        ("exp_month", "payments.error.month_invalid"), ("exp_year", "payments.error.year_past")]


def test_every_wrong_field_of_the_card_form_at_once(db, actor, now):
    with pytest.raises(FormErrors) as info:
        add_card(db, actor, number="4242424242424241", exp_month="13", exp_year=str(now.year - 1), holder="",
                 now=now)
    assert [(e.field, e.message_key) for e in info.value.errors] == [
        ("number", "payments.error.card_checksum"), ("exp_month", "payments.error.month_invalid"),
        ("exp_year", "payments.error.year_past"), ("holder", "validation.required")]
    assert "4242424242424241" not in repr([e.params for e in info.value.errors])
    assert db.exec(select(PaymentMethod)).all() == []


# --- IBAN -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("DE89370400440532013000", "DE89370400440532013000"),
        ("de89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("  DE89\t3704 0044 0532 0130 00 ", "DE89370400440532013000"),
        ("GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432"),
        ("fr14 2004 1010 0505 0001 3m02 606", "FR1420041010050500013M02606"),
        ("NO9386011117947", "NO9386011117947"),  # shortest (15)
        ("MT84MALT011000012345MTLCAST001S", "MT84MALT011000012345MTLCAST001S"),  # 31
        ("AT611904300234573201", "AT611904300234573201"),
        ("CH9300762011623852957", "CH9300762011623852957"),
    ],
)
def test_valid_ibans(raw, expected):
    assert normalize_iban(raw) == expected


@pytest.mark.parametrize(
    "raw, key, params",
    [
        ("DE89370400440532013001", "payments.error.iban_checksum", {}),  # last digit changed
        ("DE98370400440532013000", "payments.error.iban_checksum", {}),  # check digits swapped
        ("DE8937040044053201300", "payments.error.iban_length", {"country": "DE", "length": 22}),  # 21
        ("DE893704004405320130000", "payments.error.iban_length", {"country": "DE", "length": 22}),  # 23
        ("XX89370400440532013000", "payments.error.iban_country_unknown", {"country": "XX"}),
        # valid, but not from a SEPA country:
        ("BR1800360305000010009795493C1", "payments.error.iban_not_sepa", {"country": "BR"}),
        ("SA0380000000608010167519", "payments.error.iban_not_sepa", {"country": "SA"}),
        ("DE89-3704-0044-0532-0130-00", "payments.error.iban_invalid", {}),
        ("DEXX370400440532013000", "payments.error.iban_invalid", {}),
        ("8937040044053201300000", "payments.error.iban_invalid", {}),
        ("DÉ89370400440532013000", "payments.error.iban_invalid", {}),
        ("", "payments.error.iban_invalid", {}),
        (None, "payments.error.iban_invalid", {}),
        (12345, "payments.error.iban_invalid", {}),
    ],
)
def test_invalid_ibans(raw, key, params):
    with pytest.raises(ValidationError) as info:
        normalize_iban(raw)
    assert (info.value.field, info.value.message_key, info.value.params) == ("iban", key, params)


def test_iban_checksum_function():
    assert iban_checksum_valid("GB82WEST12345698765432")
    assert not iban_checksum_valid("GB82WEST12345698765433")
    assert not iban_checksum_valid("GB82")


def test_iban_mask_keeps_groups_of_four():
    assert mask_iban("DE", "1234") == "DE•• •••• •••• •••• ••12 34"
    assert mask_iban("NO", "7947") == "NO•• •••• •••7 947"  # 15 characters
    assert mask_iban("AT", "3201") == "AT•• •••• •••• •••• 3201"  # 20 characters


# --- adding, listing, defaults ---------------------------------------------------------------------


def test_add_card_and_sepa_and_list_masked(db, actor, owner, now):
    card = add_card(db, actor, number="4242 4242 4242 4242", exp_month=8, exp_year=28, holder=" Max Müller ",
                    now=now)
    sepa = add_sepa(db, actor, iban="de89 3704 0044 0532 0130 00", holder="Max Müller", now=now)
    db.commit()

    assert card.label == "Visa •••• 4242, expires 08/28"
    assert card.is_default and not sepa.is_default  # the first method becomes the default
    assert sepa.masked == "DE•• •••• •••• •••• ••30 00"
    assert sepa.label == "SEPA direct debit DE•• •••• •••• •••• ••30 00"

    rows = list_payment_methods(db, owner.account_id, today=TODAY, lang="de")
    assert [r.label for r in rows] == ["Visa •••• 4242, gültig bis 08/28",
                                       "SEPA-Lastschrift DE•• •••• •••• •••• ••30 00"]
    assert [r.holder for r in rows] == ["Max Müller", "Max Müller"]
    stored = db.exec(select(PaymentMethod).order_by(PaymentMethod.id)).all()
    assert [(m.kind, m.brand, m.last4, m.country, m.exp_month, m.exp_year) for m in stored] == [
        ("card", "Visa", "4242", "", 8, 2028), ("sepa", "SEPA", "3000", "DE", None, None)]
    assert all(len(m.token) == 48 for m in stored) and stored[0].token != stored[1].token


def _every_stored_value(db) -> list[str]:
    values = []
    with db.get_bind().connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            assert table.name in sa_inspect(conn).get_table_names()
            for row in conn.execute(table.select()):
                values.extend(str(v) for v in row)
    return values


def test_no_full_number_in_any_table_or_log(db, actor, now, caplog):
    caplog.set_level(logging.DEBUG)  # everything, including SQLAlchemy's statements and parameters:
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")  # (SQLAlchemy mutes itself to WARN by default)
    add_card(db, actor, number="5555 5555 5555 4444", exp_month=12, exp_year=2029, holder="Max", now=now)
    add_sepa(db, actor, iban="DE89 3704 0044 0532 0130 00", holder="Max", now=now)
    with pytest.raises(ValidationError):  # a rejected attempt must not leave the number behind either
        add_card(db, actor, number=VISA, exp_month=1, exp_year=2020, holder="Max", now=now)
    db.commit()

    secrets_ = [MASTERCARD, "5555 5555 5555 4444", IBAN_DE, "DE89 3704 0044 0532 0130 00", VISA,
                "370400440532013000", "555555555555"]
    values = _every_stored_value(db)
    assert any("4444" == v for v in values)  # the scan does see the payment method rows
    for value in values:
        for secret in secrets_:
            assert secret not in value.replace(" ", "") and secret not in value
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    # SQL and its parameters were logged, so the check below is real:
    assert "INSERT INTO paymentmethod" in logged and "'4444'" in logged
    for secret in secrets_:
        assert secret not in logged


def test_adding_is_audited_without_numbers(db, actor, now):
    add_card(db, actor, number=VISA, exp_month=8, exp_year=2028, holder="Max", now=now)
    add_sepa(db, actor, iban=IBAN_DE, holder="Max", now=now)
    events = audits(db)
    assert [(e.action, e.area, e.target) for e in events] == [
        ("payment_method_added", "payments", "Visa •••• 4242"),
        ("payment_method_added", "payments", "DE•• •••• •••• •••• ••30 00"),
    ]
    for event in events:
        assert VISA not in event.detail and IBAN_DE not in event.detail and "token" not in event.detail


def test_invalid_input_writes_nothing(db, actor, now):
    for kwargs in [dict(number="4242424242424241", exp_month=8, exp_year=2028, holder="Max"),
                   dict(number=VISA, exp_month=8, exp_year=2028, holder=""),
                   dict(number=VISA, exp_month=8, exp_year=2028, holder="Max\x00"),
                   dict(number=VISA, exp_month=10, exp_year=2026, holder="Max")]:
        with pytest.raises(ValidationError):
            add_card(db, actor, now=now, **kwargs)
    with pytest.raises(ValidationError):
        add_sepa(db, actor, iban="DE89370400440532013001", holder="Max", now=now)
    assert db.exec(select(PaymentMethod)).all() == []
    assert audits(db) == []


def test_at_most_ten_methods(db, actor, now):
    for _ in range(payments.MAX_METHODS_PER_ACCOUNT):
        add_sepa(db, actor, iban=IBAN_DE, holder="Max", now=now)
    assert error_key(add_card, db, actor, number=VISA, exp_month=8, exp_year=2028, holder="Max",
                     now=now) == "payments.error.too_many"


def test_set_default_moves_the_flag(db, actor, owner, now):
    first = add_card(db, actor, number=VISA, exp_month=8, exp_year=2028, holder="Max", now=now)
    second = add_sepa(db, actor, iban=IBAN_DE, holder="Max", now=now)
    set_default(db, actor, second.id, now=now)
    rows = list_payment_methods(db, owner.account_id, today=TODAY)
    assert [(r.id, r.is_default) for r in rows] == [(second.id, True), (first.id, False)]
    assert audits(db)[-1].action == "payment_method_default_set"
    assert len(audits(db)) == 3


def test_expired_card_cannot_become_default(db, actor, owner, now):
    add_sepa(db, actor, iban=IBAN_DE, holder="Max", now=now)
    card = add_card(db, actor, number=VISA, exp_month=12, exp_year=2026, holder="Max", now=now)
    later = datetime(2027, 1, 3, tzinfo=UTC)
    assert error_key(set_default, db, actor, card.id, now=later) == "payments.error.card_expired"
    row = [r for r in list_payment_methods(db, owner.account_id, today=later.date()) if r.id == card.id][0]
    assert row.expired and row.label == "Visa •••• 4242, expired 12/26"


def test_removing_the_default_promotes_the_oldest_usable(db, actor, owner, now):
    default = add_card(db, actor, number=VISA, exp_month=8, exp_year=2028, holder="Max", now=now)
    expired_soon = add_card(db, actor, number=MASTERCARD, exp_month=12, exp_year=2026, holder="Max", now=now)
    sepa = add_sepa(db, actor, iban=IBAN_DE, holder="Max", now=now)
    later = datetime(2027, 2, 1, tzinfo=UTC)

    remove_payment_method(db, actor, default.id, now=later)

    rows = list_payment_methods(db, owner.account_id, today=later.date())
    assert {r.id: r.is_default for r in rows} == {expired_soon.id: False, sepa.id: True}
    event = audits(db)[-1]
    assert (event.action, event.target) == ("payment_method_removed", "Visa •••• 4242")


def test_last_method_cannot_go_while_an_invoice_is_open(db, actor, owner, now):
    only = add_sepa(db, actor, iban=IBAN_DE, holder="Max", now=now)
    invoice = Invoice(account_id=owner.account_id, number="2026-00001", issue_date=TODAY, supply_date=TODAY,
                      due_date=TODAY, status="open")
    db.add(invoice)
    db.commit()

    assert error_key(remove_payment_method, db, actor, only.id, now=now) == \
        "payments.error.last_method_open_invoice"
    assert len(list_payment_methods(db, owner.account_id, today=TODAY)) == 1

    second = add_card(db, actor, number=VISA, exp_month=8, exp_year=2028, holder="Max", now=now)
    remove_payment_method(db, actor, only.id, now=now)  # not the last one: fine
    assert [r.id for r in list_payment_methods(db, owner.account_id, today=TODAY)] == [second.id]

    invoice.status = "paid"
    db.add(invoice)
    db.commit()
    remove_payment_method(db, actor, second.id, now=now)  # nothing open: the last one may go
    assert list_payment_methods(db, owner.account_id, today=TODAY) == ()
    assert [e.action for e in audits(db)] == ["payment_method_added", "payment_method_added",
                                              "payment_method_removed", "payment_method_removed"]


def test_another_accounts_method_is_not_found(db, actor, make_user, now):
    stranger = make_user(email="stranger@test.example")
    theirs = add_card(db, Actor.for_user(stranger), number=VISA, exp_month=8, exp_year=2028, holder="S",
                      now=now)
    db.commit()
    before = len(audits(db))
    for method_id in [theirs.id, str(theirs.id), 999999, 2**31, "99999999999", -1, 0, "1 OR 1=1", None, True,
                      1.0]:
        with pytest.raises(NotFound):
            set_default(db, actor, method_id, now=now)
        with pytest.raises(NotFound):
            remove_payment_method(db, actor, method_id, now=now)
    assert db.get(PaymentMethod, theirs.id) is not None
    assert len(audits(db)) == before
    assert list_payment_methods(db, actor.account_id, today=TODAY) == ()

