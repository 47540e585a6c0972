import pytest

from trellis import health


@pytest.mark.django_db
def test_healthz_answers_head_for_load_balancers(client):
    assert client.head("/healthz").status_code == 200


@pytest.mark.django_db
def test_a_failing_part_makes_healthz_503_and_names_the_part(client, monkeypatch):
    def broken():
        raise ConnectionError("database is down")

    monkeypatch.setattr(health, "_database", broken)

    response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "degraded"
    assert body["parts"]["database"] == {"status": "error", "error": "ConnectionError: database is down"}
    assert body["parts"]["channel_layer"]["status"] == "ok"


@pytest.mark.django_db
def test_queue_mode_health_reports_the_broker_and_the_worker_heartbeat(client, settings):
    settings.TRELLIS_EXECUTOR = "celery"

    response = client.get("/healthz")

    body = response.json()
    assert set(body["parts"]) == {"database", "channel_layer", "broker", "workers"}
    assert body["parts"]["broker"]["status"] == "ok"
    assert "@" not in body["parts"]["broker"]["url"]  # never shows broker credentials
    # Whether a worker is up depends on the rest of the suite; the answer must agree with itself.
    assert response.status_code == (200 if body["status"] == "ok" else 503)
    assert body["parts"]["workers"]["status"] in {"ok", "error"}
