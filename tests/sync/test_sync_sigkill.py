"""A worker process is SIGKILLed right after QBO committed its create and before it saved anything; the
restarted worker (same SQLite files) recovers the record from the in_flight entry: no duplicate, no loss."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from sync_testkit import Harness, SandboxTokens

from nexora_qbo.sync import constants as C

CO = "Nexora Staffing Inc"

WORKER = r"""
import sys, time
from datetime import datetime, timedelta, timezone
from nexora_qbo.qbo import QBOClient, RetryPolicy
from nexora_qbo.sync.engine import SyncEngine
from nexora_qbo.sync.runtime import FileRealmLock
from nexora_qbo.sync.sqlite_ledger import SqliteLedger
from nexora_qbo.sync.sqlite_store import SqliteStore

db, locks, base_url, realm, token, offset = sys.argv[1:7]

class SandboxAlignedClock:  # the sandbox clock may run ahead of real time (other tests advanced it)
	def now(self):
		return datetime.now(timezone.utc) + timedelta(seconds=float(offset))

class Tokens:
	def access_token(self):
		return token
	def refresh(self, stale=None):
		raise SystemExit("token refresh not expected")

def client_for(realm_id, on_exchange):
	def hook(ex):
		on_exchange(ex)
		if ex.operation == "create" and ex.entity in ("Payment", "Invoice"):
			print("committed", ex.entity, flush=True)
			time.sleep(60)  # the parent SIGKILLs us here
	return QBOClient(realm_id, base_url=base_url, tokens=Tokens(), on_exchange=hook,
		retry=RetryPolicy(max_attempts=1, sleep=lambda s: None))

store = SqliteStore(db)
engine = SyncEngine(store, SqliteLedger(store), client_for, FileRealmLock(locks), SandboxAlignedClock())
engine.push(realm)
"""


def _run_worker_until_commit(h, realm, tmp_path):
	tokens = h.tokens.setdefault(realm, SandboxTokens(h.sandbox, realm))
	offset = (h.clock.now() - datetime.now(timezone.utc)).total_seconds()
	env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
	proc = subprocess.Popen([sys.executable, "-c", WORKER, h.store.db.path, str(tmp_path / "locks"),
		h.sandbox.base_url, realm, tokens.access_token(), str(offset)], stdout=subprocess.PIPE, text=True, env=env)
	try:
		line = proc.stdout.readline().strip()
		os.kill(proc.pid, signal.SIGKILL)
		proc.wait(10)
	finally:
		if proc.poll() is None:
			proc.kill()
	return line


def test_sigkill_after_commit_then_restart_gives_exactly_one_record(sandbox, tmp_path):
	h = Harness(sandbox, tmp_path)
	realm = h.new_realm()
	led = h.ledger
	cust = led.create_customer(CO, "Killed Worker Co", email="ap@killed.example")
	item = led.create_item(CO, "Night Shift Hours", rate="52.00")
	inv = led.submit_invoice(CO, cust, [{"item": item, "qty": 10, "rate": "52.00"}], "2026-11-05")
	h.engine.push(realm)
	pay = led.record_payment(CO, cust, "520.00", [{"doc_type": "invoice", "doc_key": inv, "amount": "520.00"}],
		"2026-11-20", reference="CHK-7781")
	inv2 = led.submit_invoice(CO, cust, [{"item": item, "qty": 2, "rate": "52.00"}], "2026-11-21")
	assert _run_worker_until_commit(h, realm, tmp_path).startswith("committed")
	states = {e.local_id: e.state for e in h.store.list_outbox(realm)}
	assert C.IN_FLIGHT in states.values()  # the killed worker left its claim behind, committed
	# restart: the same files, a new engine; the realm lock was released by the kernel
	restarted = Harness(sandbox, tmp_path)
	restarted.tokens = h.tokens
	restarted.bookkeepers = h.bookkeepers
	restarted.engine.push(realm)
	bk = h.bk(realm)
	assert len(bk.query("select * from Payment").get("Payment", [])) == 1
	assert len(bk.query(f"select * from Invoice where DocNumber = '{inv2}'").get("Invoice", [])) == 1
	assert restarted.store.get_mapping(realm, C.PAYMENT, pay) is not None
	assert restarted.store.get_mapping(realm, C.INVOICE, inv2) is not None
	assert all(e.state == C.DONE for e in restarted.store.list_outbox(realm)), [(e.local_id, e.action, e.state, e.last_error) for e in restarted.store.list_outbox(realm)]
	h.close()
	restarted.close()
