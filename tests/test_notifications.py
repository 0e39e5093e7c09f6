"""Security notifications arrive by email, in the user's language, on a real SMTP
server on loopback; a new browser triggers the sign-in notice, a known one does not."""

from panel_app.db import transaction
from panel_app.services import auth, notifications
from panel_app.services.notifications import KINDS, notify_user, render

PARAMS = {"browser": "Firefox on Linux", "ip": "198.51.100.7", "remaining": 9, "field": "email address",
          "new_value": "n•••@example.com", "domain": "example.com", "actor": "tech@example.com",
          "admin": "tech@example.com", "areas": "domains", "count": 5, "hours": 72,
          "effective": "2026-12-01 10:00 UTC", "cancel_url": "http://localhost:3000/profile?cancel_change=1", "ticket": 7,
          "cancel_how": "Sign in and verify with another method:",
          "url": "http://localhost:3000/support", "name": "Laptop"}


def test_every_notice_renders_in_both_languages():
    for kind in KINDS:
        for lang in ("en", "de"):
            subject, body = render(kind, lang, **PARAMS)
            assert subject and "{" not in subject + body


async def test_recovery_code_notice_reaches_smtp_in_german(smtp_settings, make_user):
    user = make_user(language="de")
    assert await notify_user(user.id, "recovery_code_used", remaining=7)
    [(recipients, mail)] = smtp_settings.messages
    assert recipients == ["owner@test.example"]
    assert mail["Subject"] == "Ein Wiederherstellungscode wurde verwendet"
    assert "Es bleiben 7 Wiederherstellungscodes" in mail.get_body(preferencelist=("plain",)).get_content()


async def test_contact_change_notice_goes_to_the_old_address(smtp_settings, make_user):
    user = make_user()
    await notify_user(user.id, "contact_changed", to="old@test.example", field="email address",
                      new_value="n•••@test.example")
    [(recipients, mail)] = smtp_settings.messages
    assert recipients == ["old@test.example"]
    assert "n•••@test.example" in mail.get_body(preferencelist=("plain",)).get_content()


async def test_new_browser_sign_in_notice_only_for_unknown_browsers(smtp_settings, make_user, now):
    make_user()

    def sign_in(user_agent):
        with transaction() as db:
            return auth.login(db, email="owner@test.example", password="correct horse battery", ip="203.0.113.9",
                              user_agent=user_agent, now=now, absolute_seconds=3600)

    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
    first = sign_in(firefox)
    assert first.new_browser
    await notifications.notify_new_sign_in(first.user_id, ip="203.0.113.9", user_agent=firefox)
    assert not sign_in(firefox).new_browser
    [(_recipients, mail)] = smtp_settings.messages
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Firefox on Linux" in body and "203.0.113.9" in body


async def test_a_notice_everywhere_reaches_the_mailbox_and_the_phone(make_user):
    from panel_app.db import transaction
    from panel_app.delivery import outbox_messages
    from panel_app.services.notifications import notify_everywhere

    user = make_user()
    sent = await notify_everywhere(user.id, "contact_change_scheduled", also_phone="+4915100000009", **PARAMS)
    assert sent == 3  # the email address, the phone and the replaced phone
    with transaction() as db:
        for recipient in ("owner@test.example", "+4915112345612", "+4915100000009"):
            [message] = outbox_messages(db, recipient)
            assert "cancel_change=1" in message.text
