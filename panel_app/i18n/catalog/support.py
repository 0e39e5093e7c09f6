"""Support tickets."""

EN = {
    "support.title": "Support",
    "support.new_ticket": "New ticket",
    "support.field.kind": "Topic",
    "support.field.subject": "Subject",
    "support.field.body": "Your message",
    "support.kind.general": "General question",
    "support.kind.technical": "Technical problem",
    "support.kind.billing": "Invoices and payment",
    "support.kind.contact_update": "Update contact details",
    "support.status.open": "Waiting for support",
    "support.status.answered": "Answered",
    "support.status.closed": "Closed",
    "support.reply": "Reply",
    "support.close": "Close ticket",
    "support.created": "Your ticket was created. We will answer as soon as possible.",
    "support.empty": "You have no tickets.",
    "support.from_support": "Support team",
    "support.error.not_found": "This ticket was not found.",
    "support.error.not_allowed": "You can only ask for your own contact details to be updated.",
    "support.error.kind_invalid": "Please choose a topic.",
    "support.error.subject_too_short": "Please enter a subject of at least {min} characters.",
    "support.error.ticket_closed": "This ticket is closed. Please open a new ticket.",
    "support.channel.email": "email",
    "support.channel.whatsapp": "WhatsApp",
    "support.channel.totp": "authenticator app",
    "support.contact_update.subject": "Please update my contact details",
    "support.contact_update.body": (
        "I did not receive my verification code by {channel} and cannot open the protected areas "
        "of the panel. Please help me update my contact details."
    ),
    "support.contact_update.sent": (
        "We have passed your request to our support team. They will contact you to verify your identity."
    ),
    "support.contact_update.exists": "Your request is already with our support team. They will contact you.",
}

DE = {
    "support.title": "Support",
    "support.new_ticket": "Neues Ticket",
    "support.field.kind": "Thema",
    "support.field.subject": "Betreff",
    "support.field.body": "Ihre Nachricht",
    "support.kind.general": "Allgemeine Frage",
    "support.kind.technical": "Technisches Problem",
    "support.kind.billing": "Rechnungen und Zahlung",
    "support.kind.contact_update": "Kontaktdaten aktualisieren",
    "support.status.open": "Wartet auf Support",
    "support.status.answered": "Beantwortet",
    "support.status.closed": "Geschlossen",
    "support.reply": "Antworten",
    "support.close": "Ticket schließen",
    "support.created": "Ihr Ticket wurde angelegt. Wir antworten so schnell wie möglich.",
    "support.empty": "Sie haben keine Tickets.",
    "support.from_support": "Support-Team",
    "support.error.not_found": "Dieses Ticket wurde nicht gefunden.",
    "support.error.not_allowed": "Sie können nur die Aktualisierung Ihrer eigenen Kontaktdaten anfragen.",
    "support.error.kind_invalid": "Bitte wählen Sie ein Thema.",
    "support.error.subject_too_short": "Bitte geben Sie einen Betreff mit mindestens {min} Zeichen ein.",
    "support.error.ticket_closed": "Dieses Ticket ist geschlossen. Bitte eröffnen Sie ein neues Ticket.",
    "support.channel.email": "E-Mail",
    "support.channel.whatsapp": "WhatsApp",
    "support.channel.totp": "Authenticator-App",
    "support.contact_update.subject": "Bitte meine Kontaktdaten aktualisieren",
    "support.contact_update.body": (
        "Ich habe meinen Bestätigungscode per {channel} nicht erhalten und kann die geschützten Bereiche "
        "des Panels nicht öffnen. Bitte helfen Sie mir, meine Kontaktdaten zu aktualisieren."
    ),
    "support.contact_update.sent": (
        "Wir haben Ihre Anfrage an unser Support-Team weitergegeben. "
        "Es meldet sich bei Ihnen, um Ihre Identität zu prüfen."
    ),
    "support.contact_update.exists": (
        "Ihre Anfrage liegt unserem Support-Team bereits vor. Es meldet sich bei Ihnen."
    ),
}
