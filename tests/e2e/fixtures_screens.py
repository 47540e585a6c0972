"""Fixtures for the e2e tests of the screens around the canvas (used via `pytest_plugins`)."""

import pytest

from tests.e2e.conftest import login
from tests.e2e.screens import Api


@pytest.fixture
def api(page):
    """Signs the demo owner in and returns an API client on the same session."""
    login(page)
    return Api(page)
