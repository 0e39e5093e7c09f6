"""Step-up verification: errors returned by security/codes, totp, recovery and
services/stepup, and the names of the methods. No placeholders: waits are shown
by the UI as a countdown from ``retry_after_seconds``."""

EN = {
    "stepup.error.code_empty": "Please enter the code.",
    "stepup.error.code_format": "The code has {code_digits} digits. Please enter just the digits.",
    "stepup.error.code_wrong": "This code is not correct. Please check it and try again.",
    "stepup.error.code_expired": "This code has expired. Please request a new one.",
    "stepup.error.code_dead": "Too many wrong attempts for this code. Please request a new one.",
    "stepup.error.code_used": "This code has already been used. Please request a new one.",
    "stepup.error.no_code": "There is no valid code for this session. Please request a code first.",
    "stepup.error.resend_cooldown": "A code was sent a moment ago. You can request another one shortly.",
    "stepup.error.send_limit": (
        "Too many codes were requested in the last hour. Please wait, or choose another method."
    ),
    "stepup.error.method_unavailable": "This verification method is not available for your account.",
    "stepup.error.session_invalid": "Your session has ended. Please log in again.",
    "stepup.error.locked": "Too many failed attempts. Please wait before you try again.",
    "stepup.error.totp_replayed": (
        "This code has already been used. Please wait for the next code in your authenticator app."
    ),
    "stepup.error.totp_not_enrolled": "Two-factor authentication with an app is not set up.",
    "stepup.error.totp_no_pending": "Please start setting up the authenticator app again.",
    "stepup.error.recovery_format": "A recovery code has {recovery_code_length} letters and digits, like abcd-efgh-jkmn.",
    "stepup.error.recovery_wrong": "This recovery code is not valid or has already been used.",
    "verification.method.totp": "Authenticator app",
    "verification.method.email": "Email",
    "verification.method.whatsapp": "WhatsApp",
    "verification.method.recovery": "Recovery code",
}

DE = {
    "stepup.error.code_empty": "Bitte geben Sie den Code ein.",
    "stepup.error.code_format": "Der Code hat {code_digits} Ziffern. Bitte geben Sie nur die Ziffern ein.",
    "stepup.error.code_wrong": "Dieser Code ist nicht richtig. Bitte prüfen Sie ihn und versuchen Sie es erneut.",
    "stepup.error.code_expired": "Dieser Code ist abgelaufen. Bitte fordern Sie einen neuen an.",
    "stepup.error.code_dead": "Zu viele falsche Versuche für diesen Code. Bitte fordern Sie einen neuen an.",
    "stepup.error.code_used": "Dieser Code wurde bereits verwendet. Bitte fordern Sie einen neuen an.",
    "stepup.error.no_code": (
        "Für diese Sitzung gibt es keinen gültigen Code. Bitte fordern Sie zuerst einen Code an."
    ),
    "stepup.error.resend_cooldown": (
        "Gerade wurde ein Code gesendet. Einen weiteren können Sie in Kürze anfordern."
    ),
    "stepup.error.send_limit": (
        "In der letzten Stunde wurden zu viele Codes angefordert. Bitte warten Sie "
        "oder wählen Sie eine andere Methode."
    ),
    "stepup.error.method_unavailable": "Diese Bestätigungsmethode ist für Ihr Konto nicht verfügbar.",
    "stepup.error.session_invalid": "Ihre Sitzung ist beendet. Bitte melden Sie sich erneut an.",
    "stepup.error.locked": "Zu viele Fehlversuche. Bitte warten Sie, bevor Sie es erneut versuchen.",
    "stepup.error.totp_replayed": (
        "Dieser Code wurde bereits verwendet. Bitte warten Sie auf den nächsten Code in Ihrer "
        "Authenticator-App."
    ),
    "stepup.error.totp_not_enrolled": "Die Zwei-Faktor-Authentifizierung per App ist nicht eingerichtet.",
    "stepup.error.totp_no_pending": "Bitte beginnen Sie die Einrichtung der Authenticator-App erneut.",
    "stepup.error.recovery_format": (
        "Ein Wiederherstellungscode hat {recovery_code_length} Buchstaben und Ziffern, z. B. abcd-efgh-jkmn."
    ),
    "stepup.error.recovery_wrong": "Dieser Wiederherstellungscode ist ungültig oder wurde bereits verwendet.",
    "verification.method.totp": "Authenticator-App",
    "verification.method.email": "E-Mail",
    "verification.method.whatsapp": "WhatsApp",
    "verification.method.recovery": "Wiederherstellungscode",
}
