"""Page texts of /profile (personal data, contact changes) and /support (tickets)."""

EN = {
    # /profile
    "profile.data_title": "Contract holder and address",
    "profile.intro": "These details are printed on your invoices.",
    "profile.contact.title": "Email address and mobile number",
    "profile.contact.intro": (
        "We send verification codes and security notices here. A change is confirmed with a code "
        "sent to the new address or number."
    ),
    "profile.contact.none": "Not set",
    "profile.contact.new_email": "New email address",
    "profile.contact.new_phone": "New mobile number",
    "profile.contact.email_hint": "We will send a 6-digit code to the new address to confirm it.",
    "profile.contact.phone_hint": (
        "Please include the country code. We will send a 6-digit code by WhatsApp to confirm the number."
    ),
    "profile.contact.send_code": "Send confirmation code",
    "profile.contact.code_sent": "We sent a 6-digit code to {destination}. Enter it here to confirm the change.",
    "profile.contact.confirm": "Confirm change",
    "profile.contact.factor_too_new": (
        "For your safety, a verification by {method} cannot authorise a change of your {kind} yet: "
        "that method was set up less than {hours} hours ago. Verify with another method, or try again later."
    ),
    "profile.contact.same_factor": (
        "You verified this session with a code to the {kind} you want to change. To change it, please "
        "verify with another method first: {methods}."
    ),
    "profile.contact.no_other_method": (
        "You verified this session with a code to the {kind} you want to change, and you have no other "
        "verification method. Set up the authenticator app under Security, or ask our support to update "
        "your contact details."
    ),
    "profile.contact.switch_method": "Verify with another method",
    "profile.contact.or": "or",
    "profile.contact.choose_other": (
        "Please verify again and choose {methods} below. Then you can change your {kind}."
    ),
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
    "profile.contact.email_hint": "Wir senden einen 6-stelligen Code an die neue Adresse, um sie zu bestätigen.",
    "profile.contact.phone_hint": (
        "Bitte mit Ländervorwahl. Wir senden einen 6-stelligen Code per WhatsApp, um die Nummer zu bestätigen."
    ),
    "profile.contact.send_code": "Bestätigungscode senden",
    "profile.contact.code_sent": (
        "Wir haben einen 6-stelligen Code an {destination} gesendet. Geben Sie ihn hier ein, um die "
        "Änderung zu bestätigen."
    ),
    "profile.contact.confirm": "Änderung bestätigen",
    "profile.contact.factor_too_new": (
        "Zu Ihrer Sicherheit kann eine Bestätigung per {method} Ihre {kind} noch nicht ändern: "
        "Diese Methode wurde vor weniger als {hours} Stunden eingerichtet. Bestätigen Sie mit einer anderen "
        "Methode oder versuchen Sie es später erneut."
    ),
    "profile.contact.same_factor": (
        "Sie haben sich in dieser Sitzung mit einem Code an die {kind} bestätigt, die Sie ändern möchten. "
        "Bitte bestätigen Sie sich dafür zuerst mit einer anderen Methode: {methods}."
    ),
    "profile.contact.no_other_method": (
        "Sie haben sich in dieser Sitzung mit einem Code an die {kind} bestätigt, die Sie ändern möchten, "
        "und haben keine andere Bestätigungsmethode. Richten Sie unter Sicherheit die Authenticator-App ein "
        "oder bitten Sie unseren Support, Ihre Kontaktdaten zu aktualisieren."
    ),
    "profile.contact.switch_method": "Mit anderer Methode bestätigen",
    "profile.contact.or": "oder",
    "profile.contact.choose_other": (
        "Bitte bestätigen Sie sich erneut und wählen Sie unten {methods}. Danach können Sie Ihre {kind} ändern."
    ),
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
