"""Letters by post: one small interface, the demo outbox its only implementation here.

A letter is a finished PDF (``services/letter_pdf.py``) and the postal address it goes to.
``LetterPost.send`` takes the caller's database session, so that a letter exists exactly
when the request that made it is committed: the demo writes it into the outbox (shown on
/dev/outbox with the PDF to download). A production print-and-mail service would do the
same with a queue table of its own, handed to the provider after the commit; none is
built in, so outside demo mode ``configured_post()`` is None and letters are refused with
a clear error rather than dropped.

The PDF holds the one-time code; nothing else does (``repr`` hides the PDF, and the
outbox text names the address and the reference only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlmodel import Session

from panel_app.delivery.outbox import write_outbox
from panel_app.settings import get_settings

CHANNEL_POST = "post"


@dataclass(frozen=True)
class PostalAddress:
    name: str
    company: str
    street: str
    postal_code: str
    city: str
    country: str  # ISO code

    @property
    def complete(self) -> bool:
        return bool(self.name.strip() and self.street.strip() and self.postal_code.strip() and self.city.strip())

    def lines(self, country_name: str) -> list[str]:
        found = [self.company] if self.company and self.company != self.name else []
        found += [self.name, self.street, f"{self.postal_code} {self.city}".strip(), country_name]
        return [line for line in found if line]


@dataclass(frozen=True)
class LetterToPost:
    address: PostalAddress
    language: str
    reference: str  # "letter-12 / ticket #5": what the print service and the outbox show
    subject: str
    pdf: bytes = field(repr=False)


@dataclass(frozen=True)
class PostResult:
    ok: bool
    reference: str = ""  # the service's id of the letter
    error_code: str = ""


class LetterPost(Protocol):
    name: str

    def send(self, db: Session, letter: LetterToPost, *, now: datetime) -> PostResult: ...


class OutboxPost:
    """Demo mode: the letter lands in the outbox as its PDF (and a text without the code)."""

    name = "outbox"

    def send(self, db: Session, letter: LetterToPost, *, now: datetime) -> PostResult:
        address = " · ".join(letter.address.lines(letter.address.country))
        text = (f"Letter by post to:\n{chr(10).join(letter.address.lines(letter.address.country))}\n\n"
                f"Reference: {letter.reference}\n"
                "The one-time code is printed in the attached PDF only.")
        row = write_outbox(db, channel=CHANNEL_POST, recipient=address, subject=letter.subject, text=text, now=now,
                           attachment_name=f"{letter.reference.split(' ')[0]}.pdf", attachment=letter.pdf)
        return PostResult(ok=True, reference=f"outbox-{row.id}")


def configured_post() -> LetterPost | None:
    """The demo outbox in demo mode; no print-and-mail service is configured otherwise."""
    return OutboxPost() if get_settings().is_demo else None
