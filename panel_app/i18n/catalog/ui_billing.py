"""Page texts of /invoices and /payment-methods."""

EN = {
    # /invoices
    "billing.download_invoice": "Download PDF: invoice {number}",
    "billing.download_document": "Download PDF: {title}",
    # /payment-methods
    "payments.col.method": "Payment method",
    "payments.col.holder": "Holder",
    "payments.expired": "Expired",
    "payments.make_default_named": "Make {masked} the default",
    "payments.remove_named": "Remove {masked}",
    "payments.remove_title": "Remove payment method?",
    "payments.remove_confirm": "Future invoices will no longer be charged to this payment method.",
    "payments.card_intro": "We check the card and keep only its last four digits, the expiry date and the holder.",
    "payments.sepa_mandate": (
        "By adding a bank account you authorise Panel Hosting GmbH to collect payments from it by SEPA "
        "direct debit, and your bank to pay these debits. We keep only the country and the last four "
        "characters of the IBAN."
    ),
    "payments.placeholder.month": "MM",
    "payments.placeholder.year": "YYYY",
}

DE = {
    # /invoices
    "billing.download_invoice": "PDF herunterladen: Rechnung {number}",
    "billing.download_document": "PDF herunterladen: {title}",
    # /payment-methods
    "payments.col.method": "Zahlungsart",
    "payments.col.holder": "Inhaber",
    "payments.expired": "Abgelaufen",
    "payments.make_default_named": "{masked} als Standard festlegen",
    "payments.remove_named": "{masked} entfernen",
    "payments.remove_title": "Zahlungsart entfernen?",
    "payments.remove_confirm": "Künftige Rechnungen werden nicht mehr über diese Zahlungsart eingezogen.",
    "payments.card_intro": (
        "Wir prüfen die Karte und speichern nur die letzten vier Ziffern, das Ablaufdatum und den Inhaber."
    ),
    "payments.sepa_mandate": (
        "Mit dem Hinzufügen des Bankkontos ermächtigen Sie die Panel Hosting GmbH, Zahlungen per "
        "SEPA-Lastschrift einzuziehen, und weisen Ihr Kreditinstitut an, diese Lastschriften einzulösen. "
        "Wir speichern nur das Land und die letzten vier Zeichen der IBAN."
    ),
    "payments.placeholder.month": "MM",
    "payments.placeholder.year": "JJJJ",
}
