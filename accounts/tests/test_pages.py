"""The server-rendered account pages: sign in (with lockout), sign up (open or invite-only), sign out,
password reset by email link."""

import re

import pytest
from django.core import mail
from django.test import Client

from accounts.models import Membership, User
from conftest import PASSWORD

LOCKED = "Too many failed sign-in attempts. Try again in 15 minutes, or reset your password."


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
    statuses = [
        client.post("/accounts/login/", {"email": owner.email, "password": "nope"}).status_code
        for _ in range(settings.LOGIN_MAX_FAILURES)
    ]

    locked = client.post("/accounts/login/", {"email": owner.email, "password": PASSWORD})
    other_client = Client(REMOTE_ADDR="10.9.8.7").post("/accounts/login/", {"email": owner.email, "password": PASSWORD})

    # the tenth failure is the one that locks
    assert statuses == [400] * (settings.LOGIN_MAX_FAILURES - 1) + [429]
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


@pytest.mark.django_db
def test_twenty_wrong_passwords_on_the_admin_login_lock_it_even_for_the_right_one():
    # given a superuser
    staff = User.objects.create_superuser(email="root@example.com", password=PASSWORD)
    client = Client()

    # when someone tries 20 wrong passwords, then the right one
    statuses = [
        client.post("/admin/login/", {"username": staff.email, "password": f"guess-{i}", "next": "/admin/"}).status_code
        for i in range(20)
    ]
    right = client.post("/admin/login/", {"username": staff.email, "password": PASSWORD, "next": "/admin/"})

    # then the tenth failure locked the pair, and the right password is refused with a clear message
    assert statuses == [200] * 9 + [429] * 11  # the admin form answers its own errors with 200
    assert right.status_code == 429
    assert LOCKED in right.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still sent to the login page


@pytest.mark.django_db
def test_twenty_wrong_passwords_on_the_app_login_lock_it_even_for_the_right_one(owner):
    client = Client()

    statuses = [
        client.post("/accounts/login/", {"email": owner.email, "password": f"guess-{i}"}).status_code for i in range(20)
    ]
    right = client.post("/accounts/login/", {"email": owner.email, "password": PASSWORD})

    assert statuses == [400] * 9 + [429] * 11
    assert right.status_code == 429
    assert LOCKED in right.content.decode()
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.django_db
def test_failures_on_the_app_login_lock_the_admin_login_too():
    staff = User.objects.create_superuser(email="root@example.com", password=PASSWORD)
    client = Client()
    for i in range(10):
        client.post("/accounts/login/", {"email": staff.email.upper(), "password": f"guess-{i}"})

    admin = client.post("/admin/login/", {"username": staff.email, "password": PASSWORD, "next": "/admin/"})

    assert admin.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_password_reset_requests_are_capped_per_email(owner, settings):
    client = Client()

    statuses = [client.post("/accounts/password-reset/", {"email": owner.email}).status_code for _ in range(6)]
    other_email = Client(REMOTE_ADDR="10.0.0.9").post("/accounts/password-reset/", {"email": owner.email})

    assert settings.PASSWORD_RESET_PER_EMAIL == 5
    assert statuses == [302] * 5 + [429]
    assert other_email.status_code == 429  # the cap is per address, whichever client asks
    assert len(mail.outbox) == 5
    refused = client.post("/accounts/password-reset/", {"email": owner.email})
    assert "Too many password reset requests. Try again in" in refused.content.decode()
    assert 1 <= int(refused["Retry-After"]) <= 3600


@pytest.mark.django_db
def test_password_reset_requests_are_capped_per_client_ip(owner, settings):
    client = Client()

    statuses = [
        client.post("/accounts/password-reset/", {"email": f"probe{i}@example.com"}).status_code for i in range(20)
    ]
    refused = client.post("/accounts/password-reset/", {"email": owner.email})
    elsewhere = Client(REMOTE_ADDR="10.0.0.9").post("/accounts/password-reset/", {"email": owner.email})

    assert settings.PASSWORD_RESET_PER_IP == 20
    assert statuses == [302] * 20
    assert refused.status_code == 429
    assert elsewhere.status_code == 302
    assert [m.to for m in mail.outbox] == [[owner.email]]  # only the request from the other client was sent
