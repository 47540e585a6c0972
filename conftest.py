"""Shared fixtures: users, workspaces with roles, and API clients acting as a member."""

import itertools

import pytest
from rest_framework.test import APIClient

from accounts.services import membership_add, user_create, workspace_create

pytest_plugins = ["runs.testing.fixtures"]

PASSWORD = "correct-Horse-battery-9"
_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def _background_work_finishes(request):
    """Before a test's database is emptied, runs on the in-process executor and callback senders it started
    finish: one still writing would deadlock with the flush's TRUNCATE, or write into the next test."""
    if request.node.get_closest_marker("django_db") or "_django_db_helper" in request.fixturenames:
        # Set the test database up first so that it is torn down (flushed) after this fixture's wait. A test
        # that gets its database through a fixture (`transactional_db`) would otherwise set it up later.
        request.getfixturevalue("_django_db_helper")
    yield
    from runs.dispatch import inline_wait_idle as runs_idle
    from runs.triggers.callbacks import inline_wait_idle as callbacks_idle

    assert runs_idle(60), "runs on the in-process executor were still going 60 s after the test"
    assert callbacks_idle(30), "callback senders were still going 30 s after the test"


@pytest.fixture(autouse=True)
def _own_channel_layer(request):
    """An async test gets a channel layer of its own. A channels_redis layer receives on one event loop at a
    time, and a test's loop can close with a receive's clean-up still pending, leaving the layer's receive lock
    held and bound to a dead loop: the live server's next receive, on its own loop, would then fail."""
    if request.node.get_closest_marker("asyncio") is None:
        yield
        return
    from channels.layers import channel_layers

    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


@pytest.fixture(autouse=True)
def _fresh_login_throttle():
    """Sign-in lockouts and reset counters start empty in every test (a per-process cache: settings_test)."""
    from django.conf import settings
    from django.core.cache import caches

    caches[settings.THROTTLE_CACHE].clear()


@pytest.fixture
def make_user(db):
    def make(email: str | None = None, password: str = PASSWORD):
        return user_create(email=email or f"user{next(_seq)}@example.com", password=password)

    return make


@pytest.fixture
def make_workspace(db, make_user):
    def make(name: str | None = None, owner=None):
        return workspace_create(name=name or f"Workspace {next(_seq)}", owner=owner or make_user())

    return make


@pytest.fixture
def member(make_user):
    """member(workspace, role) -> a new user with that role in the workspace."""

    def make(workspace, role: str):
        user = make_user()
        membership_add(workspace=workspace, user=user, role=role)
        return user

    return make


@pytest.fixture
def client_for():
    """client_for(user, workspace) -> an APIClient logged in as user, acting in workspace."""

    def make(user, workspace=None):
        client = APIClient()
        client.force_authenticate(user=user)
        if workspace is not None:
            client.credentials(HTTP_X_TRELLIS_WORKSPACE=workspace.slug)
        return client

    return make


@pytest.fixture
def workspace(make_workspace):
    return make_workspace(name="Acme")


@pytest.fixture
def owner(workspace):
    return workspace.memberships.get(role="owner").user


@pytest.fixture
def editor(workspace, member):
    return member(workspace, "editor")


@pytest.fixture
def viewer(workspace, member):
    return member(workspace, "viewer")
