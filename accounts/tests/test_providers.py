import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts.models import ModelProvider, Secret
from accounts.providers import provider_create, provider_credentials
from accounts.services import secret_value


class _ModelsHandler(BaseHTTPRequestHandler):
    """Speaks just enough of the OpenAI wire protocol for GET /v1/models."""

    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.path != "/v1/models":
            self.send_error(404)
            return
        if self.headers.get("Authorization") != "Bearer sk-good":
            body = json.dumps({"error": {"message": "bad key", "type": "invalid_request_error"}}).encode()
            self.send_response(401)
        else:
            data = [
                {"id": name, "object": "model", "created": 0, "owned_by": "test"} for name in ("b-model", "a-model")
            ]
            body = json.dumps({"object": "list", "data": data}).encode()
            self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def models_server(settings):
    settings.HTTP_ALLOWLIST = ["127.0.0.1"]  # provider calls go through the SSRF guard, like the engine's
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ModelsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_admin_creates_a_provider_and_its_key_is_stored_as_a_secret_never_returned(workspace, member, client_for):
    admin = member(workspace, "admin")

    response = client_for(admin, workspace).post(
        "/api/v1/providers",
        {
            "name": "Local",
            "base_url": "http://127.0.0.1:9/v1",
            "api_style": "chat_completions",
            "api_key": "sk-very-secret",
            "models": ["m1", "m2"],
        },
        format="json",
    )

    body = response.json()
    assert response.status_code == 201
    provider = ModelProvider.objects.get(pk=body["id"])
    assert body == {
        "id": provider.pk,
        "name": "Local",
        "base_url": "http://127.0.0.1:9/v1",
        "api_style": "chat_completions",
        "api_key_secret": f"provider:{provider.pk}",
        "has_api_key": True,
        "models": ["m1", "m2"],
        "is_default": True,
        "created_at": body["created_at"],
    }
    assert secret_value(workspace_id=workspace.pk, name=f"provider:{provider.pk}") == "sk-very-secret"
    assert "sk-very-secret" not in client_for(admin, workspace).get("/api/v1/providers").content.decode()


@pytest.mark.django_db
def test_an_editor_can_list_providers_but_not_create_one(workspace, editor, client_for):
    client = client_for(editor, workspace)

    created = client.post("/api/v1/providers", {"name": "X"}, format="json")

    assert created.status_code == 403
    assert ModelProvider.objects.count() == 0
    assert client.get("/api/v1/providers").json() == []


@pytest.mark.django_db
def test_only_one_provider_is_the_default(workspace):
    first = provider_create(workspace=workspace, name="First")
    second = provider_create(workspace=workspace, name="Second", is_default=True)

    first.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)


@pytest.mark.django_db
def test_patching_api_key_to_empty_deletes_the_stored_key(workspace, owner, client_for):
    provider = provider_create(workspace=workspace, name="P", base_url="http://127.0.0.1:9/v1", api_key="sk-1")

    response = client_for(owner, workspace).patch(f"/api/v1/providers/{provider.pk}", {"api_key": ""}, format="json")

    assert response.status_code == 200
    assert response.json()["has_api_key"] is False
    assert not Secret.objects.filter(workspace=workspace).exists()


@pytest.mark.django_db
def test_deleting_a_provider_deletes_its_stored_key(workspace, owner, client_for):
    provider = provider_create(workspace=workspace, name="P", api_key="sk-1")

    response = client_for(owner, workspace).delete(f"/api/v1/providers/{provider.pk}")

    assert response.status_code == 204
    assert not ModelProvider.objects.exists()
    assert not Secret.objects.exists()


@pytest.mark.django_db
def test_connection_test_lists_the_providers_models(workspace, owner, client_for, models_server):
    provider = provider_create(workspace=workspace, name="Local", base_url=models_server, api_key="sk-good")

    response = client_for(owner, workspace).post(f"/api/v1/providers/{provider.pk}/test")

    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "message": "Connected: 2 models available.",
        "models": ["a-model", "b-model"],
    }


@pytest.mark.django_db
def test_connection_test_reports_a_refused_key(workspace, owner, client_for, models_server):
    provider = provider_create(workspace=workspace, name="Local", base_url=models_server, api_key="sk-bad")

    response = client_for(owner, workspace).post(f"/api/v1/providers/{provider.pk}/test")

    assert response.json() == {"ok": False, "message": "The provider refused the API key (401).", "models": []}


@pytest.mark.django_db
def test_connection_test_reports_an_unreachable_server(workspace, owner, client_for, settings):
    settings.HTTP_ALLOWLIST = ["127.0.0.1"]
    provider = provider_create(workspace=workspace, name="Nowhere", base_url="http://127.0.0.1:9/v1", api_key="k")

    body = client_for(owner, workspace).post(f"/api/v1/providers/{provider.pk}/test").json()

    assert body == {"ok": False, "message": "Cannot connect to http://127.0.0.1:9/v1.", "models": []}


@pytest.mark.django_db
def test_connection_test_refuses_a_private_address_like_the_engine_does(
    workspace, owner, client_for, models_server, settings
):
    settings.HTTP_ALLOWLIST = []
    provider = provider_create(workspace=workspace, name="Internal", base_url=models_server, api_key="sk-good")

    body = client_for(owner, workspace).post(f"/api/v1/providers/{provider.pk}/test").json()

    assert body["ok"] is False
    assert "TRELLIS_HTTP_ALLOWLIST" in body["message"]


@pytest.mark.django_db
def test_connection_test_says_a_key_is_missing(workspace, owner, client_for):
    provider = provider_create(workspace=workspace, name="Keyless", base_url="http://127.0.0.1:9/v1")

    body = client_for(owner, workspace).post(f"/api/v1/providers/{provider.pk}/test").json()

    assert body["ok"] is False
    assert body["message"].startswith("Model provider 'Keyless' has no API key. An admin can add one")


@pytest.mark.django_db
def test_credentials_come_from_the_providers_secret(workspace):
    provider = provider_create(workspace=workspace, name="OpenAI", api_key="sk-mine")

    creds = provider_credentials(provider=provider)

    assert (creds.base_url, creds.api_key, creds.api_style) == (None, "sk-mine", "responses")
