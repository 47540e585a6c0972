"""The triggers API: create (secret shown once), list, enable/disable, delete, rotate, delivery log."""

from datetime import timedelta

import pytest
from django.utils import timezone

from runs.persistence.deliveries import delivery_purge, delivery_record
from runs.triggers.models import Delivery, Trigger
from runs.triggers.services import trigger_secrets

pytestmark = pytest.mark.django_db


def _url(workflow, *rest):
    return "/".join([f"/api/v1/workflows/{workflow.pk}/triggers", *[str(r) for r in rest]])


def test_an_editor_creates_a_webhook_trigger_and_sees_its_secret_once(client_for, editor, workspace, workflow):
    client = client_for(editor, workspace)

    created = client.post(_url(workflow), {"name": "CRM"}, format="json")

    assert created.status_code == 201
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["kind"] == "webhook"
    assert body["auth_mode"] == "signature"
    assert body["enabled"] is True
    trigger = Trigger.objects.get(pk=body["id"])
    assert body["url"].endswith(f"/hooks/{trigger.key}")
    assert body["test_url"].endswith(f"/hooks/test/{trigger.key}")
    assert trigger_secrets(trigger) == [body["secret"]]
    listed = client.get(_url(workflow)).json()
    assert [t["id"] for t in listed] == [body["id"]]
    assert "secret" not in listed[0]
    assert "secret" not in client.get(_url(workflow, body["id"])).json()


def test_a_workflow_without_a_published_version_refuses_a_trigger(client_for, editor, workspace, make_workflow):
    draft_only = make_workflow(published=False)

    response = client_for(editor, workspace).post(_url(draft_only), {}, format="json")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "not_published"
    assert Trigger.objects.count() == 0


def test_a_viewer_lists_but_cannot_create(client_for, viewer, workspace, workflow, make_trigger):
    make_trigger()
    client = client_for(viewer, workspace)

    assert client.get(_url(workflow)).status_code == 200
    response = client.post(_url(workflow), {}, format="json")

    assert response.status_code == 403
    assert Trigger.objects.count() == 1


def test_another_workspace_sees_404(client_for, make_workspace, make_user, workflow, make_trigger):
    trigger, _ = make_trigger()
    stranger = make_user()
    other = make_workspace(owner=stranger)
    client = client_for(stranger, other)

    assert client.get(_url(workflow)).status_code == 404
    assert client.post(_url(workflow, trigger.pk, "disable")).status_code == 404
    assert client.delete(_url(workflow, trigger.pk)).status_code == 404
    assert Trigger.objects.get(pk=trigger.pk).enabled is True


def test_disable_enable_and_delete(client_for, editor, workspace, workflow, make_trigger):
    trigger, _ = make_trigger()
    client = client_for(editor, workspace)

    assert client.post(_url(workflow, trigger.pk, "disable")).json()["enabled"] is False
    assert client.post(_url(workflow, trigger.pk, "enable")).json()["enabled"] is True
    assert client.patch(_url(workflow, trigger.pk), {"enabled": False}, format="json").json()["enabled"] is False
    assert client.delete(_url(workflow, trigger.pk)).status_code == 204
    assert Trigger.objects.count() == 0


def test_rotation_keeps_the_previous_secret_valid_for_the_grace_period(
    client_for, editor, workspace, workflow, make_trigger, settings
):
    settings.WEBHOOK_SECRET_GRACE_S = 3600
    trigger, first = make_trigger()

    rotated = client_for(editor, workspace).post(_url(workflow, trigger.pk, "rotate-secret")).json()

    second = rotated["secret"]
    assert second.startswith("whsec_") and second != first
    trigger.refresh_from_db()
    assert trigger_secrets(trigger) == [second, first]
    assert trigger_secrets(trigger, now=timezone.now() + timedelta(seconds=3601)) == [second]


def test_a_schedule_trigger_needs_a_valid_cron_and_time_zone(client_for, editor, workspace, workflow):
    client = client_for(editor, workspace)

    bad_cron = client.post(_url(workflow), {"kind": "schedule", "cron": "every day"}, format="json")
    bad_tz = client.post(
        _url(workflow), {"kind": "schedule", "cron": "0 9 * * *", "timezone": "Mars/Olympus"}, format="json"
    )
    good = client.post(
        _url(workflow),
        {"kind": "schedule", "cron": "0 9 * * *", "timezone": "Europe/Paris", "input": {"message": "daily"}},
        format="json",
    )

    assert bad_cron.status_code == 422 and bad_cron.json()["error"]["details"][0]["field"] == "cron"
    assert bad_tz.status_code == 422 and bad_tz.json()["error"]["details"][0]["field"] == "timezone"
    assert good.status_code == 201
    body = good.json()
    assert body["url"] is None
    assert body["next_fire_at"] is not None
    assert Trigger.objects.count() == 1


def test_a_callback_url_to_a_private_address_is_refused(client_for, editor, workspace, workflow):
    response = client_for(editor, workspace).post(
        _url(workflow), {"callback_url": "http://10.0.0.5/hook"}, format="json"
    )

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "callback_url"
    assert Trigger.objects.count() == 0


def test_the_delivery_log_lists_newest_first_and_old_lines_are_purged(
    client_for, viewer, workspace, workflow, make_trigger, settings
):
    settings.DELIVERY_RETENTION_DAYS = 7
    trigger, _ = make_trigger()
    old = delivery_record(trigger_id=trigger.pk, outcome="rejected", status_code=401, reason="invalid_signature")
    Delivery.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    new = delivery_record(trigger_id=trigger.pk, outcome="accepted", status_code=202)

    listed = client_for(viewer, workspace).get(_url(workflow, trigger.pk, "deliveries")).json()

    assert [d["id"] for d in listed] == [new.pk, old.pk]
    assert listed[1]["reason"] == "invalid_signature"
    assert delivery_purge() == 1
    assert list(Delivery.objects.values_list("pk", flat=True)) == [new.pk]
