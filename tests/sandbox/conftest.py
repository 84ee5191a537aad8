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
	"""A seeded realm with relaxed rate limits (the QBO defaults are exercised in test_sandbox_limits.py)."""
	return server.create_realm(per_second=10_000, per_minute=100_000, batch_per_minute=10_000)


@pytest.fixture
def api(server, realm):
	return Api(server, realm)
