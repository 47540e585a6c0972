"""API tokens: shown once, stored hashed, authenticate as their user in one workspace, stop on revoke."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.tokens import hash_token


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.mark.django_db
def test_creating_a_token_returns_it_once_and_stores_only_its_hash(workspace, editor, client_for):
    client = client_for(editor, workspace)

    created = client.post("/api/v1/tokens", {"name": "CI"}, format="json").json()
    listed = client.get("/api/v1/tokens").json()

    token = ApiToken.objects.get()
    assert created["token"].startswith("trl_")
    assert token.token_hash == hash_token(created["token"])
    assert created["token"] not in str(ApiToken.objects.values().get())
    assert listed == [
        {
            "id": str(token.pk),
            "name": "CI",
            "prefix": created["token"][:10],
            "user_email": editor.email,
            "created_at": created["created_at"],
            "last_used_at": None,
        }
    ]


@pytest.mark.django_db
def test_a_token_authenticates_and_records_last_use(workspace, editor, client_for):
    raw = client_for(editor, workspace).post("/api/v1/tokens", {"name": "CI"}, format="json").json()["token"]

    response = bearer(raw).get("/api/v1/me")

    assert response.status_code == 200
    assert response.json()["email"] == editor.email
    assert ApiToken.objects.get().last_used_at is not None


@pytest.mark.django_db
def test_a_revoked_token_is_refused(workspace, editor, client_for):
    client = client_for(editor, workspace)
    created = client.post("/api/v1/tokens", {"name": "CI"}, format="json").json()

    revoked = client.delete(f"/api/v1/tokens/{created['id']}")
    response = bearer(created["token"]).get("/api/v1/me")

    assert revoked.status_code == 204
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "not_authenticated", "message": "Invalid or revoked API token.", "details": []}
    }
    assert client.get("/api/v1/tokens").json() == []


@pytest.mark.django_db
def test_an_unknown_token_is_refused(db):
    response = bearer("trl_not-a-real-token").get("/api/v1/me")

    assert response.status_code == 401


@pytest.mark.django_db
def test_anonymous_api_calls_get_401_in_the_error_shape(db):
    response = APIClient().get("/api/v1/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.django_db
def test_a_token_acts_with_its_users_role(workspace, viewer, client_for):
    raw = client_for(viewer, workspace).post("/api/v1/tokens", {"name": "ro"}, format="json").json()["token"]

    response = bearer(raw).post("/api/v1/secrets", {"name": "X", "value": "y"}, format="json")

    assert response.status_code == 403


@pytest.mark.django_db
def test_members_see_only_their_own_tokens_and_cannot_revoke_others(workspace, owner, editor, viewer, client_for):
    editor_token = client_for(editor, workspace).post("/api/v1/tokens", {"name": "e"}, format="json").json()
    client_for(viewer, workspace).post("/api/v1/tokens", {"name": "v"}, format="json")

    viewer_list = client_for(viewer, workspace).get("/api/v1/tokens").json()
    owner_list = client_for(owner, workspace).get("/api/v1/tokens").json()
    denied = client_for(viewer, workspace).delete(f"/api/v1/tokens/{editor_token['id']}")

    assert [t["name"] for t in viewer_list] == ["v"]
    assert sorted(t["name"] for t in owner_list) == ["e", "v"]
    assert denied.status_code == 403
    assert ApiToken.objects.get(pk=editor_token["id"]).revoked_at is None


@pytest.mark.django_db
def test_an_admin_can_revoke_any_members_token(workspace, owner, editor, client_for):
    editor_token = client_for(editor, workspace).post("/api/v1/tokens", {"name": "e"}, format="json").json()

    response = client_for(owner, workspace).delete(f"/api/v1/tokens/{editor_token['id']}")

    assert response.status_code == 204
    assert bearer(editor_token["token"]).get("/api/v1/me").status_code == 401


@pytest.mark.django_db
def test_a_token_cannot_create_workspaces(workspace, owner, client_for):
    raw = client_for(owner, workspace).post("/api/v1/tokens", {"name": "t"}, format="json").json()["token"]

    response = bearer(raw).post("/api/v1/workspaces", {"name": "Sneaky"}, format="json")

    assert response.status_code == 403


@pytest.mark.django_db
def test_create_api_token_command_prints_a_working_token(workspace, owner):
    out = io.StringIO()

    call_command("create_api_token", email=owner.email, workspace=workspace.slug, name="deploy", stdout=out)

    raw = out.getvalue().strip()
    assert raw.startswith("trl_")
    assert ApiToken.objects.get().name == "deploy"
    assert bearer(raw).get("/api/v1/me").json()["workspaces"][0]["slug"] == workspace.slug


@pytest.mark.django_db
def test_create_api_token_command_refuses_a_non_member(workspace, make_user):
    stranger = make_user()

    with pytest.raises(CommandError, match="belong to"):
        call_command("create_api_token", email=stranger.email, workspace=workspace.slug, name="x")
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_a_token_name_that_is_a_number_is_refused_not_stored_as_text(workspace, editor, client_for):
    response = client_for(editor, workspace).post("/api/v1/tokens", {"name": 0}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": "name", "message": "Not a valid string."}]
    assert ApiToken.objects.count() == 0
