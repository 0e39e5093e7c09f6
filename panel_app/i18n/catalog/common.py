"""Strings used everywhere: validation messages, generic errors."""

EN = {
    "validation.invalid": "This value is not valid.",
    "validation.required": "Please fill in this field.",
    "validation.too_long": "At most {max} characters, please.",
    "validation.email_invalid": "Please enter a valid email address.",
    "validation.email_taken": "This email address is already in use.",
    "validation.phone_invalid": "Please enter a valid phone number with country code, e.g. +49 151 12345678.",
    "validation.password_too_short": "The password needs at least {password_min_length} characters.",
    "error.generic": "Something went wrong. Please try again.",
}

DE = {
    "validation.invalid": "Dieser Wert ist ungültig.",
    "validation.required": "Bitte füllen Sie dieses Feld aus.",
    "validation.too_long": "Bitte höchstens {max} Zeichen.",
    "validation.email_invalid": "Bitte geben Sie eine gültige E-Mail-Adresse ein.",
    "validation.email_taken": "Diese E-Mail-Adresse wird bereits verwendet.",
    "validation.phone_invalid": "Bitte geben Sie eine gültige Telefonnummer mit Ländervorwahl ein, z. B. +49 151 12345678.",
    "validation.password_too_short": "Das Passwort braucht mindestens {password_min_length} Zeichen.",
    "error.generic": "Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut.",
}
