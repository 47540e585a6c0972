"""Pytest fixtures for the local model server (enabled for the whole suite via the root conftest)."""

from __future__ import annotations

import pytest

from runs.testing.model_server import ModelServer


@pytest.fixture(scope="session")
def _model_server_process():
    server = ModelServer().start()
    yield server
    server.stop()


@pytest.fixture
def model_server(_model_server_process) -> ModelServer:
    """The running local model server (base_url, requests log, stats), with its log cleared for this test."""
    _model_server_process.reset()
    return _model_server_process


@pytest.fixture
def model_server_url(model_server) -> str:
    """Base URL of the local OpenAI-compatible model server, e.g. http://127.0.0.1:PORT/v1."""
    return model_server.base_url


@pytest.fixture(scope="session")
def _echo_server_process():
    from runs.testing.echo_server import EchoServer

    server = EchoServer()
    yield server
    server.stop()


@pytest.fixture
def echo_server(_echo_server_process):
    """A local HTTP server that records requests (see runs/testing/echo_server.py). Loopback is blocked by
    the SSRF guard, so tests that call it through trellis.net allowlist 127.0.0.1 (`allow_loopback`)."""
    _echo_server_process.reset()
    return _echo_server_process


@pytest.fixture
def allow_loopback(settings):
    settings.HTTP_ALLOWLIST = ["127.0.0.1/32"]
    return settings


@pytest.fixture(scope="session")
def mcp_test_server():
    """A real MCP server (the SDK's FastMCP) on loopback: see runs/testing/mcp_server.py. Loopback is refused by
    the SSRF guard, so tests that call it also use `allow_loopback`."""
    from runs.testing.mcp_server import McpTestServer

    server = McpTestServer()
    yield server
    server.stop()
