"""The Content-Security-Policy in a real browser: the sign-in page, the app (editor included), the admin
sign-in and the Swagger UI at /api/docs/ work under it, and Chromium reports no violation."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e


def violations_of(page) -> list[str]:
    """Collects what Chromium reports about the policy: console messages and securitypolicyviolation events."""
    found: list[str] = []
    page.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text else None)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI))"
    )
    return found


def test_the_api_docs_render_under_the_policy(page, shot):
    violations = violations_of(page)

    response = page.goto("/api/docs/")

    assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Trellis API")
    expect(page.locator(".opblock").first).to_be_visible()
    page.locator(".opblock-summary").first.click()  # an operation opens: the UI's scripts run
    expect(page.locator(".opblock-body").first).to_be_visible()
    shot(page, "csp-api-docs")
    assert violations == []


def test_sign_in_and_the_editor_work_under_the_policy(page, shot):
    violations = violations_of(page)

    login(page)
    expect(page.get_by_role("heading", name="Workflows", exact=True)).to_be_visible()
    page.get_by_role("button", name="From template…").click()
    page.get_by_role("dialog").locator(".template-card").first.click()
    page.wait_for_url("**/workflows/*")
    expect(page.locator(".react-flow__node").first).to_be_visible()
    shot(page, "csp-editor")

    assert violations == []


def test_the_admin_sign_in_page_works_under_the_policy(page, shot):
    violations = violations_of(page)

    page.goto("/admin/login/")
    expect(page.get_by_label("Email")).to_be_visible()
    shot(page, "csp-admin-login")

    assert violations == []
