"""Secrets are write-only: encrypted at rest, and no endpoint ever answers with a value."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Secret
from accounts.providers import provider_create
from accounts.services import secret_value

VALUE = "s3cr3t-VALUE-that-must-never-leak"


@pytest.mark.django_db
def test_an_admin_creates_a_secret_and_only_its_name_comes_back(workspace, member, client_for):
    admin = member(workspace, "admin")

    response = client_for(admin, workspace).post(
        "/api/v1/secrets", {"name": "STRIPE_KEY", "value": VALUE}, format="json"
    )

    secret = Secret.objects.get()
    assert response.status_code == 201
    assert response.json() == {
        "id": str(secret.pk),
        "name": "STRIPE_KEY",
        "created_at": response.json()["created_at"],
        "updated_at": response.json()["updated_at"],
    }
    assert VALUE.encode() not in bytes(secret.ciphertext)
    assert secret_value(workspace_id=workspace.pk, name="STRIPE_KEY") == VALUE


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_below_admin_nobody_writes_secrets(workspace, member, client_for, role):
    user = member(workspace, role)

    response = client_for(user, workspace).post("/api/v1/secrets", {"name": "X", "value": "y"}, format="json")

    assert response.status_code == 403
    assert not Secret.objects.exists()


@pytest.mark.django_db
def test_a_viewer_cannot_even_list_secret_names(workspace, viewer, client_for):
    assert client_for(viewer, workspace).get("/api/v1/secrets").status_code == 403


@pytest.mark.django_db
def test_updating_and_deleting_a_secret(workspace, owner, client_for):
    client = client_for(owner, workspace)
    created = client.post("/api/v1/secrets", {"name": "K", "value": "one"}, format="json").json()

    updated = client.put(f"/api/v1/secrets/{created['id']}", {"value": "two"}, format="json")
    value_after_update = secret_value(workspace_id=workspace.pk, name="K")
    deleted = client.delete(f"/api/v1/secrets/{created['id']}")

    assert updated.status_code == 200
    assert "two" not in updated.content.decode()
    assert value_after_update == "two"
    assert deleted.status_code == 204
    assert not Secret.objects.exists()


@pytest.mark.django_db
def test_a_duplicate_or_badly_named_secret_is_refused(workspace, owner, client_for):
    client = client_for(owner, workspace)
    client.post("/api/v1/secrets", {"name": "K", "value": "one"}, format="json")

    duplicate = client.post("/api/v1/secrets", {"name": "K", "value": "two"}, format="json")
    bad_name = client.post("/api/v1/secrets", {"name": "has space", "value": "x"}, format="json")

    assert duplicate.status_code == 409
    assert bad_name.status_code == 400
    assert secret_value(workspace_id=workspace.pk, name="K") == "one"


def _get_paths(resolver=None, prefix="") -> list[str]:
    """Every GET-able route of the project with its parameters filled from `ids`."""
    resolver = resolver or get_resolver()
    paths = []
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            paths += _get_paths(pattern, route)
        elif isinstance(pattern, URLPattern):
            paths.append(route)
    return paths


def api_paths(ids: dict[str, str]) -> list[str]:
    """Every route under /api/ with its parameters filled from `ids`; routes with other parameters are left out."""
    paths = []
    for route in _get_paths():
        if not route.startswith("api/"):
            continue
        path = "/" + route.replace("^", "").replace("$", "").replace("\\Z", "")
        for name, value in ids.items():
            path = path.replace(f"<uuid:{name}>", value).replace(f"<int:{name}>", value).replace(f"<{name}>", value)
        if "<" not in path and "(" not in path:  # else a route of another app whose ids we do not have
            paths.append(path)
    return paths


@pytest.mark.django_db
def test_no_get_endpoint_ever_returns_a_secret_value(workspace, owner, client_for, settings):
    # given a secret created through the API and a provider whose key is stored as one
    client = client_for(owner, workspace)
    secret = client.post("/api/v1/secrets", {"name": "API_KEY", "value": VALUE}, format="json").json()
    provider = provider_create(workspace=workspace, name="P", api_key=VALUE + "-provider")
    ids = {
        "workspace_id": str(workspace.pk),
        "secret_id": secret["id"],
        "provider_id": str(provider.pk),
        "member_id": str(workspace.memberships.get().pk),
    }
    # when every GET route under /api/ is called (parameters filled where we know them)
    checked = []
    for path in api_paths(ids):
        response = client.get(path)
        body = response.content.decode(errors="replace")
        # then no answer contains the value
        assert VALUE not in body, path
        checked.append(path)
    assert "/api/v1/secrets" in checked
    assert f"/api/v1/secrets/{secret['id']}" in checked
    assert f"/api/v1/providers/{provider.pk}" in checked
    assert "/api/schema/" in checked


@pytest.mark.django_db
def test_provider_key_names_are_reserved(workspace, owner, client_for):
    response = client_for(owner, workspace).post("/api/v1/secrets", {"name": "provider:1", "value": "x"}, format="json")

    assert response.status_code == 400
    assert not Secret.objects.exists()
