"""Runs last: the server's whole log of this browser run holds none of the secrets the run
used (codes sent, reset and invitation tokens, passwords, authenticator secrets, card numbers)."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from panel_app.db import transaction
from panel_app.models import OutboxMessage
from panel_app.seed import DEMO_STAFF

pytestmark = pytest.mark.browser

PASSWORDS = ["panel-demo-owner", "panel-demo-tech", "a-long-test-password", "the-old-password-1",
             "the-new-password-2", *[s[2] for s in DEMO_STAFF]]
CARD_NUMBERS = ["4242424242424242", "4000056655665556", "DE89370400440532013000"]


def test_the_server_log_holds_no_secret(server_log):
    with transaction() as db:
        texts = [m.text for m in db.exec(select(OutboxMessage))]
    codes = {c for text in texts for c in re.findall(r"(?<!\d)(\d{6})(?!\d)", text)}
    tokens = {t for text in texts for t in re.findall(r"token=([\w-]{20,})", text)}
    assert codes  # the run sent codes: the check is not empty
    log = server_log.read_text(errors="replace")
    assert len(log) > 1000
    found = [secret for secret in (*PASSWORDS, *CARD_NUMBERS, *[s[4] for s in DEMO_STAFF], *tokens)
             if secret in log]
    found += [code for code in codes if re.search(rf"(?<![\w.:-]){code}(?![\w.:-])", log)]  # not inside a hex id
    assert found == []
