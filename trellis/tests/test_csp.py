"""Content-Security-Policy (django-csp) on the app shell, the account pages, the admin and the API docs:
scripts from our origin only, never eval, inline <style>/<script> only with the response's nonce."""

import re

import pytest
from django.test import Client


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split("; "))}


def expected(nonce: str | None) -> dict[str, list[str]]:
    with_nonce = ["'self'", f"'nonce-{nonce}'"] if nonce else ["'self'"]
    return {
        "default-src": ["'self'"],
        "script-src": with_nonce,
        "style-src": with_nonce,
        "style-src-elem": with_nonce,
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/api/docs/"])
def test_pages_with_inline_style_or_script_carry_the_nonce_of_their_policy(path):
    response = Client().get(path)

    assert response.status_code == 200
    nonces = set(re.findall(r'nonce="([^"]+)"', response.content.decode()))
    assert len(nonces) == 1
    assert policy(response) == expected(nonces.pop())
    assert "unsafe-eval" not in response["Content-Security-Policy"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/admin/login/"])
def test_pages_without_inline_code_get_the_policy_without_a_nonce(path, owner):
    client = Client()
    client.force_login(owner)

    response = client.get(path)

    assert response.status_code in (200, 302)
    assert policy(response) == expected(None)


@pytest.mark.django_db
def test_every_inline_script_and_style_of_the_api_docs_has_the_nonce():
    html = Client().get("/api/docs/").content.decode()

    inline = re.findall(r"<(script|style)([^>]*)>", html)
    assert [tag for tag, attrs in inline if "src=" not in attrs and "nonce=" not in attrs] == []
    assert len([tag for tag, attrs in inline if "nonce=" in attrs]) == 2  # the page's style and its setup script
