"""Invoices and documents: amounts, statuses, account scoping, and what the PDFs say.

pypdf is not installed, so ``pdf_text`` below reads the PDF itself: it inflates
the content streams and maps the glyph codes of the embedded (subset) fonts back
to Unicode through their ToUnicode CMaps, which is what a PDF viewer's copy/paste
does. The tests therefore read the real production bytes, compressed as served.
"""

from __future__ import annotations

import re
import zlib
from datetime import date

import pytest
from sqlmodel import select

from panel_app.models import Account, AuditEvent, Document, InvoiceLine
from panel_app.services import billing, documents
from panel_app.services.audit import Actor
from panel_app.services.billing import (
    SELLER,
    compute_amounts,
    format_money,
    invoice_pdf,
    list_invoices,
    vat_for,
)
from panel_app.services.validation import NotFound

TODAY = date(2026, 11, 25)
RC_NOTE = "Reverse charge: VAT to be accounted for by the recipient (Art. 196 Directive 2006/112/EC)"


# --- a minimal PDF text reader ------------------------------------------------------------


def _objects(pdf: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """{object number: (dictionary text, decoded stream or None)}."""
    objects = {}
    pos = 0
    header = re.compile(rb"(\d+) 0 obj")
    while True:
        match = header.search(pdf, pos)
        if not match:
            return objects
        start = match.end()
        end_obj = pdf.find(b"endobj", start)
        stream_at = pdf.find(b"stream", start)
        if stream_at != -1 and stream_at < end_obj:
            head = pdf[start:stream_at]
            length = int(re.search(rb"/Length (\d+)", head).group(1))
            data_start = stream_at + len(b"stream")
            data_start += 2 if pdf[data_start:data_start + 2] == b"\r\n" else 1
            data = pdf[data_start:data_start + length]
            if b"/FlateDecode" in head:
                data = zlib.decompress(data)
            objects[int(match.group(1))] = (head, data)
            pos = pdf.find(b"endobj", data_start + length) + 6
        else:
            objects[int(match.group(1))] = (pdf[start:end_obj], None)
            pos = end_obj + 6


def _cmap(data: bytes) -> dict[int, str]:
    mapping = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            base = int(dst, 16)
            for offset, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                mapping[code] = chr(base + offset)
    return mapping


_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}


def _tokens(content: bytes):
    """Yield ('str', bytes) | ('name', str) | ('num', str) | ('op', str) | ('[' / ']', None)."""
    i, n = 0, len(content)
    while i < n:
        c = content[i]
        if c in b" \t\r\n":
            i += 1
        elif c == ord("("):
            depth, i, out = 1, i + 1, bytearray()
            while True:
                c = content[i]
                if c == ord("\\"):
                    nxt = content[i + 1]
                    if nxt in _ESCAPES:
                        out += _ESCAPES[nxt]
                        i += 2
                    elif ord("0") <= nxt <= ord("7"):
                        digits = re.match(rb"[0-7]{1,3}", content[i + 1:i + 4]).group(0)
                        out.append(int(digits, 8) & 0xFF)
                        i += 1 + len(digits)
                    else:
                        out.append(nxt)
                        i += 2
                    continue
                if c == ord("("):
                    depth += 1
                elif c == ord(")"):
                    depth -= 1
                    if depth == 0:
                        i += 1
                        break
                out.append(c)
                i += 1
            yield "str", bytes(out)
        elif c == ord("<") and content[i + 1:i + 2] != b"<":
            end = content.index(b">", i)
            yield "str", bytes.fromhex(content[i + 1:end].decode())
            i = end + 1
        elif content[i:i + 2] in (b"<<", b">>"):
            i += 2
        elif c in b"[]":
            yield chr(c), None
            i += 1
        elif c == ord("/"):
            match = re.match(rb"/[^\s/\[\]()<>]*", content[i:])
            yield "name", match.group(0)[1:].decode()
            i += match.end()
        else:
            match = re.match(rb"[^\s/\[\]()<>]+", content[i:])
            word = match.group(0).decode()
            yield ("num" if re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)", word) else "op"), word
            i += match.end()


