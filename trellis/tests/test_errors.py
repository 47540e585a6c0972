import json

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


def boom(request):
    raise RuntimeError("kaboom")


@pytest.fixture
def boom_urls(settings):
    """The project's URLs plus two that crash, one under /api/ and one page."""
    from django.urls import path

    import trellis.urls

    module = type(trellis)("boom_urls")
    module.urlpatterns = [path("api/v1/boom", boom), path("boom", boom), *trellis.urls.urlpatterns]
    module.handler404 = "trellis.errors.handler404"
    module.handler500 = "trellis.errors.handler500"
    import sys

    sys.modules["boom_urls"] = module
    settings.ROOT_URLCONF = "boom_urls"
    yield
    del sys.modules["boom_urls"]


@pytest.mark.django_db
def test_a_crash_under_api_answers_the_json_error_shape_without_details(boom_urls, client, settings):
    settings.DEBUG = False
    client.raise_request_exception = False

    response = client.get("/api/v1/boom")

    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "server_error", "message": "Something went wrong on our side.", "details": []}
    }
    assert "kaboom" not in response.content.decode()


@pytest.mark.django_db
def test_a_crash_on_a_page_answers_a_plain_html_error_page(boom_urls, client, settings):
    settings.DEBUG = False
    client.raise_request_exception = False

    response = client.get("/boom", HTTP_ACCEPT="text/html")

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
    assert "kaboom" not in response.content.decode()


@pytest.mark.django_db
def test_a_wrong_method_on_an_api_view_answers_json_405(client, workspace, owner):
    client.force_login(owner)

    response = client.delete("/api/v1/me")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_a_wrong_method_on_a_plain_view_answers_json_405_with_allow(client):
    response = client.post("/healthz")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response["Allow"] == "GET, HEAD"


@pytest.mark.django_db
def test_a_missing_api_object_answers_json_404(client, owner):
    client.force_login(owner)

    response = client.get("/api/v1/secrets/00000000-0000-0000-0000-000000000000")

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found.", "details": []}}


@pytest.mark.django_db
def test_a_missing_static_file_answers_an_html_404_page(client):
    response = client.get("/static/nope.js", HTTP_ACCEPT="text/html")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@pytest.mark.django_db
def test_a_validation_error_lists_the_failing_fields(client, workspace, owner):
    client.force_login(owner)

    response = client.post("/api/v1/secrets", {"name": "K"}, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "The request is not valid.",
            "details": [{"field": "value", "message": "This field is required."}],
        }
    }


def test_the_app_page_sets_the_csrf_cookie_for_a_signed_in_user(client, make_user):
    # given a session made without the login page (so no csrftoken cookie yet)
    client.force_login(make_user())

    # when
    response = client.get("/workflows")

    # then
    assert response.status_code == 200
    assert "csrftoken" in response.cookies


@pytest.mark.django_db
def test_a_write_to_an_unknown_api_path_answers_json_404_even_without_a_csrf_token(client):
    client.cookies["sessionid"] = "not-a-session"

    response = client.delete("/api/v1/invitations/null,null")

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "No such API path.", "details": []}}


def test_a_failed_csrf_check_outside_drf_answers_the_json_error_shape_on_api_paths_and_html_on_pages(rf):
    from trellis.errors import csrf_failure

    api = csrf_failure(rf.post("/api/v1/anything"), reason="CSRF token missing.")
    page = csrf_failure(rf.post("/accounts/login/", HTTP_ACCEPT="text/html"), reason="CSRF token missing.")

    assert api.status_code == 403
    assert json.loads(api.content) == {
        "error": {"code": "permission_denied", "message": "CSRF check failed: CSRF token missing.", "details": []}
    }
    assert page.status_code == 403
    assert page["Content-Type"].startswith("text/html")
