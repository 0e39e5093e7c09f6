"""Contract documents: listing them and their PDF downloads (invoices: ``services/billing.py``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from panel_app.models import Account, Document
from panel_app.security.permissions import Area
from panel_app.services import audit
from panel_app.services.audit import Actor
from panel_app.services.billing import SELLER, _language_of, coerce_id
from panel_app.services.validation import NotFound


@dataclass(frozen=True)
class DocumentRow:
    id: int
    title: str
    kind: str  # contract | terms | ... (free text from the seed / back office)
    issued_on: date


def list_documents(db: Session, account_id: int) -> tuple[DocumentRow, ...]:
    rows = db.exec(
        select(Document)
        .where(Document.account_id == account_id)
        .order_by(Document.issued_on.desc(), Document.id.desc())
    ).all()
    return tuple(DocumentRow(d.id, d.title, d.kind, d.issued_on) for d in rows)


def document_filename(document_id: int, title: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower()[:60] or "document"
    return f"{slug}-{document_id}.pdf"


def get_document(db: Session, account_id: int, document_id: object) -> DocumentRow:
    document = _get_document(db, account_id, document_id)
    return DocumentRow(document.id, document.title, document.kind, document.issued_on)


def _get_document(db: Session, account_id: int, document_id: object) -> Document:
    ident = coerce_id(document_id, "document", "billing.error.document_not_found")
    document = db.get(Document, ident)
    if document is None or document.account_id != account_id:
        raise NotFound("document", "billing.error.document_not_found")
    return document


def document_pdf(
    db: Session, actor: Actor, document_id: object, now: datetime, *, lang: str | None = None
) -> bytes:
    """A contract document (its stored body) as a PDF; audited as ``document_downloaded``."""
    from panel_app.services import invoice_pdf as renderer

    document = _get_document(db, actor.account_id, document_id)
    account = db.get(Account, document.account_id)
    pdf = renderer.render_document(
        seller=SELLER,
        title=document.title,
        issued_on=document.issued_on,
        body=document.body,
        customer_number=account.customer_number,
        customer_name=account.company or account.name,
        lang=_language_of(db, actor, lang),
        now=now,
    )
    audit.record(db, actor, Area.INVOICES, "document_downloaded", now=now, target=document.title,
                 document_id=document.id)
    return pdf
