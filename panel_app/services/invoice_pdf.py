"""Server-side PDF rendering (fpdf2) of invoices and contract documents.

Takes plain data (no database access) and returns bytes. Text uses the bundled
DejaVu Sans font (``assets/fonts``, Bitstream Vera licence) because the PDF core
fonts cannot print the euro sign or non-Latin-1 letters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from panel_app.i18n import t
from panel_app.services.billing import Buyer, InvoiceAmounts, Seller, format_date, format_money, format_rate
from panel_app.settings import PROJECT_ROOT

FONT_DIR = PROJECT_ROOT / "assets" / "fonts"
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
FONT_FAMILY = "DejaVu"

# Buyer and seller countries as printed on the invoice (en, de); other codes print as the code.
COUNTRY_NAMES: dict[str, tuple[str, str]] = {
    "AT": ("Austria", "Österreich"), "BE": ("Belgium", "Belgien"), "BG": ("Bulgaria", "Bulgarien"),
    "CH": ("Switzerland", "Schweiz"), "CY": ("Cyprus", "Zypern"), "CZ": ("Czechia", "Tschechien"),
    "DE": ("Germany", "Deutschland"), "DK": ("Denmark", "Dänemark"), "EE": ("Estonia", "Estland"),
    "ES": ("Spain", "Spanien"), "FI": ("Finland", "Finnland"), "FR": ("France", "Frankreich"),
    "GB": ("United Kingdom", "Vereinigtes Königreich"), "GR": ("Greece", "Griechenland"),
    "HR": ("Croatia", "Kroatien"), "HU": ("Hungary", "Ungarn"), "IE": ("Ireland", "Irland"),
    "IS": ("Iceland", "Island"), "IT": ("Italy", "Italien"), "LI": ("Liechtenstein", "Liechtenstein"),
    "LT": ("Lithuania", "Litauen"), "LU": ("Luxembourg", "Luxemburg"), "LV": ("Latvia", "Lettland"),
    "MT": ("Malta", "Malta"), "NL": ("Netherlands", "Niederlande"), "NO": ("Norway", "Norwegen"),
    "PL": ("Poland", "Polen"), "PT": ("Portugal", "Portugal"), "RO": ("Romania", "Rumänien"),
    "SE": ("Sweden", "Schweden"), "SI": ("Slovenia", "Slowenien"), "SK": ("Slovakia", "Slowakei"),
    "US": ("United States", "Vereinigte Staaten"),
}


def country_name(code: str, lang: str) -> str:
    names = COUNTRY_NAMES.get((code or "").upper())
    if names is None:
        return code
    return names[1] if lang == "de" else names[0]


@dataclass(frozen=True)
class Line:
    description: str
    quantity: int
    unit_net_cents: int
    rate_percent: int  # as charged (0 under reverse charge)
    net_cents: int


@dataclass(frozen=True)
class InvoiceData:
    seller: Seller
    buyer: Buyer
    number: str
    issue_date: date
    supply_date: date
    due_date: date
    currency: str
    paid: bool
    reverse_charge: bool
    lines: tuple[Line, ...]
    amounts: InvoiceAmounts


def _printable(text: str) -> str:
    """Drop control characters a PDF cannot show; keep line breaks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    return "".join(c for c in text if c == "\n" or ord(c) >= 32)


