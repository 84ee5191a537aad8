"""Fixtures for the sandbox suite: one SandboxServer per module, a fresh seeded realm per test."""
from __future__ import annotations

import pytest

from nexora_qbo.sandbox.server import SandboxServer
from sandbox_testkit import Api


@pytest.fixture(scope="module")
def server():
	with SandboxServer(seed=42) as sb:
		yield sb


@pytest.fixture
def realm(server):
	return server.create_realm()


@pytest.fixture
def api(server, realm):
	return Api(server, realm)
