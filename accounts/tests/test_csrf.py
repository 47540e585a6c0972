"""Session-authenticated writes need a CSRF token; bearer-token writes do not (no ambient credential)."""

import pytest
from django.http import HttpRequest
from rest_framework.test import APIClient

from accounts.models import Secret
from accounts.services import api_token_create
from conftest import PASSWORD


def _session_client(user) -> APIClient:
    client = APIClient(enforce_csrf_checks=True)
    # A real password check: django-axes (in front of every one) needs the request it comes with.
    assert client.login(request=HttpRequest(), username=user.email, password=PASSWORD)
    return client


@pytest.mark.django_db
def test_a_session_write_without_a_csrf_token_is_refused(workspace, owner):
    client = _session_client(owner)

    response = client.post(
        "/api/v1/secrets", {"name": "K", "value": "v"}, format="json", HTTP_X_TRELLIS_WORKSPACE=workspace.slug
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "CSRF" in response.json()["error"]["message"]
    assert not Secret.objects.exists()


@pytest.mark.django_db
def test_a_session_write_with_the_csrf_token_goes_through(workspace, owner):
    client = _session_client(owner)
    client.get("/accounts/logout/")  # a page with a form sets the csrftoken cookie
    token = client.cookies["csrftoken"].value

    response = client.post(
        "/api/v1/secrets",
        {"name": "K", "value": "v"},
        format="json",
        HTTP_X_TRELLIS_WORKSPACE=workspace.slug,
        HTTP_X_CSRFTOKEN=token,
    )

    assert response.status_code == 201


@pytest.mark.django_db
def test_a_session_read_needs_no_csrf_token(workspace, owner):
    assert _session_client(owner).get("/api/v1/me").status_code == 200


@pytest.mark.django_db
def test_a_bearer_token_write_needs_no_csrf_token(workspace, owner):
    _, raw = api_token_create(workspace=workspace, user=owner, name="t")
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = client.post("/api/v1/secrets", {"name": "K", "value": "v"}, format="json")

    assert response.status_code == 201


@pytest.mark.django_db
def test_the_login_form_itself_is_csrf_protected(owner):
    client = APIClient(enforce_csrf_checks=True)

    response = client.post("/accounts/login/", {"email": owner.email, "password": PASSWORD})

    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
