"""Engine tests run against one SandboxServer per session (a fresh realm per test) over real HTTP."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sync_testkit import Harness

from nexora_qbo.sandbox.server import SandboxServer


@pytest.fixture(scope="session")
def sandbox():
	server = SandboxServer(seed=11)
	yield server
	server.stop()


@pytest.fixture
def harness(sandbox, tmp_path):
	h = Harness(sandbox, tmp_path)
	yield h
	h.close()


@pytest.fixture
def realm(harness):
	return harness.new_realm()
