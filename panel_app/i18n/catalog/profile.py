"""Personal data and contact (email/phone) changes."""

EN = {
    "profile.title": "Personal data",
    "profile.field.name": "Name",
    "profile.field.company": "Company (optional)",
    "profile.field.street": "Street and number",
    "profile.field.postal_code": "Postal code",
    "profile.field.city": "City",
    "profile.field.country": "Country",
    "profile.field.vat_id": "VAT ID (optional)",
    "profile.field.email": "Email address",
    "profile.field.phone": "Mobile number",
    "profile.saved": "Your data was saved.",
    "profile.unchanged": "Nothing was changed.",
    "profile.kind.email": "email address",
    "profile.kind.phone": "phone number",
    "profile.change_email": "Change email address",
    "profile.change_phone": "Change mobile number",
    "profile.contact_changed": "Your {kind} was changed. Please verify again to open protected areas.",
    "profile.error.owner_only": "Only the account owner can change these details.",
    "profile.error.not_allowed": "You can only change your own contact details.",
    "profile.error.country_invalid": "Please choose a country.",
    "profile.error.postal_code_invalid": "This postal code does not look right for country {country}.",
    "profile.error.vat_id_invalid": "This VAT ID does not look right, e.g. DE123456789.",
    "profile.error.vat_id_prefix": (
        "Please enter an EU VAT ID starting with its country code, e.g. DE or ATU."
    ),
    "profile.error.contact_unchanged": "This is already your current one.",
    "profile.error.phone_taken": "This phone number is already in use by another user.",
}

DE = {
    "profile.title": "Persönliche Daten",
    "profile.field.name": "Name",
    "profile.field.company": "Firma (optional)",
    "profile.field.street": "Straße und Hausnummer",
    "profile.field.postal_code": "Postleitzahl",
    "profile.field.city": "Ort",
    "profile.field.country": "Land",
    "profile.field.vat_id": "USt-IdNr. (optional)",
    "profile.field.email": "E-Mail-Adresse",
    "profile.field.phone": "Mobilnummer",
    "profile.saved": "Ihre Daten wurden gespeichert.",
    "profile.unchanged": "Es wurde nichts geändert.",
    "profile.kind.email": "E-Mail-Adresse",
    "profile.kind.phone": "Telefonnummer",
    "profile.change_email": "E-Mail-Adresse ändern",
    "profile.change_phone": "Mobilnummer ändern",
    "profile.contact_changed": (
        "Ihre {kind} wurde geändert. Bitte bestätigen Sie sich erneut, um geschützte Bereiche zu öffnen."
    ),
    "profile.error.owner_only": "Nur der Inhaber des Kontos kann diese Angaben ändern.",
    "profile.error.not_allowed": "Sie können nur Ihre eigenen Kontaktdaten ändern.",
    "profile.error.country_invalid": "Bitte wählen Sie ein Land.",
    "profile.error.postal_code_invalid": "Diese Postleitzahl passt nicht zum Land {country}.",
    "profile.error.vat_id_invalid": "Diese USt-IdNr. sieht nicht richtig aus, z. B. DE123456789.",
    "profile.error.vat_id_prefix": (
        "Bitte geben Sie eine EU-USt-IdNr. mit Länderkennzeichen ein, z. B. DE oder ATU."
    ),
    "profile.error.contact_unchanged": "Das ist bereits Ihre aktuelle Angabe.",
    "profile.error.phone_taken": "Diese Telefonnummer wird bereits von einem anderen Benutzer verwendet.",
}
