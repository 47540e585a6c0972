"""Who may change whose role or remove whom; the last owner always stays."""

import pytest

from accounts.models import ApiToken, Membership
from accounts.services import api_token_create

ROLES = ["viewer", "editor", "admin", "owner"]

# (actor role, target role, new role) -> allowed?
# Admins manage viewers/editors/admins but never owners and never grant owner; owners manage everyone.
ALLOWED_CHANGES = {
    (actor, target, new): (actor == "owner" or (actor == "admin" and target != "owner" and new != "owner"))
    for actor in ROLES
    for target in ROLES
    for new in ROLES
    if target != new
}


@pytest.mark.django_db
@pytest.mark.parametrize("actor_role,target_role,new_role", sorted(ALLOWED_CHANGES))
def test_role_change_matrix(workspace, owner, member, client_for, actor_role, target_role, new_role):
    actor = owner if actor_role == "owner" else member(workspace, actor_role)
    target = member(workspace, target_role)
    target_membership = Membership.objects.get(workspace=workspace, user=target)

    response = client_for(actor, workspace).patch(
        f"/api/v1/members/{target_membership.pk}", {"role": new_role}, format="json"
    )

    target_membership.refresh_from_db()
    if ALLOWED_CHANGES[(actor_role, target_role, new_role)]:
        assert response.status_code == 200
        assert response.json()["role"] == new_role
        assert target_membership.role == new_role
    else:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
        assert target_membership.role == target_role


@pytest.mark.django_db
@pytest.mark.parametrize("actor_role", ROLES)
@pytest.mark.parametrize("target_role", ROLES)
def test_remove_member_matrix(workspace, owner, member, client_for, actor_role, target_role):
    actor = owner if actor_role == "owner" else member(workspace, actor_role)
    target = member(workspace, target_role)
    target_membership = Membership.objects.get(workspace=workspace, user=target)
    api_token_create(workspace=workspace, user=target, name="t")

    response = client_for(actor, workspace).delete(f"/api/v1/members/{target_membership.pk}")

    allowed = actor_role == "owner" or (actor_role == "admin" and target_role != "owner")
    if allowed:
        assert response.status_code == 204
        assert not Membership.objects.filter(pk=target_membership.pk).exists()
        assert ApiToken.objects.get(user=target).revoked_at is not None
    else:
        assert response.status_code == 403
        assert Membership.objects.filter(pk=target_membership.pk, role=target_role).exists()
        assert ApiToken.objects.get(user=target).revoked_at is None


@pytest.mark.django_db
def test_the_last_owner_cannot_demote_themselves(workspace, owner, client_for):
    membership = Membership.objects.get(workspace=workspace, user=owner)

    response = client_for(owner, workspace).patch(f"/api/v1/members/{membership.pk}", {"role": "admin"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "last_owner"
    membership.refresh_from_db()
    assert membership.role == "owner"


@pytest.mark.django_db
def test_the_last_owner_can_neither_be_removed_nor_leave(workspace, owner, client_for):
    membership = Membership.objects.get(workspace=workspace, user=owner)
    client = client_for(owner, workspace)

    removed = client.delete(f"/api/v1/members/{membership.pk}")
    left = client.post(f"/api/v1/workspaces/{workspace.pk}/leave")

    assert (removed.status_code, left.status_code) == (409, 409)
    assert Membership.objects.filter(pk=membership.pk, role="owner").exists()


@pytest.mark.django_db
def test_an_owner_can_be_demoted_once_another_owner_exists(workspace, owner, member, client_for):
    second = member(workspace, "owner")
    membership = Membership.objects.get(workspace=workspace, user=owner)

    response = client_for(second, workspace).patch(
        f"/api/v1/members/{membership.pk}", {"role": "editor"}, format="json"
    )

    assert response.status_code == 200
    assert Membership.objects.get(pk=membership.pk).role == "editor"


@pytest.mark.django_db
def test_any_member_can_leave(workspace, viewer, client_for):
    response = client_for(viewer, workspace).post(f"/api/v1/workspaces/{workspace.pk}/leave")

    assert response.status_code == 204
    assert not Membership.objects.filter(workspace=workspace, user=viewer).exists()


@pytest.mark.django_db
def test_a_viewer_can_remove_themselves_through_the_member_endpoint(workspace, viewer, client_for):
    membership = Membership.objects.get(workspace=workspace, user=viewer)

    response = client_for(viewer, workspace).delete(f"/api/v1/members/{membership.pk}")

    assert response.status_code == 204


@pytest.mark.django_db
def test_member_list_shows_every_member_with_role(workspace, owner, editor, client_for):
    response = client_for(editor, workspace).get("/api/v1/members")

    assert response.status_code == 200
    assert [(m["email"], m["role"]) for m in response.json()] == [(owner.email, "owner"), (editor.email, "editor")]


@pytest.mark.django_db
def test_me_lists_workspaces_with_roles(workspace, editor, make_workspace, client_for):
    own = make_workspace(name="Mine", owner=editor)

    response = client_for(editor).get("/api/v1/me")

    assert response.json() == {
        "id": editor.pk,
        "email": editor.email,
        "name": "",
        "workspaces": [
            {"id": str(workspace.pk), "slug": workspace.slug, "name": "Acme", "role": "editor"},
            {"id": str(own.pk), "slug": own.slug, "name": "Mine", "role": "owner"},
        ],
    }


@pytest.mark.django_db
def test_workspace_create_rename_and_delete(make_user, client_for):
    user = make_user()
    client = client_for(user)

    created = client.post("/api/v1/workspaces", {"name": "Research Lab"}, format="json").json()
    renamed = client.patch(f"/api/v1/workspaces/{created['id']}", {"name": "Lab"}, format="json").json()
    deleted = client.delete(f"/api/v1/workspaces/{created['id']}")

    assert (created["slug"], created["role"]) == ("research-lab", "owner")
    assert renamed["name"] == "Lab"
    assert deleted.status_code == 204
    assert client.get("/api/v1/workspaces").json() == []


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_only_an_owner_deletes_a_workspace(workspace, member, client_for, role):
    user = member(workspace, role)

    response = client_for(user, workspace).delete(f"/api/v1/workspaces/{workspace.pk}")

    assert response.status_code == 403
    workspace.refresh_from_db()


@pytest.mark.django_db
@pytest.mark.parametrize("role,status", [("viewer", 403), ("editor", 403), ("admin", 200)])
def test_renaming_a_workspace_needs_admin(workspace, member, client_for, role, status):
    user = member(workspace, role)

    response = client_for(user, workspace).patch(f"/api/v1/workspaces/{workspace.pk}", {"name": "New"}, format="json")

    workspace.refresh_from_db()
    assert response.status_code == status
    assert workspace.name == ("New" if status == 200 else "Acme")