def pdf_text(pdf: bytes) -> str:
    """The text of every page, one shown string per line."""
    assert pdf.startswith(b"%PDF-")
    objects = _objects(pdf)
    font_cmaps = {}
    for number, (head, _data) in objects.items():
        to_unicode = re.search(rb"/ToUnicode (\d+) 0 R", head)
        if b"/Type /Font" in head and to_unicode:
            font_cmaps[number] = _cmap(objects[int(to_unicode.group(1))][1])
    resources = {}
    for head, _data in objects.values():
        for block in re.findall(rb"/Font\s*<<(.*?)>>", head, re.S):
            for name, ref in re.findall(rb"/(\w+)\s+(\d+) 0 R", block):
                resources[name.decode()] = int(ref)
    pages = sorted(n for n, (head, _) in objects.items() if re.search(rb"/Type /Page\b(?!s)", head))
    lines = []
    for page in pages:
        contents = re.search(rb"/Contents (\d+) 0 R", objects[page][0])
        current: dict[int, str] = {}
        operands: list = []
        in_array: list | None = None
        for kind, value in _tokens(objects[int(contents.group(1))][1]):
            if kind == "[":
                in_array = []
            elif kind == "]":
                operands.append(in_array)
                in_array = None
            elif in_array is not None:
                if kind == "str":
                    in_array.append(value)
            elif kind == "op":
                if value == "Tf":
                    current = font_cmaps.get(resources.get(operands[-2]), {})
                elif value in ("Tj", "'", '"'):
                    lines.append(_decode(operands[-1], current))
                elif value == "TJ":
                    lines.append("".join(_decode(part, current) for part in operands[-1]))
                operands = []
            else:
                operands.append(value)
    return "\n".join(lines)


def _decode(raw: bytes, cmap: dict[int, str]) -> str:
    if not cmap:
        return raw.decode("latin-1")
    return "".join(cmap.get(int.from_bytes(raw[i:i + 2], "big"), "\ufffd") for i in range(0, len(raw), 2))


# --- arranging data --------------------------------------------------------------------------


@pytest.fixture
def owner(make_user, db):
    user = make_user(name="Max Müller")
    account = db.get(Account, user.account_id)
    account.name, account.company = "Max Müller", "Müller Webdesign GmbH"
    account.street, account.postal_code, account.city = "Hauptstraße 5", "80331", "München"
    account.country = "DE"
    account.vat_id = "DE987654321"
    db.add(account)
    db.commit()
    return user


def add_invoice(db, account_id, number, lines, *, issue=date(2026, 11, 1), supply=date(2026, 10, 31),
                due=date(2026, 11, 15), status="open", reverse_charge=False, currency="EUR"):
    invoice = billing.issue_invoice(db, account_id, number=number, issue_date=issue, supply_date=supply, due_date=due,
                                    status=status, reverse_charge=reverse_charge, currency=currency,
                                    lines=[billing.NewLine(*line) for line in lines])
    db.commit()
    return invoice


def audits(db):
    db.expire_all()
    return db.exec(select(AuditEvent).order_by(AuditEvent.id)).all()


MIXED = [("Webhosting Business 11/2026", 1, 1299, 19), ("Domain example.de", 2, 1000, 19),
         ("Printed manual", 3, 150, 7)]


def line(description, quantity, unit_net_cents, rate):
    return InvoiceLine(description=description, quantity=quantity, unit_net_cents=unit_net_cents,
                       vat_rate_percent=rate)


# --- amounts -----------------------------------------------------------------------------------


def test_vat_is_rounded_per_rate_not_per_line():
    # Three lines of 1.02 € at 19 %: per line 0.1938 → 0.19 each (0.57 in all);
    # on the sum 3.06 → 0.5814 → 0.58.
    lines = [line("x", 1, 102, 19) for _ in range(3)]
    amounts = compute_amounts(lines, reverse_charge=False)
    assert amounts.vat_cents == 58
    assert amounts.gross_cents == 306 + 58


def test_vat_rounds_half_up():
    assert vat_for(150, 7) == 11  # 10.5 → 11 (banker's rounding would give 10)
    assert vat_for(250, 19) == 48  # 47.5 → 48
    assert vat_for(-150, 7) == -11  # credits round away from zero, symmetric to charges
    assert vat_for(1000, 0) == 0


def test_mixed_rates_totals():
    amounts = compute_amounts([line(*spec) for spec in MIXED], reverse_charge=False)
    assert [(g.rate_percent, g.net_cents, g.vat_cents) for g in amounts.groups] == [
        (19, 3299, 627), (7, 450, 32)]
    # 3299 * 0.19 = 626.81 → 627; 450 * 0.07 = 31.5 → 32
    assert (amounts.net_cents, amounts.vat_cents, amounts.gross_cents) == (3749, 659, 4408)


def test_reverse_charge_has_zero_rate_and_no_vat():
    amounts = compute_amounts([line(*spec) for spec in MIXED], reverse_charge=True)
    assert [(g.rate_percent, g.net_cents, g.vat_cents) for g in amounts.groups] == [(0, 3749, 0)]
    assert amounts.gross_cents == amounts.net_cents == 3749


@pytest.mark.parametrize(
    "cents, lang, expected",
    [(123456, "en", "€1,234.56"), (123456, "de", "1.234,56 €"), (5, "de", "0,05 €"), (-1999, "en", "-€19.99"),
     (100000000, "de", "1.000.000,00 €")],
)
def test_format_money(cents, lang, expected):
    assert format_money(cents, "EUR", lang) == expected


