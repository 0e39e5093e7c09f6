"""Shared steps for browser tests."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

OWNER = ("owner@example.com", "panel-demo-owner")
TECH = ("tech@example.com", "panel-demo-tech")


def sign_in(page: Page, base_url: str, email: str, password: str, next_path: str = "") -> None:
    page.goto(base_url + "/login" + (f"?next={next_path}" if next_path else ""))
    page.get_by_label(re.compile("Email address|E-Mail-Adresse")).fill(email)
    page.get_by_label(re.compile("^(Password|Passwort)$")).fill(password)
    page.get_by_role("button", name=re.compile("^(Sign in|Anmelden)$")).click()


def sign_out(page: Page) -> None:
    page.locator("#logout-button").click()
    expect(page).to_have_url(re.compile(r"/login"))
