"""Code mails and notices through a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import logging
import socket
from email.message import EmailMessage

import pytest

from panel_app.delivery import CodeMessage, deliver_code, send_email_notice
from panel_app.delivery import smtp as smtp_module
from panel_app.delivery.smtp import SmtpUrlError, parse_smtp_url
from tests.fakes import free_port, settings_env
from tests.fakes.smtp import MAIL_FROM

CODE = "705318"


def _parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


async def test_code_mail_in_english(smtp_settings):
    result = await deliver_code(CodeMessage("email", "owner@test.example", CODE, "en", "stepup", code_id=7))

    assert result.ok and result.status == "sent" and result.transport == "smtp"
    [(recipients, mail)] = smtp_settings.messages
    assert recipients == ["owner@test.example"]
    assert mail["To"] == "owner@test.example"
    assert mail["From"] == MAIL_FROM
    assert mail["Subject"] == "Your verification code for the control panel"
    assert mail["Content-Language"] == "en"
    assert result.provider_message_id == mail["Message-ID"]
    assert mail.get_content_type() == "multipart/alternative"
    text, html = _parts(mail)
    for body in (text, html):
        assert CODE in body
        assert "valid for 10 minutes" in body
        assert "Never share this code" in body
        assert "to open a protected area of your control panel" in body
    assert '<html lang="en">' in html
    assert CODE not in mail["Subject"]


async def test_code_mail_in_german_for_a_new_address(smtp_settings):
    result = await deliver_code(
        CodeMessage("email", "neu@test.example", CODE, "de", "confirm_email", valid_minutes=10)
    )

    assert result.ok
    [(recipients, mail)] = smtp_settings.messages
    assert recipients == ["neu@test.example"]
    assert mail["Subject"] == "Ihr Bestätigungscode für das Kundencenter"
    text, html = _parts(mail)
    assert CODE in text and CODE in html
    assert "10 Minuten gültig" in text
    assert "um Ihre neue E-Mail-Adresse zu bestätigen" in text
    assert "Geben Sie diesen Code niemals weiter" in html
    assert '<html lang="de">' in html
    assert "valid for" not in text  # no English left in a German mail


async def test_notice_mail_with_given_text_and_html(smtp_settings):
    result = await send_email_notice(
        "owner@test.example", "de", "Neue Anmeldung", "Jemand hat sich angemeldet.",
        "<p>Jemand hat sich <b>angemeldet</b>.</p>",
    )

    assert result.ok
    [(_, mail)] = smtp_settings.messages
    assert mail["Subject"] == "Neue Anmeldung"
    text, html = _parts(mail)
    assert text.strip() == "Jemand hat sich angemeldet."
    assert "<b>angemeldet</b>" in html


@pytest.mark.parametrize("reply,error_code,key", [
    ("550 5.1.1 <owner@test.example>: Recipient address rejected", "smtp_refused",
     "delivery.error.email_refused"),
    ("450 4.2.0 Mailbox temporarily unavailable", "smtp_temporary", "delivery.error.email_temporary"),
])
async def test_server_refusing_the_recipient(smtp_settings, reply, error_code, key):
    smtp_settings.rcpt_reply = reply

    result = await deliver_code(CodeMessage("email", "owner@test.example", CODE, "en"))

    assert (result.ok, result.status, result.error_code, result.error_key) == (
        False, "failed", error_code, key)
    assert result.suggest_other_channel
    assert smtp_settings.messages == []


async def test_closed_port_is_reported_as_unreachable():
    with settings_env(PANEL_ENV="demo", PANEL_SMTP_URL=f"smtp+insecure://127.0.0.1:{free_port()}"):
        result = await deliver_code(CodeMessage("email", "owner@test.example", CODE, "en"))

    assert (result.ok, result.error_code, result.error_key) == (
        False, "smtp_unreachable", "delivery.error.email_unreachable")


async def test_silent_server_times_out(monkeypatch):
    monkeypatch.setattr(smtp_module, "SMTP_TIMEOUT_SECONDS", 0.3)
    with socket.socket() as listener:  # accepts the connection, never greets
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        with settings_env(PANEL_ENV="demo", PANEL_SMTP_URL=f"smtp+insecure://127.0.0.1:{port}"):
            result = await deliver_code(CodeMessage("email", "owner@test.example", CODE, "en"))

    assert (result.ok, result.error_code) == (False, "smtp_unreachable")


async def test_password_is_never_sent_without_tls(smtp_server):
    controller, handler = smtp_server  # a server without STARTTLS
    url = f"smtp://mailer:s3cret@127.0.0.1:{controller.port}"
    with settings_env(PANEL_ENV="demo", PANEL_SMTP_URL=url):
        result = await deliver_code(CodeMessage("email", "owner@test.example", CODE, "en"))

    assert (result.ok, result.error_code, result.error_key) == (
        False, "smtp_tls", "delivery.error.email_unreachable")
    assert "AUTH" not in handler.commands and handler.messages == []


async def test_production_with_unusable_url_fails_without_sending(smtp_server):
    controller, handler = smtp_server
    url = f"smtp+insecure://mail.example.com:{controller.port}"
    with settings_env(PANEL_ENV="production", PANEL_SMTP_URL=url):
        result = await deliver_code(CodeMessage("email", "owner@test.example", CODE, "en"))
    assert (result.ok, result.error_code) == (False, "not_configured")
    assert handler.messages == []


async def test_header_injection_in_recipient_is_refused(smtp_settings):
    result = await deliver_code(
        CodeMessage("email", "owner@test.example\r\nBcc: thief@evil.example", CODE, "en"))
    assert not result.ok and result.error_code == "smtp_refused"
    assert smtp_settings.messages == []


async def test_neither_code_nor_body_is_logged(smtp_settings, caplog):
    caplog.set_level(logging.DEBUG)
    await deliver_code(CodeMessage("email", "owner@test.example", CODE, "en"))
    smtp_settings.rcpt_reply = "550 5.1.1 no such user"
    await deliver_code(CodeMessage("email", "owner@test.example", CODE, "en"))

    ours = [r for r in caplog.records if not r.name.startswith("mail.log")]  # not the test server's
    assert any(r.name == "panel_app.delivery.smtp" for r in ours)  # the failure was logged ...
    logged = "\n".join(r.getMessage() for r in ours)
    assert CODE not in logged  # ... without the code
    assert "Never share" not in logged


# --- URL forms ------------------------------------------------------------------------


def test_parse_smtp_url_forms():
    submission = parse_smtp_url("smtp://user%40example.com:p%3Ass@mail.example.com")
    assert (submission.host, submission.port, submission.username, submission.password) == (
        "mail.example.com", 587, "user@example.com", "p:ss")
    assert (submission.use_tls, submission.start_tls) == (False, True)
    assert "p:ss" not in repr(submission)

    implicit = parse_smtp_url("smtps://u:p@mail.example.com")
    assert (implicit.port, implicit.use_tls, implicit.start_tls) == (465, True, False)

    relay = parse_smtp_url("smtp://relay.internal:25")
    assert (relay.port, relay.start_tls) == (25, None)  # STARTTLS when offered
    assert parse_smtp_url("smtp://u:p@relay.internal:25").start_tls is True  # credentials need TLS

    local = parse_smtp_url("smtp+insecure://127.0.0.1:1025", is_demo=False)
    assert (local.port, local.use_tls, local.start_tls) == (1025, False, False)

    for bad in ("http://mail.example.com", "smtp://", "smtp://host:notaport"):
        with pytest.raises(SmtpUrlError):
            parse_smtp_url(bad)
    with pytest.raises(SmtpUrlError):
        parse_smtp_url("smtp+insecure://mail.example.com:25", is_demo=False)