class _Pdf(FPDF):
    def __init__(self, seller: Seller, lang: str):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.seller = seller
        self.ui_lang = lang
        self.running_title = ""  # repeated in the footer, so every page says what it belongs to
        if not (FONT_REGULAR.exists() and FONT_BOLD.exists()):
            raise RuntimeError(
                f"PDF fonts missing: need DejaVuSans.ttf and DejaVuSans-Bold.ttf in {FONT_DIR}"
            )
        self.add_font(FONT_FAMILY, "", str(FONT_REGULAR))
        self.add_font(FONT_FAMILY, "B", str(FONT_BOLD))
        self.set_margins(20, 18, 20)
        self.set_auto_page_break(True, margin=28)

    def footer(self) -> None:
        s = self.seller
        page = t("billing.pdf.page", self.ui_lang, page=self.page_no())
        self.set_y(-24)
        self.set_font(FONT_FAMILY, "", 7)
        self.set_text_color(90, 90, 90)
        lines = [
            f"{s.name} · {s.street} · {s.postal_code} {s.city} · {country_name(s.country, self.ui_lang)}"
            f" · {t('billing.pdf.vat_id', self.ui_lang)} {s.vat_id}",
            t("billing.pdf.register", self.ui_lang, register=s.commercial_register,
              directors=s.managing_directors),
            t("billing.pdf.bank", self.ui_lang, bank=s.bank_name, iban=s.bank_iban, bic=s.bank_bic)
            + f" · {s.email} · {s.website}",
            f"{self.running_title} · {page}" if self.running_title else page,
        ]
        for line in lines:
            self.cell(0, 3.6, line, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)

    def seller_header(self) -> None:
        s = self.seller
        self.set_font(FONT_FAMILY, "B", 15)
        self.cell(0, 8, s.name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT_FAMILY, "", 8)
        self.cell(0, 4, f"{s.street} · {s.postal_code} {s.city} · {country_name(s.country, self.ui_lang)}",
                  new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.cell(0, 4, f"{t('billing.pdf.vat_id', self.ui_lang)} {s.vat_id} · {s.email}",
                  new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(8)


def _new_pdf(seller: Seller, lang: str, title: str, now: datetime) -> _Pdf:
    pdf = _Pdf(seller, lang)
    pdf.running_title = title
    pdf.set_title(title)
    pdf.set_author(seller.name)
    pdf.set_creator(seller.name)
    pdf.set_lang("de-DE" if lang == "de" else "en-GB")
    pdf.set_creation_date(now if now.tzinfo else now.replace(tzinfo=UTC))
    pdf.add_page()
    pdf.seller_header()
    return pdf


def _buyer_lines(buyer: Buyer, lang: str) -> list[str]:
    lines = []
    if buyer.company:
        lines.append(buyer.company)
    if buyer.name and buyer.name != buyer.company:
        lines.append(buyer.name)
    if buyer.street:
        lines.append(buyer.street)
    place = f"{buyer.postal_code} {buyer.city}".strip()
    if place:
        lines.append(place)
    lines.append(country_name(buyer.country, lang))
    if buyer.vat_id:
        lines.append(f"{t('billing.pdf.vat_id', lang)} {buyer.vat_id}")
    return lines


def render_invoice(data: InvoiceData, lang: str, *, now: datetime) -> bytes:
    money = lambda cents: format_money(cents, data.currency, lang)  # noqa: E731
    title = f"{t('billing.pdf.invoice_title', lang)} {data.number}"
    pdf = _new_pdf(data.seller, lang, title, now)

    # Buyer (left) and invoice facts (right), side by side.
    top = pdf.get_y()
    pdf.set_font(FONT_FAMILY, "", 10)
    for line in _buyer_lines(data.buyer, lang):
        pdf.cell(95, 5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    buyer_bottom = pdf.get_y()
    facts = [
        (t("billing.pdf.invoice_number", lang), data.number),
        (t("billing.pdf.issue_date", lang), format_date(data.issue_date, lang)),
        (t("billing.pdf.supply_date", lang), format_date(data.supply_date, lang)),
        (t("billing.pdf.due_date", lang), format_date(data.due_date, lang)),
        (t("billing.pdf.customer_number", lang), data.buyer.customer_number),
    ]
    pdf.set_y(top)
    for label, value in facts:
        pdf.set_x(118)
        pdf.set_font(FONT_FAMILY, "", 9)
        pdf.cell(38, 5, label)
        pdf.set_font(FONT_FAMILY, "B", 9)
        pdf.cell(34, 5, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(buyer_bottom, pdf.get_y()) + 10)

    pdf.set_font(FONT_FAMILY, "B", 16)
    pdf.cell(0, 9, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)

    pdf.set_font(FONT_FAMILY, "", 9)
    with pdf.table(
        col_widths=(10, 56, 14, 40, 14, 36),
        text_align=("RIGHT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        borders_layout="HORIZONTAL_LINES",
        line_height=5.5,
        headings_style=FontFace(emphasis="BOLD", fill_color=(240, 240, 240)),
    ) as table:
        heading = table.row()
        for key in ("col_pos", "col_description", "col_quantity", "col_unit_price", "col_vat_rate",
                    "col_amount"):
            heading.cell(t(f"billing.pdf.{key}", lang))
        for position, line in enumerate(data.lines, start=1):
            row = table.row()
            row.cell(str(position))
            row.cell(_printable(line.description))
            row.cell(str(line.quantity))
            row.cell(money(line.unit_net_cents))
            row.cell(format_rate(line.rate_percent))
            row.cell(money(line.net_cents))
    pdf.ln(4)

    def total_row(label: str, value: str, *, bold: bool = False) -> None:
        pdf.set_font(FONT_FAMILY, "B" if bold else "", 10 if bold else 9)
        pdf.set_x(80)
        pdf.cell(70, 5.5, label, align="R")
        pdf.cell(40, 5.5, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    for group in data.amounts.groups:
        rate = format_rate(group.rate_percent)
        total_row(t("billing.pdf.net_at_rate", lang, rate=rate), money(group.net_cents))
        total_row(t("billing.pdf.vat_at_rate", lang, rate=rate), money(group.vat_cents))
    total_row(t("billing.pdf.total_net", lang), money(data.amounts.net_cents))
    total_row(t("billing.pdf.total_vat", lang), money(data.amounts.vat_cents))
    total_row(t("billing.pdf.total_gross", lang), money(data.amounts.gross_cents), bold=True)
    pdf.ln(6)

    pdf.set_font(FONT_FAMILY, "", 9)
    if data.reverse_charge:
        pdf.set_font(FONT_FAMILY, "B", 9)
        pdf.multi_cell(0, 5, t("billing.pdf.reverse_charge", lang), align="L", new_x=XPos.LMARGIN,
                       new_y=YPos.NEXT)
        pdf.set_font(FONT_FAMILY, "", 9)
        pdf.ln(2)
    if data.paid:
        note = t("billing.pdf.paid_note", lang)
    else:
        note = t("billing.pdf.payment_terms", lang, amount=money(data.amounts.gross_cents),
                 due=format_date(data.due_date, lang), number=data.number)
    pdf.multi_cell(0, 5, note, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def render_document(
    *,
    seller: Seller,
    title: str,
    issued_on: date,
    body: str,
    customer_number: str,
    customer_name: str,
    lang: str,
    now: datetime,
) -> bytes:
    pdf = _new_pdf(seller, lang, title, now)
    pdf.set_font(FONT_FAMILY, "B", 15)
    pdf.multi_cell(0, 8, _printable(title), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT_FAMILY, "", 9)
    pdf.cell(0, 5, t("billing.pdf.document_issued", lang, date=format_date(issued_on, lang)),
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 5, t("billing.pdf.document_customer", lang, name=customer_name, number=customer_number),
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    pdf.set_font(FONT_FAMILY, "", 10)
    pdf.multi_cell(0, 5.2, _printable(body), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