# --- listing ------------------------------------------------------------------------------------


def test_list_invoices_statuses_and_totals(owner, db, make_user):
    a = owner.account_id
    add_invoice(db, a, "2026-00001", [("A", 1, 10000, 19)], issue=date(2026, 9, 1), due=date(2026, 9, 15),
                status="paid")
    add_invoice(db, a, "2026-00002", [("B", 1, 5000, 19)], issue=date(2026, 10, 1), due=date(2026, 11, 24))
    add_invoice(db, a, "2026-00003", [("C", 1, 2000, 7)], issue=date(2026, 11, 1), due=TODAY)
    other = make_user(email="other@test.example")
    add_invoice(db, other.account_id, "2026-00004", [("D", 1, 99999, 19)])

    result = list_invoices(db, a, TODAY)

    assert [r.number for r in result.invoices] == ["2026-00003", "2026-00002", "2026-00001"]
    by_number = {r.number: r for r in result.invoices}
    assert by_number["2026-00001"].status == "paid"
    assert by_number["2026-00002"].status == "overdue"  # due yesterday, still open
    assert by_number["2026-00003"].status == "open"  # due today is not overdue yet
    assert (by_number["2026-00002"].net_cents, by_number["2026-00002"].vat_cents,
            by_number["2026-00002"].gross_cents) == (5000, 950, 5950)
    assert by_number["2026-00003"].gross_cents == 2140
    (totals,) = result.totals
    assert totals.currency == "EUR"
    assert totals.total_gross_cents == 11900 + 5950 + 2140
    assert totals.open_cents == 5950 + 2140
    assert totals.overdue_cents == 5950


def test_list_invoices_empty_account_has_zero_totals(owner, db):
    result = list_invoices(db, owner.account_id, TODAY)
    assert result.invoices == ()
    assert [(t.currency, t.total_gross_cents, t.open_cents, t.overdue_cents) for t in result.totals] == [
        ("EUR", 0, 0, 0)]


def test_totals_are_per_currency(owner, db):
    add_invoice(db, owner.account_id, "2026-00001", [("A", 1, 1000, 19)])
    add_invoice(db, owner.account_id, "2026-00002", [("B", 1, 1000, 0)], currency="CHF")
    totals = list_invoices(db, owner.account_id, TODAY).totals
    assert [(t.currency, t.total_gross_cents) for t in totals] == [("EUR", 1190), ("CHF", 1000)]


def test_next_invoice_number_is_sequential_per_year(owner, db):
    assert billing.next_invoice_number(db, date(2026, 1, 1)) == "2026-00001"
    add_invoice(db, owner.account_id, "2026-00001", [("A", 1, 1, 19)])
    add_invoice(db, owner.account_id, "2026-00007", [("A", 1, 1, 19)])
    add_invoice(db, owner.account_id, "2025-00042", [("A", 1, 1, 19)])
    assert billing.next_invoice_number(db, date(2026, 12, 31)) == "2026-00008"
    assert billing.next_invoice_number(db, date(2025, 6, 1)) == "2025-00043"


# --- the invoice PDF ------------------------------------------------------------------------------


def test_invoice_pdf_has_the_fields_an_eu_invoice_needs(owner, db, now):
    add_invoice(db, owner.account_id, "2026-00042", MIXED)

    pdf = invoice_pdf(db, Actor.for_user(owner), "2026-00042", now)
    text = pdf_text(pdf)

    for expected in [
        # seller
        SELLER.name, SELLER.street, f"{SELLER.postal_code} {SELLER.city}", SELLER.vat_id,
        # buyer
        "Müller Webdesign GmbH", "Max Müller", "Hauptstraße 5", "80331 München", "Germany",
        "VAT ID DE987654321",
        # invoice facts
        "Invoice 2026-00042", "Invoice date", "2026-11-01", "Date of supply", "2026-10-31", "Due date",
        "2026-11-15",
        # line items
        "Webhosting Business 11/2026", "Domain example.de", "Printed manual", "€12.99", "€10.00", "€20.00",
        "€1.50", "€4.50", "19 %", "7 %",
        # net per rate, VAT per rate, totals
        "Net amount at 19 % VAT", "€32.99", "VAT 19 %", "€6.27", "Net amount at 7 % VAT", "VAT 7 %", "€0.32",
        "Total net", "€37.49", "Total VAT", "€6.59", "Total amount (gross)", "€44.08",
        # every page says what it belongs to
        "Invoice 2026-00042 · Page 1",
    ]:
        assert expected in text, expected
    assert RC_NOTE not in text
    assert "Reverse charge" not in text


