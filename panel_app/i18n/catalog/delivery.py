"""Delivery of codes and notices: mail texts, WhatsApp text (demo outbox), and what
the user reads when a code could not be sent (what happened, and the way out)."""

EN = {
    # --- the code email -----------------------------------------------------------------
    "delivery.mail.code.subject": "Your verification code for the control panel",
    "delivery.mail.code.greeting": "Hello,",
    "delivery.mail.code.intro": "here is your one-time code {purpose}:",
    "delivery.mail.code.validity": "The code is valid for {minutes} minutes and can be used only once.",
    "delivery.mail.code.never_share": (
        "Never share this code with anyone. Our staff will never ask you for it, "
        "not by phone, not by email and not in a ticket."
    ),
    "delivery.mail.code.not_you": (
        "If you did not request this code, you can ignore this email: without the code nobody "
        "can open the protected area. If it happens again, please change your password."
    ),
    "delivery.mail.signature": "Your control panel team",
    "delivery.mail.automatic": "This message was sent automatically. Please do not reply to it.",
    # what the code is for (completes "here is your one-time code ...:")
    "delivery.purpose.stepup": "to open a protected area of your control panel",
    "delivery.purpose.confirm_email": "to confirm your new email address",
    "delivery.purpose.confirm_phone": "to confirm your new phone number",
    "delivery.purpose.confirm_old_email": "to confirm a change of your email address from this address",
    "delivery.purpose.confirm_old_phone": "to confirm a change of your phone number from this number",
    "delivery.purpose.generic": "to confirm an action in your control panel",
    # --- the WhatsApp text (as the authentication template shows it; demo outbox) ----------
    "delivery.whatsapp.code_text": (
        "{code} is your verification code. For your security, do not share this code. "
        "This code expires in {minutes} minutes."
    ),
    # --- failures: what happened and the way out ------------------------------------------
    "delivery.error.email_not_configured": (
        "We cannot send emails at the moment. Please choose another verification method, "
        "or contact support if you have none."
    ),
    "delivery.error.whatsapp_not_configured": (
        "Codes via WhatsApp are not available at the moment. Please have the code sent by email instead."
    ),
    "delivery.error.email_refused": (
        "The code email could not be delivered to your address. Please check the email address "
        "in your profile, or have the code sent via WhatsApp instead."
    ),
    "delivery.error.email_temporary": (
        "The mail server could not accept the code email right now. Please try again in a few "
        "minutes, or have the code sent via WhatsApp instead."
    ),
    "delivery.error.email_unreachable": (
        "Our mail server cannot be reached right now, so no code was sent. Please try again in a "
        "few minutes, or have the code sent via WhatsApp instead."
    ),
    "delivery.error.whatsapp_undeliverable": (
        "WhatsApp could not deliver the code to your phone number. The number may not use WhatsApp, "
        "or the app may need an update. Please check the number in your profile, or have the code "
        "sent by email instead."
    ),
    "delivery.error.whatsapp_rejected": (
        "WhatsApp did not accept our message, so no code was sent. Please have the code sent by "
        "email instead."
    ),
    "delivery.error.whatsapp_setup": (
        "Codes via WhatsApp are not set up correctly on our side at the moment. Please have the "
        "code sent by email instead."
    ),
    "delivery.error.whatsapp_busy": (
        "WhatsApp is sending too many messages right now, so no code was sent. Please wait a "
        "minute and try again, or have the code sent by email instead."
    ),
    "delivery.error.whatsapp_too_many_to_number": (
        "Too many messages were sent to your phone number in a short time, so no code was sent. "
        "Please wait a minute before you request a new code, or have it sent by email instead."
    ),
    "delivery.error.whatsapp_unavailable": (
        "WhatsApp cannot be reached right now, so no code was sent. Please try again in a few "
        "minutes, or have the code sent by email instead."
    ),
    "delivery.error.whatsapp_failed": (
        "WhatsApp could not deliver the code. Please have the code sent by email instead."
    ),
    # --- demo controls: errors that can be simulated ----------------------------------------
    "delivery.demo_fault.whatsapp.131026": "131026: message undeliverable (not a WhatsApp number)",
    "delivery.demo_fault.whatsapp.100": "100: invalid parameter",
    "delivery.demo_fault.whatsapp.132001": "132001: template does not exist",
    "delivery.demo_fault.whatsapp.130429": "130429: rate limit hit",
    "delivery.demo_fault.whatsapp.131056": "131056: too many messages to this number",
    "delivery.demo_fault.whatsapp.190": "190: access token invalid or expired",
    "delivery.demo_fault.email.smtp_refused": "Mail server refuses the recipient",
    "delivery.demo_fault.email.smtp_unreachable": "Mail server unreachable",
    "delivery.demo_fault.none": "No simulated error",
    "delivery.demo_fault.demo_only": "Simulated errors are available only in the demo.",
}

