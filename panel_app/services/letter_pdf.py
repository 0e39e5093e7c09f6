"""The letter by post that carries a one-time code (``services/postal_letters.py``), as a PDF.

Plain data in, bytes out, on the invoices' letterhead (``invoice_pdf``: fpdf2 with the
bundled DejaVu font). The code is printed here and nowhere else.
"""

from __future__ import annotations

from datetime import datetime

from fpdf.enums import XPos, YPos

from panel_app.delivery.post import PostalAddress
from panel_app.i18n import t
from panel_app.services.billing import Seller, format_date
from panel_app.services.invoice_pdf import FONT_FAMILY, _new_pdf, _printable, country_name


def render_letter(*, seller: Seller, address: PostalAddress, code: str, ticket_id: int, expires_at: datetime,
                  url: str, lang: str, now: datetime) -> bytes:
    title = t("letter.pdf.title", lang)
    pdf = _new_pdf(seller, lang, title, now)
    pdf.set_font(FONT_FAMILY, "", 10)
    for line in address.lines(country_name(address.country, lang)):
        pdf.cell(95, 5, _printable(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    pdf.set_font(FONT_FAMILY, "", 9)
    pdf.cell(0, 5, t("letter.pdf.date", lang, date=format_date(now.date(), lang)), align="R",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    pdf.set_font(FONT_FAMILY, "B", 14)
    pdf.cell(0, 8, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    pdf.set_font(FONT_FAMILY, "", 10)

    def paragraph(text: str) -> None:
        pdf.multi_cell(0, 5.2, _printable(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(3)

    paragraph(t("letter.pdf.greeting", lang, name=address.name))
    paragraph(t("letter.pdf.body", lang, ticket=ticket_id, url=url))
    pdf.set_font(FONT_FAMILY, "B", 20)
    pdf.cell(0, 14, code.upper(), align="C", border=1, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(5)
    pdf.set_font(FONT_FAMILY, "", 10)
    paragraph(t("letter.pdf.valid", lang, date=format_date(expires_at.date(), lang)))
    paragraph(t("letter.pdf.not_you", lang))
    paragraph(t("letter.pdf.closing", lang, seller=seller.name))
    return bytes(pdf.output())