def test_invoice_pdf_in_german_for_a_german_user(owner, db, now):
    owner.language = "de"
    db.add(owner)
    db.commit()
    add_invoice(db, owner.account_id, "2026-00043", [("Webhosting Premium", 1, 123456, 19)])

    text = pdf_text(invoice_pdf(db, Actor.for_user(owner), "2026-00043", now))

    for expected in ["Rechnung 2026-00043", "Rechnungsdatum", "01.11.2026", "Leistungsdatum", "31.10.2026",
                     "USt-IdNr. DE987654321", "Deutschland", "1.234,56 €", "234,57 €", "1.469,13 €",
                     "Umsatzsteuer 19 %", "Gesamtbetrag (brutto)"]:
        assert expected in text, expected
    assert "Invoice" not in text


def test_reverse_charge_note_only_on_reverse_charge_invoices(owner, db, now):
    add_invoice(db, owner.account_id, "2026-00050", MIXED, reverse_charge=True)
    add_invoice(db, owner.account_id, "2026-00051", MIXED)
    actor = Actor.for_user(owner)

    reverse = pdf_text(invoice_pdf(db, actor, "2026-00050", now))
    normal = pdf_text(invoice_pdf(db, actor, "2026-00051", now))

    assert RC_NOTE in reverse.replace("\n", " ")
    assert "0 %" in reverse and "19 %" not in reverse and "7 %" not in reverse
    assert "€37.49" in reverse and "€44.08" not in reverse  # gross equals net
    assert "Reverse charge" not in normal
    german = pdf_text(invoice_pdf(db, actor, "2026-00050", now, lang="de")).replace("\n", " ")
    assert "Steuerschuldnerschaft des Leistungsempfängers" in german


def test_invoice_download_is_audited_once(owner, db, now):
    add_invoice(db, owner.account_id, "2026-00060", MIXED)
    invoice_pdf(db, Actor.for_user(owner, ip="203.0.113.9"), "2026-00060", now)
    (event,) = audits(db)
    assert (event.action, event.area, event.target, event.account_id, event.actor_user_id, event.ip) == (
        "invoice_downloaded", "invoices", "2026-00060", owner.account_id, owner.id, "203.0.113.9")


def test_another_accounts_invoice_is_not_found(owner, db, now, make_user):
    stranger = make_user(email="stranger@test.example")
    add_invoice(db, stranger.account_id, "2026-00070", MIXED)

    for number in ["2026-00070", " 2026-00070 ", "2026-99999", {"$ne": None}, 70, "../etc/passwd", "", None,
                   "x" * 31]:
        with pytest.raises(NotFound) as info:
            invoice_pdf(db, Actor.for_user(owner), number, now)
        assert (info.value.field, info.value.message_key) == ("invoice", "billing.error.invoice_not_found")
    assert audits(db) == []
    assert list_invoices(db, owner.account_id, TODAY).invoices == ()


# --- contract documents -----------------------------------------------------------------------------


def add_document(db, account_id, title, body, issued_on=date(2026, 1, 15)):
    document = Document(account_id=account_id, title=title, issued_on=issued_on, body=body)
    db.add(document)
    db.commit()
    return document


def test_documents_are_listed_per_account_and_rendered(owner, db, now, make_user):
    body = "§ 1 Subject\nPanel Hosting GmbH provides webspace.\n\n§ 2 Fees\n12,99 € per month."
    contract = add_document(db, owner.account_id, "Hosting contract", body)
    add_document(db, owner.account_id, "Data processing agreement", "Art. 28 GDPR",
                 issued_on=date(2026, 2, 1))
    stranger = make_user(email="stranger@test.example")
    foreign = add_document(db, stranger.account_id, "Foreign contract", "secret terms")

    rows = documents.list_documents(db, owner.account_id)
    assert [r.title for r in rows] == ["Data processing agreement", "Hosting contract"]

    text = pdf_text(documents.document_pdf(db, Actor.for_user(owner), contract.id, now))
    for expected in ["Hosting contract", "§ 1 Subject", "Panel Hosting GmbH provides webspace.", "§ 2 Fees",
                     "12,99 € per month.", "Issued on 2026-01-15", "Müller Webdesign GmbH"]:
        assert expected in text, expected
    (event,) = audits(db)
    assert (event.action, event.area, event.target) == ("document_downloaded", "invoices", "Hosting contract")

    with pytest.raises(NotFound):
        documents.document_pdf(db, Actor.for_user(owner), foreign.id, now)
    with pytest.raises(NotFound):
        documents.document_pdf(db, Actor.for_user(owner), str(foreign.id), now)
    with pytest.raises(NotFound):
        documents.document_pdf(db, Actor.for_user(owner), True, now)
    assert len(audits(db)) == 1