DE = {
    "delivery.mail.code.subject": "Ihr Bestätigungscode für das Kundencenter",
    "delivery.mail.code.greeting": "Guten Tag,",
    "delivery.mail.code.intro": "hier ist Ihr Einmalcode, {purpose}:",
    "delivery.mail.code.validity": (
        "Der Code ist {minutes} Minuten gültig und kann nur einmal verwendet werden."
    ),
    "delivery.mail.code.never_share": (
        "Geben Sie diesen Code niemals weiter. Unsere Mitarbeiter fragen Sie nie danach, "
        "weder am Telefon noch per E-Mail oder in einem Ticket."
    ),
    "delivery.mail.code.not_you": (
        "Wenn Sie diesen Code nicht angefordert haben, können Sie diese E-Mail ignorieren: Ohne den "
        "Code kann niemand den geschützten Bereich öffnen. Falls das erneut vorkommt, ändern Sie "
        "bitte Ihr Passwort."
    ),
    "delivery.mail.signature": "Ihr Kundencenter-Team",
    "delivery.mail.automatic": (
        "Diese Nachricht wurde automatisch versendet. Bitte antworten Sie nicht darauf."
    ),
    "delivery.purpose.stepup": "um einen geschützten Bereich Ihres Kundencenters zu öffnen",
    "delivery.purpose.confirm_email": "um Ihre neue E-Mail-Adresse zu bestätigen",
    "delivery.purpose.confirm_phone": "um Ihre neue Telefonnummer zu bestätigen",
    "delivery.purpose.confirm_old_email": "um von dieser Adresse aus eine Änderung Ihrer E-Mail-Adresse zu bestätigen",
    "delivery.purpose.confirm_old_phone": "um von dieser Nummer aus eine Änderung Ihrer Telefonnummer zu bestätigen",
    "delivery.purpose.generic": "um eine Aktion in Ihrem Kundencenter zu bestätigen",
    "delivery.whatsapp.code_text": (
        "{code} ist Ihr Bestätigungscode. Geben Sie diesen Code zu Ihrer Sicherheit nicht weiter. "
        "Dieser Code läuft in {minutes} Minuten ab."
    ),
    "delivery.error.email_not_configured": (
        "Wir können im Moment keine E-Mails versenden. Bitte wählen Sie eine andere "
        "Bestätigungsmethode oder wenden Sie sich an den Support, falls Sie keine haben."
    ),
    "delivery.error.whatsapp_not_configured": (
        "Codes per WhatsApp sind im Moment nicht verfügbar. Bitte lassen Sie sich den Code "
        "stattdessen per E-Mail senden."
    ),
    "delivery.error.email_refused": (
        "Die E-Mail mit dem Code konnte nicht an Ihre Adresse zugestellt werden. Bitte prüfen Sie "
        "die E-Mail-Adresse in Ihrem Profil oder lassen Sie sich den Code stattdessen per WhatsApp senden."
    ),
    "delivery.error.email_temporary": (
        "Der Mailserver konnte die E-Mail mit dem Code gerade nicht annehmen. Bitte versuchen Sie es "
        "in einigen Minuten erneut oder lassen Sie sich den Code stattdessen per WhatsApp senden."
    ),
    "delivery.error.email_unreachable": (
        "Unser Mailserver ist gerade nicht erreichbar, daher wurde kein Code gesendet. Bitte versuchen "
        "Sie es in einigen Minuten erneut oder lassen Sie sich den Code stattdessen per WhatsApp senden."
    ),
    "delivery.error.whatsapp_undeliverable": (
        "WhatsApp konnte den Code nicht an Ihre Telefonnummer zustellen. Möglicherweise nutzt die "
        "Nummer kein WhatsApp oder die App braucht ein Update. Bitte prüfen Sie die Nummer in Ihrem "
        "Profil oder lassen Sie sich den Code stattdessen per E-Mail senden."
    ),
    "delivery.error.whatsapp_rejected": (
        "WhatsApp hat unsere Nachricht nicht angenommen, daher wurde kein Code gesendet. Bitte "
        "lassen Sie sich den Code stattdessen per E-Mail senden."
    ),
    "delivery.error.whatsapp_setup": (
        "Codes per WhatsApp sind auf unserer Seite gerade nicht richtig eingerichtet. Bitte lassen "
        "Sie sich den Code stattdessen per E-Mail senden."
    ),
    "delivery.error.whatsapp_busy": (
        "WhatsApp versendet gerade zu viele Nachrichten, daher wurde kein Code gesendet. Bitte warten "
        "Sie eine Minute und versuchen Sie es erneut, oder lassen Sie sich den Code stattdessen per "
        "E-Mail senden."
    ),
    "delivery.error.whatsapp_too_many_to_number": (
        "An Ihre Telefonnummer wurden in kurzer Zeit zu viele Nachrichten gesendet, daher wurde kein "
        "Code gesendet. Bitte warten Sie eine Minute, bevor Sie einen neuen Code anfordern, oder lassen "
        "Sie ihn sich stattdessen per E-Mail senden."
    ),
    "delivery.error.whatsapp_unavailable": (
        "WhatsApp ist gerade nicht erreichbar, daher wurde kein Code gesendet. Bitte versuchen Sie es "
        "in einigen Minuten erneut oder lassen Sie sich den Code stattdessen per E-Mail senden."
    ),
    "delivery.error.whatsapp_failed": (
        "WhatsApp konnte den Code nicht zustellen. Bitte lassen Sie sich den Code stattdessen per "
        "E-Mail senden."
    ),
    "delivery.demo_fault.whatsapp.131026": "131026: Nachricht nicht zustellbar (keine WhatsApp-Nummer)",
    "delivery.demo_fault.whatsapp.100": "100: ungültiger Parameter",
    "delivery.demo_fault.whatsapp.132001": "132001: Vorlage existiert nicht",
    "delivery.demo_fault.whatsapp.130429": "130429: Ratenlimit erreicht",
    "delivery.demo_fault.whatsapp.131056": "131056: zu viele Nachrichten an diese Nummer",
    "delivery.demo_fault.whatsapp.190": "190: Zugriffstoken ungültig oder abgelaufen",
    "delivery.demo_fault.email.smtp_refused": "Mailserver lehnt den Empfänger ab",
    "delivery.demo_fault.email.smtp_unreachable": "Mailserver nicht erreichbar",
    "delivery.demo_fault.none": "Kein simulierter Fehler",
    "delivery.demo_fault.demo_only": "Simulierte Fehler gibt es nur in der Demo.",
}
