"""Test harness for the engine: a real SandboxServer on 127.0.0.1, the real QBOClient (no HTTP mocking), the
SQLite store and ledger on disk, and the engine clock tied to the sandbox clock (so CDC windows, the 30-day
limit and report months line up without sleeping)."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from nexora_qbo.qbo import QBOClient, RetryPolicy
from nexora_qbo.sandbox.bookkeeper import Bookkeeper
from nexora_qbo.sync.engine import SyncEngine
from nexora_qbo.sync.ports import RealmSettings
from nexora_qbo.sync.runtime import FileRealmLock
from nexora_qbo.sync.sqlite_ledger import SqliteLedger
from nexora_qbo.sync.sqlite_store import SqliteStore


class SandboxTime:
	"""The engine's Clock port, reading the sandbox clock."""

	def __init__(self, sandbox):
		self.sandbox = sandbox

	def now(self) -> datetime:
		return self.sandbox.clock.now()


class SandboxTokens:
	"""Anything with access_token()/refresh(stale): tokens issued directly by the sandbox, re-issued on 401."""

	def __init__(self, sandbox, realm_id: str):
		self.sandbox = sandbox
		self.realm_id = realm_id
		self.client_id, _ = sandbox.register_app(redirect_uri="http://127.0.0.1/engine-tests")
		self.tokens = sandbox.issue_tokens(realm_id, self.client_id)

	def access_token(self) -> str:
		return self.tokens["access_token"]

	def refresh(self, stale=None):
		self.tokens = self.sandbox.issue_tokens(self.realm_id, self.client_id)
		return self.tokens


class Harness:
	"""One engine (store + ledger + lock) that can serve several realms, each bound to one company."""

	def __init__(self, sandbox, tmp_path: Path, db_name: str = "sync.db"):
		self.sandbox = sandbox
		self.tmp_path = Path(tmp_path)
		self.clock = SandboxTime(sandbox)
		self.store = SqliteStore(str(self.tmp_path / db_name))
		self.ledger = SqliteLedger(self.store, self.clock)
		self.lock = FileRealmLock(str(self.tmp_path / "locks"))
		self.sleeps: list[float] = []
		self.tokens: dict[str, SandboxTokens] = {}
		self.engine = SyncEngine(self.store, self.ledger, self.client_for, self.lock, self.clock, lock_timeout=10)
		self.seeds: dict[str, dict] = {}
		self.bookkeepers: dict[str, Bookkeeper] = {}

	def client_for(self, realm_id: str, on_exchange) -> QBOClient:
		tokens = self.tokens.setdefault(realm_id, SandboxTokens(self.sandbox, realm_id))
		retry = RetryPolicy(max_attempts=3, sleep=self.sleeps.append, jitter=0.0)
		return QBOClient(realm_id, base_url=self.sandbox.base_url, tokens=tokens, on_exchange=on_exchange,
			retry=retry, timeout=(5, 10), clock=self.clock.now)

	def new_realm(self, company: str = "Nexora Staffing Inc", *, multicurrency: bool = False, **settings) -> str:
		realm_id = self.sandbox.create_realm(multicurrency=True) if multicurrency else self.sandbox.create_realm()
		# tests drive the engine without a pacer; throttling is tested explicitly with fault injection
		self.sandbox.set_options(realm_id, per_second=100000, per_minute=1000000, batch_per_minute=100000)
		seed = self.sandbox.seed_info(realm_id)
		self.seeds[realm_id] = seed
		accounts = seed["accounts"]
		self.engine.connect(RealmSettings(
			realm_id=realm_id,
			company=company,
			default_income_account_id=accounts["Services"],
			default_expense_account_id=accounts["Cost of Goods Sold"],
			default_asset_account_id=accounts["Inventory Asset"],
			default_deposit_account_id=accounts["Undeposited Funds"],
			account_map={"Sales - NX": accounts["Services"], "Product Sales - NX": accounts["Sales of Product Income"]},
			terms_map={"Net 30": seed["terms"]["Net 30"], "Net 15": seed["terms"]["Net 15"]},
			**settings,
		))
		self.bookkeepers[realm_id] = Bookkeeper(self.sandbox, realm_id)
		return realm_id

	def renew_bookkeeper(self, realm_id: str) -> Bookkeeper:
		self.bookkeepers[realm_id] = Bookkeeper(self.sandbox, realm_id)
		return self.bookkeepers[realm_id]

	def bk(self, realm_id: str) -> Bookkeeper:
		return self.bookkeepers[realm_id]

	def qbo_id(self, realm_id: str, local_type: str, local_id: str) -> str:
		m = self.store.get_mapping(realm_id, local_type, local_id)
		assert m is not None, f"{local_type} {local_id} is not mapped in realm {realm_id}"
		return m.qbo_id

	def count(self, realm_id: str, statement: str) -> int:
		return len(self.bk(realm_id).query(statement).get(statement.split()[3], []))

	def close(self) -> None:
		self.store.close()
