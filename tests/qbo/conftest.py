"""Fixtures for the QBO client tests; the helpers themselves live in qbo_testkit.py."""

from __future__ import annotations

import pytest
from qbo_testkit import ScriptedServer


@pytest.fixture
def serve():
	"""serve(handler) -> a running ScriptedServer on 127.0.0.1, stopped at teardown."""
	servers: list[ScriptedServer] = []

	def start(handler) -> ScriptedServer:
		server = ScriptedServer(handler)
		servers.append(server)
		return server

	yield start
	for server in servers:
		server.stop()
	for server in servers:
		assert not server.errors, f"scripted server handler failed: {server.errors[0]!r}"


@pytest.fixture
def qbo_fixtures(fixtures_dir):
	return fixtures_dir
