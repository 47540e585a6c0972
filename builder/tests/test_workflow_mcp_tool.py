""" "Expose as MCP tool": the toggle and the slug that names the tool (PATCH /api/v1/workflows/<id>)."""

import pytest

from builder.models import Workflow

pytestmark = pytest.mark.django_db


def _create(client, name):
    return Workflow.objects.get(pk=client.post("/api/v1/workflows", {"name": name}, format="json").json()["id"])


def test_a_workflow_is_not_exposed_by_default_and_has_no_slug(workspace, editor, client_for):
    flow = _create(client_for(editor, workspace), "Support Bot")

    assert (flow.expose_as_tool, flow.slug) == (False, "")


def test_exposing_a_workflow_gives_it_a_slug_made_from_its_name(workspace, editor, client_for):
    client = client_for(editor, workspace)
    first, second = _create(client, "Support Bot"), _create(client, "Support  bot")

    one = client.patch(f"/api/v1/workflows/{first.pk}", {"expose_as_tool": True}, format="json").json()
    two = client.patch(f"/api/v1/workflows/{second.pk}", {"expose_as_tool": True}, format="json").json()

    assert (one["expose_as_tool"], one["slug"]) == (True, "support-bot")
    assert (two["expose_as_tool"], two["slug"]) == (True, "support-bot-2")


def test_a_slug_taken_in_the_workspace_is_a_conflict_and_nothing_changes(workspace, editor, client_for):
    client = client_for(editor, workspace)
    first, second = _create(client, "One"), _create(client, "Two")
    client.patch(f"/api/v1/workflows/{first.pk}", {"slug": "triage"}, format="json")

    response = client.patch(f"/api/v1/workflows/{second.pk}", {"slug": "triage", "name": "Renamed"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "slug_taken"
    second.refresh_from_db()
    assert (second.slug, second.name) == ("", "Two")


def test_a_malformed_slug_or_toggle_is_refused(workspace, editor, client_for):
    client = client_for(editor, workspace)
    flow = _create(client, "One")

    bad_slug = client.patch(f"/api/v1/workflows/{flow.pk}", {"slug": "Has Spaces"}, format="json")
    bad_toggle = client.patch(f"/api/v1/workflows/{flow.pk}", {"expose_as_tool": "yes"}, format="json")

    assert (bad_slug.status_code, bad_toggle.status_code) == (400, 400)
    flow.refresh_from_db()
    assert (flow.slug, flow.expose_as_tool) == ("", False)


def test_a_viewer_cannot_expose_a_workflow(workspace, editor, viewer, client_for):
    flow = _create(client_for(editor, workspace), "One")

    response = client_for(viewer, workspace).patch(
        f"/api/v1/workflows/{flow.pk}", {"expose_as_tool": True}, format="json"
    )

    assert response.status_code == 403
    flow.refresh_from_db()
    assert flow.expose_as_tool is False
