"""Invitations: created by admins as a one-time link, accepted on /accounts/invite/<token>/, revocable, expiring."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Invitation, Membership, User
from conftest import PASSWORD


def _invite(client, email="new@example.com", role="editor") -> dict:
    response = client.post("/api/v1/invitations", {"email": email, "role": role}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _path(link: str) -> str:
    return link[link.index("/accounts/invite/") :]


@pytest.mark.django_db
def test_an_admin_invites_and_the_link_is_shown_once(workspace, owner, client_for, settings):
    settings.PUBLIC_URL = "https://trellis.example"
    client = client_for(owner, workspace)

    created = _invite(client)
    listed = client.get("/api/v1/invitations").json()

    invitation = Invitation.objects.get()
    assert created["link"].startswith("https://trellis.example/accounts/invite/trl_")
    assert created["role"] == "editor"
    assert abs((invitation.expires_at - invitation.created_at) - timedelta(hours=settings.INVITATION_TTL_HOURS)) < (
        timedelta(seconds=5)
    )
    assert [i["email"] for i in listed] == ["new@example.com"]
    assert "link" not in listed[0]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_below_admin_nobody_invites(workspace, member, client_for, role):
    response = client_for(member(workspace, role), workspace).post(
        "/api/v1/invitations", {"email": "x@example.com", "role": "viewer"}, format="json"
    )

    assert response.status_code == 403
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_an_admin_cannot_invite_an_owner(workspace, member, client_for):
    response = client_for(member(workspace, "admin"), workspace).post(
        "/api/v1/invitations", {"email": "x@example.com", "role": "owner"}, format="json"
    )

    assert response.status_code == 403


@pytest.mark.django_db
def test_a_new_person_signs_up_through_the_link_and_joins(workspace, owner, client_for, settings):
    settings.SIGNUP_MODE = "invite"  # the invitation works even when open sign-up is off
    link = _invite(client_for(owner, workspace))["link"]
    browser = Client()

    page = browser.get(_path(link))
    joined = browser.post(_path(link), {"name": "New Person", "password": "a-Long-enough-pass-42"})

    user = User.objects.get(email="new@example.com")
    assert page.status_code == 200
    assert "Create account and join" in page.content.decode()
    assert joined.status_code == 302
    assert joined["Location"] == f"/?workspace={workspace.slug}"
    assert Membership.objects.get(workspace=workspace, user=user).role == "editor"
    assert browser.get("/api/v1/me").json()["workspaces"][0]["slug"] == workspace.slug
    assert Invitation.objects.get().accepted_at is not None


@pytest.mark.django_db
def test_an_existing_user_signs_in_through_the_link_and_joins(workspace, owner, client_for, make_user):
    existing = make_user("known@example.com")
    link = _invite(client_for(owner, workspace), email="known@example.com", role="viewer")["link"]
    browser = Client()

    wrong = browser.post(_path(link), {"password": "wrong-password"})
    right = browser.post(_path(link), {"password": PASSWORD})

    assert wrong.status_code == 400
    assert right.status_code == 302
    assert Membership.objects.get(workspace=workspace, user=existing).role == "viewer"


@pytest.mark.django_db
def test_the_invitation_sign_in_shares_the_lockout_of_every_login_path(workspace, owner, client_for, make_user):
    existing = make_user("known@example.com")
    link = _invite(client_for(owner, workspace), email="known@example.com", role="viewer")["link"]
    browser = Client()

    statuses = [browser.post(_path(link), {"password": f"guess-{i}"}).status_code for i in range(10)]
    right = browser.post(_path(link), {"password": PASSWORD})
    app_login = browser.post("/accounts/login/", {"email": existing.email, "password": PASSWORD})

    assert statuses == [400] * 9 + [429]
    assert (right.status_code, app_login.status_code) == (429, 429)
    assert "Too many failed sign-in attempts" in right.content.decode()
    assert not Membership.objects.filter(workspace=workspace, user=existing).exists()


@pytest.mark.django_db
def test_a_signed_in_invitee_joins_with_one_click(workspace, owner, client_for, make_user):
    existing = make_user("known@example.com")
    link = _invite(client_for(owner, workspace), email="known@example.com")["link"]
    browser = Client()
    browser.force_login(existing)

    response = browser.post(_path(link))

    assert response.status_code == 302
    assert Membership.objects.filter(workspace=workspace, user=existing).exists()


@pytest.mark.django_db
def test_someone_else_signed_in_cannot_accept(workspace, owner, client_for, make_user):
    intruder = make_user("intruder@example.com")
    link = _invite(client_for(owner, workspace))["link"]
    browser = Client()
    browser.force_login(intruder)

    page = browser.get(_path(link))
    post = browser.post(_path(link))

    assert (page.status_code, post.status_code) == (403, 403)
    assert not Membership.objects.filter(workspace=workspace, user=intruder).exists()
    assert Invitation.objects.get().accepted_at is None


@pytest.mark.django_db
def test_a_link_works_once(workspace, owner, client_for):
    link = _invite(client_for(owner, workspace))["link"]
    Client().post(_path(link), {"password": "a-Long-enough-pass-42"})

    again = Client().get(_path(link))

    assert again.status_code == 410
    assert "already been used" in again.content.decode()


@pytest.mark.django_db
def test_an_expired_link_is_refused(workspace, owner, client_for):
    link = _invite(client_for(owner, workspace))["link"]
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

    response = Client().post(_path(link), {"password": "a-Long-enough-pass-42"})

    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert not User.objects.filter(email="new@example.com").exists()


@pytest.mark.django_db
def test_a_revoked_link_is_refused(workspace, owner, client_for):
    client = client_for(owner, workspace)
    created = _invite(client)

    revoked = client.delete(f"/api/v1/invitations/{created['id']}")
    response = Client().get(_path(created["link"]))

    assert revoked.status_code == 204
    assert response.status_code == 404
    assert client.get("/api/v1/invitations").json() == []


@pytest.mark.django_db
def test_inviting_an_existing_member_is_refused(workspace, owner, editor, client_for):
    response = client_for(owner, workspace).post(
        "/api/v1/invitations", {"email": editor.email, "role": "admin"}, format="json"
    )

    assert response.status_code == 409
