"""Editors create, read, change and delete chat deployments of a published workflow."""

import pytest

from chat.models import ChatDeployment

pytestmark = pytest.mark.django_db


def _url(workflow, did=None):
    base = f"/api/v1/workflows/{workflow.pk}/deployments"
    return f"{base}/{did}" if did else base


def test_an_editor_deploys_a_published_workflow_and_gets_its_url_and_snippet(
    client_for, editor, chat_workflow, settings
):
    settings.PUBLIC_URL = "https://trellis.example.com"
    response = client_for(editor).post(
        _url(chat_workflow),
        {
            "title": "Help desk",
            "greeting": "Hi!",
            "starter_prompts": ["Where is my order?", "  "],
            "allowed_origins": ["https://Shop.example.com:443/", "http://localhost:3000"],
            "theme": {"color": "#2563eb"},
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    deployment = ChatDeployment.objects.get()
    assert body["id"] == str(deployment.pk)
    assert body["public_id"] == deployment.public_id
    assert len(deployment.public_id) == 22
    assert body["url"] == f"https://trellis.example.com/chat/{deployment.public_id}"
    assert body["embed_snippet"] == (
        f'<script src="https://trellis.example.com/chat/embed.js" data-deployment="{deployment.public_id}" '
        "async></script>"
    )
    assert body["kind"] == "chat"
    assert body["access"] == "public"
    assert body["allowed_origins"] == ["https://shop.example.com", "http://localhost:3000"]
    assert body["starter_prompts"] == ["Where is my order?"]
    assert body["theme"] == {"color": "#2563eb"}
    assert body["enabled"] is True
    assert deployment.workspace_id == chat_workflow.workspace_id


def test_deploying_needs_a_published_version(client_for, editor, publish):
    workflow = publish()
    workflow.published_version = None
    workflow.save(update_fields=["published_version"])

    response = client_for(editor).post(_url(workflow), {"title": "x"}, format="json")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "not_published"
    assert ChatDeployment.objects.count() == 0


@pytest.mark.parametrize(
    "origins",
    [["javascript:alert(1)"], ["https://shop.example.com/path"], ["ftp://x.example"], ["https://u:p@x.example"]],
)
def test_an_allowed_origin_must_be_an_http_origin(client_for, editor, chat_workflow, origins):
    response = client_for(editor).post(_url(chat_workflow), {"title": "x", "allowed_origins": origins}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "allowed_origins"
    assert ChatDeployment.objects.count() == 0


def test_a_theme_colour_must_be_a_hex_colour(client_for, editor, chat_workflow):
    response = client_for(editor).post(
        _url(chat_workflow), {"title": "x", "theme": {"color": "red;background:url(x)"}}, format="json"
    )

    assert response.status_code == 400
    assert ChatDeployment.objects.count() == 0


def test_a_viewer_lists_deployments_but_cannot_create_change_or_delete_them(client_for, viewer, deployment):
    client = client_for(viewer)
    workflow = deployment.workflow

    listed = client.get(_url(workflow))
    created = client.post(_url(workflow), {"title": "x"}, format="json")
    changed = client.patch(_url(workflow, deployment.pk), {"enabled": False}, format="json")
    deleted = client.delete(_url(workflow, deployment.pk))

    assert listed.status_code == 200
    assert [d["id"] for d in listed.json()] == [str(deployment.pk)]
    assert (created.status_code, changed.status_code, deleted.status_code) == (403, 403, 403)
    deployment.refresh_from_db()
    assert deployment.enabled is True
    assert ChatDeployment.objects.count() == 1


def test_another_workspace_sees_no_deployment(client_for, make_workspace, make_user, deployment):
    stranger = make_user()
    make_workspace(owner=stranger)

    response = client_for(stranger).get(_url(deployment.workflow, deployment.pk))

    assert response.status_code == 404


def test_an_editor_turns_a_deployment_off_and_deletes_it(client_for, editor, deployment):
    client = client_for(editor)
    workflow = deployment.workflow

    off = client.patch(_url(workflow, deployment.pk), {"enabled": False, "access": "members"}, format="json")
    assert off.status_code == 200
    assert (off.json()["enabled"], off.json()["access"]) == (False, "members")

    gone = client.delete(_url(workflow, deployment.pk))
    assert gone.status_code == 204
    assert ChatDeployment.objects.count() == 0
    assert client.get(_url(workflow, deployment.pk)).status_code == 404
