"""Shared pytest fixtures for the frappe-free suite."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES_DIR = Path(os.environ.get("NEXORA_QBO_FIXTURES", REPO_ROOT.parent / "shared" / "qbo-fixtures"))


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
	"""The recorded QBO responses in ../shared/qbo-fixtures (a missing folder is an error, not a skip)."""
	if not FIXTURES_DIR.is_dir():
		raise RuntimeError(f"QBO fixtures not found at {FIXTURES_DIR}; set NEXORA_QBO_FIXTURES")
	return FIXTURES_DIR
