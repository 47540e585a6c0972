import pytest


@pytest.mark.django_db
def test_unknown_api_path_answers_json_404(client):
    response = client.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "No such API path.", "details": []}}


@pytest.mark.django_db
def test_healthz_reports_each_part(client):
    response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 200
    assert body["parts"]["database"]["status"] == "ok"
    assert body["parts"]["channel_layer"]["status"] == "ok"
