"""Message texts in the user's language. Every inserted value is HTML-escaped."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from panel_app.delivery.base import CodeMessage
from panel_app.i18n import CATALOGS, normalize_language, t

KNOWN_PURPOSES = ("stepup", "confirm_email", "confirm_phone")


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str = field(repr=False)
    html: str = field(repr=False)
    language: str = "en"


def purpose_text(purpose: str, language: str) -> str:
    key = f"delivery.purpose.{purpose}"
    if key not in CATALOGS["en"]:
        key = "delivery.purpose.generic"
    return t(key, language)


def render_code_email(message: CodeMessage) -> EmailContent:
    lang = normalize_language(message.language)
    subject = t("delivery.mail.code.subject", lang)
    greeting = t("delivery.mail.code.greeting", lang)
    intro = t("delivery.mail.code.intro", lang, purpose=purpose_text(message.purpose, lang))
    validity = t("delivery.mail.code.validity", lang, minutes=message.valid_minutes)
    never_share = t("delivery.mail.code.never_share", lang)
    not_you = t("delivery.mail.code.not_you", lang)
    signature = t("delivery.mail.signature", lang)
    automatic = t("delivery.mail.automatic", lang)

    text = "\n\n".join(
        [greeting, intro, f"    {message.code}", validity, never_share, not_you, signature,
         f"-- \n{automatic}"]
    ) + "\n"

    e = html.escape
    body = f"""<!DOCTYPE html>
<html lang="{lang}">
<head><meta charset="utf-8"><title>{e(subject)}</title></head>
<body style="font-family: Arial, Helvetica, sans-serif; color: #1a1a1a; line-height: 1.5;">
<p>{e(greeting)}</p>
<p>{e(intro)}</p>
<p style="font-size: 28px; font-weight: bold; letter-spacing: 6px;
          font-family: 'Courier New', monospace;">{e(message.code)}</p>
<p>{e(validity)}</p>
<p><strong>{e(never_share)}</strong></p>
<p>{e(not_you)}</p>
<p>{e(signature)}</p>
<p style="font-size: 12px; color: #555555;">{e(automatic)}</p>
</body>
</html>
"""
    return EmailContent(subject=subject, text=text, html=body, language=lang)


def render_whatsapp_text(message: CodeMessage) -> str:
    """The text the approved authentication template shows (used for the demo outbox)."""
    return t("delivery.whatsapp.code_text", message.language, code=message.code,
             minutes=message.valid_minutes)


def html_from_text(text: str, language: str, subject: str = "") -> str:
    """A plain HTML part for a notice that came with text only."""
    lang = normalize_language(language)
    paragraphs = "\n".join(
        "<p>" + html.escape(part).replace("\n", "<br>\n") + "</p>" for part in text.strip().split("\n\n")
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head><meta charset="utf-8"><title>{html.escape(subject)}'
        f'</title></head>\n<body style="font-family: Arial, Helvetica, sans-serif; color: #1a1a1a; '
        f'line-height: 1.5;">\n{paragraphs}\n</body>\n</html>\n'
    )
