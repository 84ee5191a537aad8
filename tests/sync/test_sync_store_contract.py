"""The SQLite reference store passes the shared Store contract (tests/contracts/store_contract.py)."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contracts"))

from store_contract import StoreContract

from nexora_qbo.sync.sqlite_store import SqliteStore


class TestSqliteStoreContract(StoreContract):
	def make_store(self):
		directory = tempfile.mkdtemp(prefix="nexora-store-")
		return SqliteStore(str(Path(directory) / "sync.db"))
