"""A short human description of a browser from its User-Agent header."""

from __future__ import annotations

from panel_app.i18n import t

_BROWSERS = [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
             ("Chromium/", "Chromium"), ("Safari/", "Safari")]
_SYSTEMS = [("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("Macintosh", "macOS"), ("Linux", "Linux")]


def describe_user_agent(user_agent: str, lang: str = "en") -> str:
    user_agent = user_agent or ""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), "")
    if "HeadlessChrome" in user_agent:
        browser = "Headless Chrome"
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), "")
    if browser and system:
        return t("useragent.browser_on_system", lang, browser=browser, system=system)
    return browser or system or (user_agent[:40] if user_agent else t("useragent.unknown", lang))
