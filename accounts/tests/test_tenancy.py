"""A member of workspace A never sees workspace B: B's objects answer 404, not 403."""

import pytest

from accounts.models import ApiToken, Invitation, Membership, ModelProvider, Secret
from accounts.providers import provider_create
from accounts.services import api_token_create, invitation_create, secret_set


@pytest.fixture
def other(make_workspace):
    """Workspace B with one object of every kind, owned by someone else."""
    b = make_workspace(name="Other")
    b_owner = b.memberships.get().user
    by = b.memberships.get()
    return {
        "workspace": b,
        "member": b.memberships.get(),
        "token": api_token_create(workspace=b, user=b_owner, name="b-token")[0],
        "secret": secret_set(workspace=b, name="B_SECRET", value="b-value"),
        "provider": provider_create(workspace=b, name="B provider"),
        "invitation": invitation_create(workspace=b, email="x@example.com", role="viewer", by=by)[0],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["members", "tokens", "secrets", "providers", "invitations"])
def test_a_member_of_a_gets_404_listing_b_by_header(workspace, owner, other, client_for, path):
    client = client_for(owner, other["workspace"])

    response = client.get(f"/api/v1/{path}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "method,path,body",
    [
        ("get", "/api/v1/members/{member}", None),
        ("patch", "/api/v1/members/{member}", {"role": "viewer"}),
        ("delete", "/api/v1/members/{member}", None),
        ("delete", "/api/v1/tokens/{token}", None),
        ("get", "/api/v1/secrets/{secret}", None),
        ("put", "/api/v1/secrets/{secret}", {"value": "overwritten"}),
        ("delete", "/api/v1/secrets/{secret}", None),
        ("get", "/api/v1/providers/{provider}", None),
        ("patch", "/api/v1/providers/{provider}", {"name": "stolen"}),
        ("delete", "/api/v1/providers/{provider}", None),
        ("post", "/api/v1/providers/{provider}/test", None),
        ("delete", "/api/v1/invitations/{invitation}", None),
        ("get", "/api/v1/workspaces/{workspace}", None),
        ("patch", "/api/v1/workspaces/{workspace}", {"name": "stolen"}),
        ("delete", "/api/v1/workspaces/{workspace}", None),
        ("post", "/api/v1/workspaces/{workspace}/leave", None),
    ],
)
def test_a_member_of_a_gets_404_for_each_object_of_b(workspace, owner, other, client_for, method, path, body):
    ids = {k: getattr(v, "pk", None) for k, v in other.items()}
    client = client_for(owner, workspace)

    response = getattr(client, method)(path.format(**ids), body, format="json")

    assert response.status_code == 404
    # and nothing changed in B
    b = other["workspace"]
    b.refresh_from_db()
    assert b.name == "Other"
    assert Membership.objects.filter(workspace=b).count() == 1
    assert ApiToken.objects.get(pk=other["token"].pk).revoked_at is None
    assert Secret.objects.filter(workspace=b).count() == 1
    assert ModelProvider.objects.get(pk=other["provider"].pk).name == "B provider"
    assert Invitation.objects.get(pk=other["invitation"].pk).revoked_at is None


@pytest.mark.django_db
def test_a_token_of_workspace_a_cannot_reach_b_even_when_its_user_belongs_to_both(workspace, owner, other):
    from rest_framework.test import APIClient

    from accounts.services import membership_add

    membership_add(workspace=other["workspace"], user=owner, role="owner")
    _, raw = api_token_create(workspace=workspace, user=owner, name="a-only")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_X_TRELLIS_WORKSPACE=other["workspace"].slug)

    assert client.get("/api/v1/members").json()["error"]["code"] == "not_found"
    assert client.get(f"/api/v1/secrets/{other['secret'].pk}").status_code == 404
    assert [w["slug"] for w in client.get("/api/v1/me").json()["workspaces"]] == [workspace.slug]
