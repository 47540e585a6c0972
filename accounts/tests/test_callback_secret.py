"""The workspace's callback signing secret: admins create or rotate it and see it once; it is encrypted at
rest, never returned by any other endpoint, and never reachable from another workspace."""

import pytest
from rest_framework.test import APIClient

from accounts.models import CallbackSigningSecret
from accounts.services import api_token_create, callback_signing_secrets
from accounts.tests.test_secrets import api_paths

pytestmark = pytest.mark.django_db

ROTATE = "/api/v1/workspace/callback-secret/rotate"
INFO = "/api/v1/workspace/callback-secret"


@pytest.fixture
def admin(workspace, member):
    return member(workspace, "admin")


def test_an_admin_creates_the_secret_and_sees_it_once(workspace, admin, client_for):
    client = client_for(admin, workspace)
    before = client.get(INFO)

    response = client.post(ROTATE)

    assert before.status_code == 200
    assert before.json() == {
        "exists": False,
        "created_at": None,
        "rotated_at": None,
        "previous_secret_expires_at": None,
    }
    assert response.status_code == 200
    body = response.json()
    secret = body["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    row = CallbackSigningSecret.objects.get(workspace=workspace)
    assert body == {
        "exists": True,
        "created_at": body["created_at"],
        "rotated_at": body["rotated_at"],
        "previous_secret_expires_at": None,
        "secret": secret,
    }
    assert row.rotated_by == admin
    assert secret.encode() not in bytes(row.secret_ciphertext)
    assert secret.removeprefix("whsec_").encode() not in bytes(row.secret_ciphertext)
    assert callback_signing_secrets(workspace_id=workspace.pk) == [secret]
    after = client.get(INFO).json()
    assert "secret" not in after
    assert after["exists"] is True
    assert secret not in str(after)


def test_a_rotation_keeps_the_previous_secret_signing_for_the_grace_period(workspace, admin, client_for, settings):
    settings.WEBHOOK_SECRET_GRACE_S = 3600
    client = client_for(admin, workspace)
    first = client.post(ROTATE).json()["secret"]

    second = client.post(ROTATE).json()

    assert second["secret"] != first
    assert second["previous_secret_expires_at"] is not None
    assert client.get(INFO).json()["previous_secret_expires_at"] == second["previous_secret_expires_at"]
    assert callback_signing_secrets(workspace_id=workspace.pk) == [second["secret"], first]


def test_without_a_grace_period_the_previous_secret_stops_signing_at_once(workspace, admin, client_for, settings):
    settings.WEBHOOK_SECRET_GRACE_S = 0
    client = client_for(admin, workspace)
    client.post(ROTATE)

    latest = client.post(ROTATE).json()

    assert latest["previous_secret_expires_at"] is None
    assert callback_signing_secrets(workspace_id=workspace.pk) == [latest["secret"]]


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_below_admin_nobody_rotates_the_secret_and_nothing_changes(workspace, admin, member, client_for, role):
    original = client_for(admin, workspace).post(ROTATE).json()["secret"]
    user = member(workspace, role)

    response = client_for(user, workspace).post(ROTATE)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert callback_signing_secrets(workspace_id=workspace.pk) == [original]


def test_a_viewer_cannot_read_even_whether_there_is_a_secret(workspace, viewer, editor, client_for):
    assert client_for(viewer, workspace).get(INFO).status_code == 403
    assert client_for(editor, workspace).get(INFO).status_code == 200


def test_another_workspaces_admin_or_token_can_neither_rotate_nor_read_this_secret(
    workspace, admin, make_workspace, client_for
):
    # given: this workspace's secret, and the owner of another workspace (not a member here)
    original = client_for(admin, workspace).post(ROTATE).json()["secret"]
    other = make_workspace(name="Other")
    stranger = other.memberships.get().user
    _, token = api_token_create(workspace=other, user=stranger, name="t")

    # when: they name this workspace by header, with a session or with their token
    by_session = client_for(stranger, workspace)  # sends X-Trellis-Workspace: <this workspace>
    rotate_session, read_session = by_session.post(ROTATE), by_session.get(INFO)
    by_token = APIClient()
    by_token.credentials(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_TRELLIS_WORKSPACE=workspace.slug)
    rotate_token = by_token.post(ROTATE)

    # then: 404 (this workspace does not exist for them) and the secret is unchanged
    assert [rotate_session.status_code, read_session.status_code, rotate_token.status_code] == [404, 404, 404]
    assert callback_signing_secrets(workspace_id=workspace.pk) == [original]
    assert not CallbackSigningSecret.objects.filter(workspace=other).exists()


def test_a_token_rotates_only_its_own_workspaces_secret(workspace, make_workspace, member):
    other = make_workspace(name="Other")
    member_there = member(other, "admin")
    _, token = api_token_create(workspace=other, user=member_there, name="t")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = client.post(ROTATE)

    assert response.status_code == 200
    assert callback_signing_secrets(workspace_id=other.pk) == [response.json()["secret"]]
    assert not CallbackSigningSecret.objects.filter(workspace=workspace).exists()


def test_no_other_endpoint_ever_returns_the_callback_secret(workspace, owner, client_for):
    # given: a secret rotated twice (so a previous one is in its grace period too)
    client = client_for(owner, workspace)
    previous = client.post(ROTATE).json()["secret"]
    current = client.post(ROTATE).json()["secret"]
    ids = {"workspace_id": str(workspace.pk), "member_id": str(workspace.memberships.get().pk)}

    # when every GET route under /api/ is called (parameters filled where we know them)
    checked = []
    for path in api_paths(ids):
        body = client.get(path).content.decode(errors="replace")
        # then neither secret (nor its key material) is in any answer
        for secret in (previous, current):
            assert secret.removeprefix("whsec_") not in body, path
        checked.append(path)
    assert INFO in checked
    assert "/api/v1/secrets" in checked
    assert "/api/schema/" in checked
