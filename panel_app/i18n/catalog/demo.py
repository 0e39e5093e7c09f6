"""/dev/outbox (demo mode)."""

EN = {
    "demo.title": "Demo outbox",
    "demo.controls": "Demo controls",
    "demo.fail_next_whatsapp": "Make the next WhatsApp send fail with:",
    "demo.fail_next_email": "Make the next email send fail with:",
    "demo.no_fault": "No failure",
    "demo.fault_armed": "The next send on that channel will fail.",
    "demo.fault_cleared": "No failure is set for that channel.",
    "demo.ttl": "Verification lasts:",
    "demo.ttl_set": "New verifications now last {seconds} seconds.",
    "demo.ttl_invalid": "Choose one of these lifetimes (seconds): {choices}.",
    "demo.end_grant": "End my current verification now",
    "demo.grant_ended": "Your verification has ended; protected pages show the gate again.",
    "demo.messages": "Messages (newest first)",
    "demo.empty": "No messages yet. Request a code in a protected area.",
    "demo.unavailable": "The outbox exists only in demo mode.",
}

DE = {
    "demo.title": "Demo-Postausgang",
    "demo.controls": "Demo-Steuerung",
    "demo.fail_next_whatsapp": "Nächsten WhatsApp-Versand scheitern lassen mit:",
    "demo.fail_next_email": "Nächsten E-Mail-Versand scheitern lassen mit:",
    "demo.no_fault": "Kein Fehler",
    "demo.fault_armed": "Der nächste Versand auf diesem Kanal schlägt fehl.",
    "demo.fault_cleared": "Für diesen Kanal ist kein Fehler gesetzt.",
    "demo.ttl": "Bestätigung gilt:",
    "demo.ttl_set": "Neue Bestätigungen gelten jetzt {seconds} Sekunden.",
    "demo.ttl_invalid": "Wählen Sie eine dieser Geltungsdauern (Sekunden): {choices}.",
    "demo.end_grant": "Meine aktuelle Bestätigung jetzt beenden",
    "demo.grant_ended": "Ihre Bestätigung ist beendet; geschützte Seiten zeigen wieder den Bestätigungsschritt.",
    "demo.messages": "Nachrichten (neueste zuerst)",
    "demo.empty": "Noch keine Nachrichten. Fordern Sie in einem geschützten Bereich einen Code an.",
    "demo.unavailable": "Den Postausgang gibt es nur im Demo-Modus.",
}
