"""The engine worker of the crash test, run as its own process so the parent can SIGKILL it anywhere.

	python crash_worker.py '<json config>'

Config: db (the SQLite store/ledger file the parent also uses), locks (FileRealmLock directory), base_url (the
parent's sandbox), realms, tokens ({realm: access token}, issued and registered by the parent), passes (sync
rounds over every realm), pause_at (exchange number after which the worker sleeps so the parent can kill it
at exactly that point: QBO has answered and the audit row is written, the engine has not saved anything).

It prints "x <n>" after every HTTP exchange (after the engine's audit hook ran), then "done". The sandbox clock
is frozen by the parent while a worker runs, so the worker reads it once and keeps it.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime

import requests

from nexora_qbo.qbo import QBOClient, RetryPolicy
from nexora_qbo.sync.engine import SyncEngine
from nexora_qbo.sync.runtime import FileRealmLock
from nexora_qbo.sync.sqlite_ledger import SqliteLedger
from nexora_qbo.sync.sqlite_store import SqliteStore


class FrozenClock:
	def __init__(self, now: datetime):
		self._now = now

	def now(self) -> datetime:
		return self._now


class FixedTokens:
	def __init__(self, token: str):
		self.token = token

	def access_token(self) -> str:
		return self.token

	def refresh(self, stale=None):
		raise SystemExit("crash_worker: token refresh not expected (the parent issues fresh tokens per run)")


def main(cfg: dict) -> int:
	now = datetime.fromisoformat(requests.get(cfg["base_url"] + "/_sandbox/clock", timeout=10).json()["now"])
	clock = FrozenClock(now)
	count = [0]
	pause_at = int(cfg.get("pause_at") or 0)

	def client_for(realm_id, on_exchange):
		def hook(ex):
			on_exchange(ex)
			count[0] += 1
			print(f"x {count[0]}", flush=True)
			if count[0] == pause_at:
				time.sleep(120)  # the parent kills us here

		return QBOClient(
			realm_id,
			base_url=cfg["base_url"],
			tokens=FixedTokens(cfg["tokens"][realm_id]),
			on_exchange=hook,
			retry=RetryPolicy(max_attempts=3, sleep=lambda s: None, jitter=0.0),
			timeout=(5, 20),
			clock=clock.now,
		)

	store = SqliteStore(cfg["db"])
	engine = SyncEngine(
		store, SqliteLedger(store, clock), client_for, FileRealmLock(cfg["locks"]), clock, lock_timeout=30
	)
	for _ in range(int(cfg.get("passes", 1))):
		for realm_id in cfg["realms"]:
			engine.sync(realm_id)
	store.close()
	print("done", flush=True)
	return 0


if __name__ == "__main__":
	sys.exit(main(json.loads(sys.argv[1])))
