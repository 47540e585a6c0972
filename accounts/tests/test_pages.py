"""The server-rendered account pages: sign in (with lockout), sign up (open or invite-only), sign out,
password reset by email link."""

import re
import uuid

import pytest
from django.core import mail
from django.test import Client

from accounts.models import Membership, User
from conftest import PASSWORD


@pytest.fixture(autouse=True)
def _own_lockout_counters(settings):
    """Each test counts failures under its own key prefix in the real cache (never flush a shared Redis)."""
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}


@pytest.mark.django_db
def test_signing_in_with_email_and_password_opens_the_app(owner):
    client = Client()

    page = client.get("/accounts/login/")
    response = client.post("/accounts/login/", {"email": owner.email.upper(), "password": PASSWORD, "next": "/w/1"})

    assert page.status_code == 200
    assert 'name="email"' in page.content.decode()
    assert response.status_code == 302
    assert response["Location"] == "/w/1"
    assert client.get("/api/v1/me").json()["email"] == owner.email


@pytest.mark.django_db
def test_a_foreign_next_url_is_ignored(owner):
    response = Client().post(
        "/accounts/login/", {"email": owner.email, "password": PASSWORD, "next": "https://evil.example/"}
    )

    assert response["Location"] == "/"


@pytest.mark.django_db
def test_a_wrong_password_says_so(owner):
    response = Client().post("/accounts/login/", {"email": owner.email, "password": "nope"})

    assert response.status_code == 400
    assert "do not match an account" in response.content.decode()


@pytest.mark.django_db
def test_ten_failures_lock_the_email_out_for_this_client_even_with_the_right_password(owner, settings):
    client = Client()
    for _ in range(settings.LOGIN_MAX_FAILURES):
        assert client.post("/accounts/login/", {"email": owner.email, "password": "nope"}).status_code == 400

    locked = client.post("/accounts/login/", {"email": owner.email, "password": PASSWORD})
    other_client = Client(REMOTE_ADDR="10.9.8.7").post("/accounts/login/", {"email": owner.email, "password": PASSWORD})

    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert other_client.status_code == 302


@pytest.mark.django_db
def test_open_signup_creates_an_account_with_its_own_workspace(db):
    client = Client()

    response = client.post(
        "/accounts/signup/", {"name": "Ada", "email": "Ada@Example.com", "password": "a-Long-enough-pass-42"}
    )

    user = User.objects.get()
    assert response.status_code == 302
    assert user.email == "ada@example.com"
    assert Membership.objects.get(user=user).role == "owner"
    assert Membership.objects.get(user=user).workspace.name == "Ada's workspace"


@pytest.mark.django_db
def test_signup_refuses_weak_passwords_and_taken_emails(owner):
    weak = Client().post("/accounts/signup/", {"email": "x@example.com", "password": "password"})
    taken = Client().post("/accounts/signup/", {"email": owner.email, "password": "a-Long-enough-pass-42"})

    assert weak.status_code == 400
    assert "too common" in weak.content.decode()
    assert taken.status_code == 400
    assert "already exists" in taken.content.decode()
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_invite_only_mode_closes_signup(settings):
    settings.SIGNUP_MODE = "invite"

    page = Client().get("/accounts/signup/")
    post = Client().post("/accounts/signup/", {"email": "x@example.com", "password": "a-Long-enough-pass-42"})
    login = Client().get("/accounts/login/")

    assert (page.status_code, post.status_code) == (403, 403)
    assert "by invitation" in page.content.decode()
    assert not User.objects.exists()
    assert "Create an account" not in login.content.decode()


@pytest.mark.django_db
def test_signing_out_needs_a_post(owner):
    client = Client()
    client.force_login(owner)

    confirm = client.get("/accounts/logout/")
    still_in = client.get("/api/v1/me").status_code
    response = client.post("/accounts/logout/")

    assert confirm.status_code == 200
    assert still_in == 200
    assert response["Location"] == "/accounts/login/"
    assert client.get("/api/v1/me").status_code in (401, 403)


@pytest.mark.django_db
def test_the_app_shell_sends_strangers_to_sign_in(db):
    response = Client().get("/workflows")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/workflows"


@pytest.mark.django_db
def test_password_reset_by_email_link(owner):
    client = Client()

    sent = client.post("/accounts/password-reset/", {"email": owner.email})
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "brand-New-pass-77", "new_password2": "brand-New-pass-77"}
    )

    assert sent.status_code == 302
    assert mail.outbox[0].subject == "Reset your Trellis password"
    assert form.status_code == 200
    assert done.status_code == 302
    assert done["Location"] == "/accounts/reset/done/"
    assert User.objects.get(pk=owner.pk).check_password("brand-New-pass-77")
    assert Client().post("/accounts/login/", {"email": owner.email, "password": "brand-New-pass-77"}).status_code == 302


@pytest.mark.django_db
def test_password_reset_for_an_unknown_email_reveals_nothing(db):
    response = Client().post("/accounts/password-reset/", {"email": "nobody@example.com"})

    assert response.status_code == 302
    assert mail.outbox == []


@pytest.mark.django_db
def test_one_client_trying_many_addresses_is_locked_out_too(owner, settings):
    settings.LOGIN_MAX_FAILURES = 2
    client = Client()
    for i in range(10):  # 5 × the per-address limit, spread over addresses
        client.post("/accounts/login/", {"email": f"guess{i}@example.com", "password": "nope"})

    response = client.post("/accounts/login/", {"email": owner.email, "password": PASSWORD})

    assert response.status_code == 429
