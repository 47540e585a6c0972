"""Issue 7, callbacks of API-started runs: an admin creates the workspace's callback signing secret in
Settings → Secrets, sees it once, and rotating it shows a new one and how long the old one still signs."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e


def test_an_admin_creates_and_rotates_the_callback_signing_secret(page, shot):
    # given the owner on Settings → Secrets
    login(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Secrets").click()
    panel = page.get_by_role("region", name="Callback signing secret")
    expect(panel).to_contain_text("callback_url")

    # when they create the secret (or rotate it, if an earlier test made one)
    panel.get_by_role("button", name=re.compile("(Create|Rotate) callback signing secret")).click()

    # then it is shown once, in full
    shown = panel.get_by_role("status")
    expect(shown).to_contain_text("it will not be shown again")
    first = shown.locator("code").inner_text()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/=]+", first), first
    shot(page, "60-callback-secret-created")

    # and rotating gives a new secret, while the old one keeps signing for a while
    panel.get_by_role("button", name="Rotate callback signing secret").click()
    expect(shown.locator("code")).not_to_have_text(first)
    expect(panel).to_contain_text("The previous secret also signs until")
    shot(page, "61-callback-secret-rotated")

    # and after a reload the secret is gone from the page
    page.reload()
    expect(page.get_by_role("region", name="Callback signing secret")).to_contain_text("Last rotated")
    expect(page.get_by_text(first)).to_have_count(0)
