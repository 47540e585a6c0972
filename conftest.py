"""Shared fixtures: users, workspaces with roles, and API clients acting as a member."""

import itertools

import pytest
from rest_framework.test import APIClient

from accounts.services import membership_add, user_create, workspace_create

pytest_plugins = ["runs.testing.fixtures"]

PASSWORD = "correct-Horse-battery-9"
_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def _background_work_finishes():
    """Before a test's database is emptied, runs on the in-process executor and callback senders it started
    finish: one still writing would deadlock with the flush's TRUNCATE (or write into the next test).
    Autouse fixtures of this file are set up after pytest-django's, so this teardown comes before the flush."""
    yield
    from runs.dispatch import inline_wait_idle as runs_idle
    from runs.triggers.callbacks import inline_wait_idle as callbacks_idle

    assert runs_idle(60), "runs on the in-process executor were still going 60 s after the test"
    assert callbacks_idle(30), "callback senders were still going 30 s after the test"


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
