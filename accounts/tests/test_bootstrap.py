import io

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import Membership, ModelProvider, User, Workspace


def _bootstrap(*args) -> str:
    out = io.StringIO()
    call_command("bootstrap", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_bootstrap_creates_the_demo_login_once_and_prints_it(monkeypatch):
    monkeypatch.delenv("TRELLIS_DEMO_PASSWORD", raising=False)
    monkeypatch.delenv("TRELLIS_DEMO_MODEL_URL", raising=False)

    first = _bootstrap()
    second = _bootstrap()

    assert "email:    demo@trellis.local" in first
    assert "password: trellis-demo" in first
    assert "/accounts/login/" in first
    assert "Created" not in second and "password: trellis-demo" in second
    assert User.objects.count() == 1
    assert Membership.objects.get().role == "owner"
    assert Workspace.objects.get().slug == "demo"
    assert ModelProvider.objects.count() == 0
    assert (
        Client().post("/accounts/login/", {"email": "demo@trellis.local", "password": "trellis-demo"}).status_code
        == 302
    )


@pytest.mark.django_db
def test_bootstrap_keeps_a_changed_password_unless_asked(monkeypatch):
    monkeypatch.setenv("TRELLIS_DEMO_PASSWORD", "first-Pass-1")
    _bootstrap()
    user = User.objects.get()
    user.set_password("changed-by-user-2")
    user.save()

    kept = _bootstrap()
    reset = _bootstrap("--reset-password")

    assert "its password was changed" in kept
    assert "password: first-Pass-1" in reset
    assert User.objects.get().check_password("first-Pass-1")


@pytest.mark.django_db
def test_bootstrap_adds_the_labelled_local_test_model_when_configured(monkeypatch):
    monkeypatch.setenv("TRELLIS_DEMO_MODEL_URL", "http://127.0.0.1:8765/v1")

    _bootstrap()
    _bootstrap()

    provider = ModelProvider.objects.get()
    assert provider.name == "Local test model (demo, not a real LLM)"
    assert (provider.base_url, provider.is_default) == ("http://127.0.0.1:8765/v1", True)
    assert provider.workspace.slug == "demo"
    assert provider.api_key_secret == f"provider:{provider.pk}"
