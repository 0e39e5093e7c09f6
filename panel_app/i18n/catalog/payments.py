"""Payment methods: labels and validation messages."""

EN = {
    "payments.title": "Payment methods",
    "payments.kind.card": "Credit card",
    "payments.kind.sepa": "SEPA direct debit",
    "payments.label.card": "{masked}, expires {expiry}",
    "payments.label.card_expired": "{masked}, expired {expiry}",
    "payments.label.sepa": "SEPA direct debit {masked}",
    "payments.default": "Default",
    "payments.make_default": "Make default",
    "payments.remove": "Remove",
    "payments.add_card": "Add card",
    "payments.add_sepa": "Add bank account (SEPA)",
    "payments.field.number": "Card number",
    "payments.field.exp_month": "Expiry month",
    "payments.field.exp_year": "Expiry year",
    "payments.field.holder": "Name of the card or account holder",
    "payments.field.iban": "IBAN",
    "payments.empty": "No payment method yet.",
    "payments.added": "The payment method was added.",
    "payments.removed": "The payment method was removed.",
    "payments.default_set": "This is now your default payment method.",
    "payments.error.card_number_invalid": (
        "Please enter the card number as printed on the card (12 to 19 digits)."
    ),
    "payments.error.card_checksum": "This card number is not valid. Please check it for typing errors.",
    "payments.error.card_brand_unsupported": "We do not accept this type of card.",
    "payments.error.expiry_invalid": "Please enter a valid expiry date (month 1–12 and year).",
    "payments.error.card_expired": "This card has expired.",
    "payments.error.iban_invalid": "Please enter a valid IBAN, e.g. DE89 3704 0044 0532 0130 00.",
    "payments.error.iban_country_unknown": "The IBAN country code {country} is unknown.",
    "payments.error.iban_length": "An IBAN from {country} has exactly {length} characters.",
    "payments.error.iban_checksum": "This IBAN is not valid. Please check it for typing errors.",
    "payments.error.iban_not_sepa": (
        "Direct debit is only possible from SEPA countries; {country} is not one."
    ),
    "payments.error.too_many": "You can store at most {max} payment methods.",
    "payments.error.not_found": "This payment method was not found.",
    "payments.error.last_method_open_invoice": (
        "This is your only payment method and an invoice is still open. "
        "Add another payment method before removing this one."
    ),
}

DE = {
    "payments.title": "Zahlungsarten",
    "payments.kind.card": "Kreditkarte",
    "payments.kind.sepa": "SEPA-Lastschrift",
    "payments.label.card": "{masked}, gültig bis {expiry}",
    "payments.label.card_expired": "{masked}, abgelaufen {expiry}",
    "payments.label.sepa": "SEPA-Lastschrift {masked}",
    "payments.default": "Standard",
    "payments.make_default": "Als Standard festlegen",
    "payments.remove": "Entfernen",
    "payments.add_card": "Karte hinzufügen",
    "payments.add_sepa": "Bankkonto hinzufügen (SEPA)",
    "payments.field.number": "Kartennummer",
    "payments.field.exp_month": "Ablaufmonat",
    "payments.field.exp_year": "Ablaufjahr",
    "payments.field.holder": "Name des Karten- bzw. Kontoinhabers",
    "payments.field.iban": "IBAN",
    "payments.empty": "Noch keine Zahlungsart hinterlegt.",
    "payments.added": "Die Zahlungsart wurde hinzugefügt.",
    "payments.removed": "Die Zahlungsart wurde entfernt.",
    "payments.default_set": "Dies ist jetzt Ihre Standard-Zahlungsart.",
    "payments.error.card_number_invalid": (
        "Bitte geben Sie die Kartennummer wie auf der Karte ein (12 bis 19 Ziffern)."
    ),
    "payments.error.card_checksum": "Diese Kartennummer ist ungültig. Bitte prüfen Sie sie auf Tippfehler.",
    "payments.error.card_brand_unsupported": "Diesen Kartentyp akzeptieren wir nicht.",
    "payments.error.expiry_invalid": "Bitte geben Sie ein gültiges Ablaufdatum ein (Monat 1–12 und Jahr).",
    "payments.error.card_expired": "Diese Karte ist abgelaufen.",
    "payments.error.iban_invalid": (
        "Bitte geben Sie eine gültige IBAN ein, z. B. DE89 3704 0044 0532 0130 00."
    ),
    "payments.error.iban_country_unknown": "Der IBAN-Ländercode {country} ist unbekannt.",
    "payments.error.iban_length": "Eine IBAN aus {country} hat genau {length} Zeichen.",
    "payments.error.iban_checksum": "Diese IBAN ist ungültig. Bitte prüfen Sie sie auf Tippfehler.",
    "payments.error.iban_not_sepa": (
        "Lastschrift ist nur aus SEPA-Ländern möglich; {country} gehört nicht dazu."
    ),
    "payments.error.too_many": "Sie können höchstens {max} Zahlungsarten hinterlegen.",
    "payments.error.not_found": "Diese Zahlungsart wurde nicht gefunden.",
    "payments.error.last_method_open_invoice": (
        "Dies ist Ihre einzige Zahlungsart und eine Rechnung ist noch offen. "
        "Bitte fügen Sie zuerst eine andere Zahlungsart hinzu."
    ),
}
