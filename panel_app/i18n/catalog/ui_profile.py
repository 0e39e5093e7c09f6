"""Page texts of /profile (personal data, contact changes) and /support (tickets)."""

EN = {
    # /profile
    "profile.data_title": "Contract holder and address",
    "profile.intro": "These details are printed on your invoices.",
    "profile.contact.title": "Email address and mobile number",
    "profile.contact.intro": (
        "We send verification codes and security notices here. A change is confirmed with a code "
        "to the current and one to the new address or number; without the current one it waits."
    ),
    "profile.contact.none": "Not set",
    "profile.contact.new_email": "New email address",
    "profile.contact.new_phone": "New mobile number",
    "profile.contact.email_hint": "We will send a {code_digits}-digit code to the new address to confirm it.",
    "profile.contact.phone_hint": (
        "Please include the country code. We will send a {code_digits}-digit code by WhatsApp to confirm the number."
    ),
    "profile.contact.send_code": "Send confirmation code",
    "profile.contact.code_sent": "We sent a {code_digits}-digit code to {destination}. Enter it here to confirm the change.",
    "profile.contact.confirm": "Confirm change",
    "profile.contact.codes_sent": (
        "We sent a {code_digits}-digit code to the new {new} and one to the current {old}. Enter both to confirm the change."
    ),
    "profile.contact.no_access": "I no longer have access to the current one",
    "profile.contact.no_access_hint": (
        "Without the current one, the change is scheduled: it takes effect after {hours} hours, is announced "
        "on every channel of your account, and can be cancelled until then by any verified session."
    ),
    "profile.contact.old_code_label": "Code sent to the current one",
    "profile.contact.new_code_label": "Code sent to the new one",
    "profile.scheduled.line": "Your {kind} changes to {value} on {effective}.",
    "profile.scheduled.cancel": "Cancel this change",
    "profile.scheduled.explain": (
        "Requested without the current address or number. Not you? Cancel it and change your password."
    ),
    "profile.scheduled.done": (
        "The change of your {kind} is scheduled for {effective} and was announced on every channel of your account."
    ),
    "profile.scheduled.cancelled": "The change of your {kind} was cancelled.",
    "profile.scheduled.not_found": "This change no longer waits: it was cancelled or has taken effect.",
    "profile.contact.code_mismatch": (
        "This code belongs to a different change. Please start the change again."
    ),
    # /support
    "support.intro": "Questions about your services, invoices or contact details? Open a ticket and we will answer.",
    "support.view": "View",
    "support.view_named": "View ticket #{number}: {subject}",
    "support.back": "All tickets",
    "support.send": "Send ticket",
    "support.send_reply": "Send reply",
    "support.replied": "Your reply was sent.",
    "support.closed_done": "The ticket was closed.",
    "support.close_confirm": "Close this ticket? You can open a new ticket at any time.",
    "support.ticket_title": "Ticket #{number}: {subject}",
    "support.col.updated": "Last update",
    "support.messages": "Messages",
}

DE = {
    # /profile
    "profile.data_title": "Vertragsinhaber und Anschrift",
    "profile.intro": "Diese Angaben stehen auf Ihren Rechnungen.",
    "profile.contact.title": "E-Mail-Adresse und Mobilnummer",
    "profile.contact.intro": (
        "Hierhin senden wir Bestätigungscodes und Sicherheitshinweise. Eine Änderung bestätigen Sie mit "
        "einem Code, den wir an die neue Adresse oder Nummer senden."
    ),
    "profile.contact.none": "Nicht hinterlegt",
    "profile.contact.new_email": "Neue E-Mail-Adresse",
    "profile.contact.new_phone": "Neue Mobilnummer",
    "profile.contact.email_hint": "Wir senden einen {code_digits}-stelligen Code an die neue Adresse, um sie zu bestätigen.",
    "profile.contact.phone_hint": (
        "Bitte mit Ländervorwahl. Wir senden einen {code_digits}-stelligen Code per WhatsApp, um die Nummer zu bestätigen."
    ),
    "profile.contact.send_code": "Bestätigungscode senden",
    "profile.contact.code_sent": (
        "Wir haben einen {code_digits}-stelligen Code an {destination} gesendet. Geben Sie ihn hier ein, um die "
        "Änderung zu bestätigen."
    ),
    "profile.contact.confirm": "Änderung bestätigen",
    "profile.contact.codes_sent": (
        "Wir haben einen {code_digits}-stelligen Code an die neue {new} und einen an die bisherige {old} gesendet. "
        "Geben Sie beide ein, um die Änderung zu bestätigen."
    ),
    "profile.contact.no_access": "Ich habe keinen Zugriff mehr auf die bisherige",
    "profile.contact.no_access_hint": (
        "Ohne die bisherige wird die Änderung geplant: Sie wird nach {hours} Stunden wirksam, auf allen Kanälen "
        "Ihres Kontos angekündigt und kann bis dahin von jeder bestätigten Sitzung abgebrochen werden."
    ),
    "profile.contact.old_code_label": "Code an die bisherige",
    "profile.contact.new_code_label": "Code an die neue",
    "profile.scheduled.line": "Ihre {kind} wird am {effective} geändert in {value}.",
    "profile.scheduled.cancel": "Diese Änderung abbrechen",
    "profile.scheduled.explain": (
        "Beantragt ohne die bisherige Adresse oder Nummer. Waren Sie das nicht? Brechen Sie ab und ändern Sie Ihr Passwort."
    ),
    "profile.scheduled.done": (
        "Die Änderung Ihrer {kind} ist für {effective} geplant und wurde auf allen Kanälen Ihres Kontos angekündigt."
    ),
    "profile.scheduled.cancelled": "Die Änderung Ihrer {kind} wurde abgebrochen.",
    "profile.scheduled.not_found": "Diese Änderung wartet nicht mehr: Sie wurde abgebrochen oder ist wirksam geworden.",
    "profile.contact.code_mismatch": (
        "Dieser Code gehört zu einer anderen Änderung. Bitte starten Sie die Änderung erneut."
    ),
    # /support
    "support.intro": (
        "Fragen zu Ihren Diensten, Rechnungen oder Kontaktdaten? Eröffnen Sie ein Ticket, wir antworten Ihnen."
    ),
    "support.view": "Ansehen",
    "support.view_named": "Ticket #{number} ansehen: {subject}",
    "support.back": "Alle Tickets",
    "support.send": "Ticket senden",
    "support.send_reply": "Antwort senden",
    "support.replied": "Ihre Antwort wurde gesendet.",
    "support.closed_done": "Das Ticket wurde geschlossen.",
    "support.close_confirm": "Dieses Ticket schließen? Sie können jederzeit ein neues Ticket eröffnen.",
    "support.ticket_title": "Ticket #{number}: {subject}",
    "support.col.updated": "Letzte Änderung",
    "support.messages": "Nachrichten",
}
