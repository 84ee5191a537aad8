"""Bench figures (issue 9): the Frappe store and ledger on MariaDB, on the engineer's own site.

Not run by scripts/bench.sh (it needs a Frappe site); run inside the bench, where the worktree is on sys.path
through the app's .pth, e.g.

	/opt/bench-run.sh <worktree> --site i9b.localhost execute nexora_qbo.erpnext.bench_entry.run --kwargs "{'fn': 'push', 'n': 1000}"
	/opt/bench-run.sh <worktree> --site i9b.localhost execute nexora_qbo.erpnext.bench_entry.run --kwargs "{'fn': 'submit_overhead', 'n': 100}"
	/opt/bench-run.sh <worktree> --site i9b.localhost execute nexora_qbo.erpnext.bench_entry.run --kwargs "{'fn': 'report', 'rows': 1000000}"

Each prints a Markdown table (copied into BENCHMARKS.md by hand: the bench is not the reference machine's
.venv). Everything a function creates lives in its own company/realm ("Bench Staffing Inc", realm ids 9139...),
and is committed (bench execute commits), so re-runs reuse the company and add new invoices.

- push(n): n Sales Invoices (2 lines) inserted and submitted in ERPNext (the app's on_submit hook writes their
  outbox rows), then ONE run of the RQ job's own entry point, nexora_qbo.erpnext.jobs.run(realm_id, "push",
  durable_checkpoints=True), called directly (what the worker executes, without the queue), against the
  sandbox on 127.0.0.1 in this process (rate limits off; the Redis pacer still paces at 8/s, 38 batch/min).
  Time split: HTTP = the sum of the audit rows' duration_ms (request sent -> answer read; the in-process
  sandbox's own work is inside it); Frappe store+ledger = time inside FrappeStore/FrappeLedger methods
  (outermost calls only; it includes the autonomous audit inserts and the checkpoint commits' SQL);
  pacer = time inside RedisPacer.acquire; engine = the rest of the wall time.
- submit_overhead(n): 2n Sales Invoices submitted alternately with the app's doc events on and off
  (frappe.local.doc_events_hooks without the nexora_qbo handlers), insert+submit timed separately.
- report(rows): `rows` QBO Sync Log rows in one month for one realm (bulk INSERT, ~2 % errors), then the
  QBO Sync Reconciliation report's execute() for that month, timed (3 runs), with EXPLAIN of its grouped query.
"""

from __future__ import annotations

import secrets
import statistics
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import frappe
from frappe.utils import add_days, getdate, nowdate

COMPANY = "Bench Staffing Inc"
ABBR = "BSI"


def _shown(fn):
	"""bench execute hides a function's own exception behind a NameError (it retries with eval): print it."""
	import functools
	import traceback

	@functools.wraps(fn)
	def run(*a, **k):
		try:
			return fn(*a, **k)
		except Exception:
			traceback.print_exc()
			raise SystemExit(1) from None

	return run


def _load() -> str:
	import os

	return "load average " + " / ".join(f"{x:.2f}" for x in os.getloadavg())


def _table(headers, rows) -> str:
	out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
	out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
	return "\n".join(out)


def _company() -> None:
	from nexora_qbo.erpnext.tests.utils import ensure_company

	ensure_company(COMPANY, ABBR)
	frappe.db.commit()


def _masters(n_customers: int = 20, n_items: int = 4) -> tuple[list[str], list[str]]:
	customers, items = [], []
	for i in range(n_customers):
		name = f"Bench Customer {i:03d}"
		if not frappe.db.exists("Customer", name):
			frappe.get_doc({"doctype": "Customer", "customer_name": name, "customer_group": "All Customer Groups",
				"territory": "All Territories", "email_id": f"c{i}@bench.example"}).insert(ignore_permissions=True)
		customers.append(name)
	for i in range(n_items):
		name = f"Bench Hours {i}"
		if not frappe.db.exists("Item", name):
			frappe.get_doc({"doctype": "Item", "item_code": name, "item_name": name, "item_group": "All Item Groups",
				"stock_uom": "Nos", "is_stock_item": 0, "standard_rate": 40 + i}).insert(ignore_permissions=True)
		items.append(name)
	frappe.db.commit()
	return customers, items


def _invoice(customers, items, i: int):
	si = frappe.get_doc({
		"doctype": "Sales Invoice", "company": COMPANY, "customer": customers[i % len(customers)],
		"posting_date": getdate(nowdate()), "due_date": add_days(nowdate(), 30), "currency": "USD",
		"debit_to": f"Debtors - {ABBR}",
		"items": [
			{"item_code": items[i % len(items)], "qty": 8 + i % 5, "rate": 40 + i % 4,
				"income_account": f"Sales - {ABBR}", "cost_center": f"Main - {ABBR}"},
			{"item_code": items[(i + 1) % len(items)], "qty": 2, "rate": 41,
				"income_account": f"Sales - {ABBR}", "cost_center": f"Main - {ABBR}"},
		],
	})
	return si


def _connect(sb):
	"""A realm of the in-process sandbox bound to the bench company (a fresh realm per run)."""
	from nexora_qbo.erpnext import constants as K
	from nexora_qbo.erpnext.tests.utils import make_realm
	from nexora_qbo.erpnext.token_store import RealmTokenStore
	from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import callback_url
	from nexora_qbo.qbo.oauth import OAuthTokens

	for old in frappe.get_all(K.REALM, filters={"company": COMPANY}, pluck="name"):
		# the previous run's sandbox is gone with its process: drop its realm and what hangs on it (raw deletes:
		# the bookkeeping DocTypes refuse edits outside the engine, by design)
		for doctype in (K.OUTBOX, K.ENTITY_MAP, K.CONFLICT, K.SYNC_EVENT, K.CURSOR):
			frappe.db.delete(doctype, {"realm": old})
		frappe.db.delete(K.REALM, {"name": old})
	realm_id = "9139" + "".join(secrets.choice("0123456789") for _ in range(11))
	sb.create_realm(company_name="Bench Staffing (QBO sandbox)", realm_id=realm_id)
	sb.set_options(realm_id, per_second=0, per_minute=0, batch_per_minute=0)
	client_id, secret = sb.register_app(redirect_uri=callback_url())
	realm = make_realm(COMPANY, realm_id, base_url=sb.base_url, client_id=client_id, client_secret=secret)
	issued = sb.issue_tokens(realm_id, client_id)
	now = datetime.now(timezone.utc)
	RealmTokenStore(realm=realm).save(realm_id, OAuthTokens(
		access_token=issued["access_token"], refresh_token=issued["refresh_token"],
		expires_at=now + timedelta(seconds=int(issued.get("expires_in") or 3600)),
		refresh_expires_at=now + timedelta(days=100), realm_id=realm_id))
	frappe.db.commit()
	return realm, realm_id


class _Timer:
	"""Wall time inside the methods of some classes, outermost calls only (a store call inside a ledger call
	counts once)."""

	def __init__(self):
		self.seconds = 0.0
		self.depth = 0
		self.calls = 0
		self._undo = []

	def wrap(self, cls, skip=("__init__",)):
		for name, fn in list(vars(cls).items()):
			if name in skip or name.startswith("__") or not callable(fn) or isinstance(fn, (staticmethod, classmethod)):
				continue
			if name in ("transaction",):  # a context manager: its body is the caller's work
				continue

			def timed(*a, __fn=fn, **k):
				if self.depth:
					return __fn(*a, **k)
				self.depth += 1
				t0 = time.perf_counter()
				try:
					return __fn(*a, **k)
				finally:
					self.seconds += time.perf_counter() - t0
					self.calls += 1
					self.depth -= 1

			setattr(cls, name, timed)
			self._undo.append((cls, name, fn))

	def restore(self):
		for cls, name, fn in reversed(self._undo):
			setattr(cls, name, fn)


@_shown
def push(n: int = 1000, profile: bool = False) -> None:
	from nexora_qbo.erpnext import jobs
	from nexora_qbo.erpnext.ledger import FrappeLedger
	from nexora_qbo.erpnext.pacer import RedisPacer
	from nexora_qbo.erpnext.store import FrappeStore
	from nexora_qbo.sandbox.server import SandboxServer
	from nexora_qbo.sync import constants as C

	frappe.set_user("Administrator")
	load0 = _load()
	_company()
	customers, items = _masters()
	sb = SandboxServer(seed=3)
	try:
		realm, realm_id = _connect(sb)
		engine = jobs.build_engine()
		from nexora_qbo.erpnext.events import inbound

		with inbound():  # only the realm's default QBO accounts, from the chart (items need an income account);
			engine.initial_import(realm_id, ())  # no masters: the sandbox's seeded customers would stay in ERPNext
		for c in customers:
			engine.export_master(realm_id, C.CUSTOMER, c)
		for it in items:
			engine.export_master(realm_id, C.ITEM, it)
		jobs.run(realm_id, "push", durable_checkpoints=True)
		frappe.db.commit()
		t0 = time.perf_counter()
		for i in range(n):
			si = _invoice(customers, items, i)
			si.insert(ignore_permissions=True)
			si.submit()
			if i % 50 == 49:
				frappe.db.commit()
		frappe.db.commit()
		submit_s = time.perf_counter() - t0
		since = datetime.now(timezone.utc) - timedelta(seconds=1)
		frappe_t, pacer_t = _Timer(), _Timer()
		queries = [0]
		real_sql = frappe.db.sql

		shapes: dict[str, int] = {}

		def counted_sql(*a, **k):  # SQL statements sent during the push: a load-independent measure
			queries[0] += 1
			if profile:  # which statements, by their first words (what a further cut would aim at)
				shape = " ".join(str(a[0] if a else k.get("query", "")).split())[:90]
				shapes[shape] = shapes.get(shape, 0) + 1
			return real_sql(*a, **k)

		frappe.db.sql = counted_sql
		frappe_t.wrap(FrappeStore)
		frappe_t.wrap(FrappeLedger)
		pacer_t.wrap(RedisPacer)
		try:
			import cProfile
			import pstats

			prof = cProfile.Profile() if profile else None
			t0 = time.perf_counter()
			if prof:
				prof.enable()
			result = jobs.run(realm_id, "push", durable_checkpoints=True)
			wall = time.perf_counter() - t0
			if prof:
				prof.disable()
				st = pstats.Stats(prof).sort_stats("cumulative")
				st.print_stats("nexora_qbo/erpnext|frappe/database|sync/push|sync/batch", 40)
				st.print_callers("database.py.*\\((get_value|get_values|sql|exists)\\)")
				for shape, count in sorted(shapes.items(), key=lambda kv: -kv[1])[:40]:
					print(f"{count / n:6.2f}/invoice  {shape}")
		finally:
			frappe.db.sql = real_sql
			frappe_t.restore()
			pacer_t.restore()
		frappe.db.commit()
		rows = FrappeStore().list_audit(realm_id, since=since)
		http = sum((r.duration_ms or 0) for r in rows) / 1000
		done = (result or {}).get("push", result)
		ops = {}
		for r in rows:
			ops[r.operation] = ops.get(r.operation, 0) + 1
		engine_s = wall - http - frappe_t.seconds - pacer_t.seconds
		table = _table(
			["invoices", "result", "requests", "wall s", "invoices/min", "HTTP s", "Frappe store+ledger s",
				"pacer wait s", "engine s", "Frappe ms/invoice", "engine ms/invoice", "SQL statements/invoice"],
			[[n, done, ", ".join(f"{k} {v}" for k, v in sorted(ops.items())), f"{wall:.1f}", f"{60 * n / wall:.0f}",
				f"{http:.1f}", f"{frappe_t.seconds:.1f} ({frappe_t.calls} calls)", f"{pacer_t.seconds:.1f}",
				f"{engine_s:.1f}", f"{1000 * frappe_t.seconds / n:.1f}", f"{1000 * engine_s / n:.1f}", f"{queries[0] / n:.1f}"]])
		print(f"{load0} before, {_load()} after; {n} invoices inserted+submitted in {submit_s:.0f} s")
		print(table)
	finally:
		sb.stop()


@contextmanager
def _hooks(on: bool):
	frappe.local.doc_events_hooks = None
	hooks = frappe.get_doc_hooks()
	if not on:
		frappe.local.doc_events_hooks = {
			dt: {ev: [m for m in ms if not m.startswith("nexora_qbo.")] for ev, ms in evs.items()}
			for dt, evs in hooks.items()
		}
	try:
		yield
	finally:
		frappe.local.doc_events_hooks = None


@_shown
def submit_overhead(n: int = 100, runs: int = 3) -> None:
	"""`runs` rounds of n submits with the hooks on and n with them off, interleaved on/off/off/on (ABBA, so
	neither side always goes first after a commit) and committed after each submit like a desk submit; 10
	warm-up submits first. Reported per round and over all rounds: mean and median of on and off, and the
	added time (on − off) in ms and %."""
	from nexora_qbo.erpnext import constants as K

	frappe.set_user("Administrator")
	load0 = _load()
	_company()
	customers, items = _masters()
	sb_needed = not frappe.get_all(K.REALM, filters={"company": COMPANY, "connection_status": K.CONNECTED})
	if sb_needed:
		from nexora_qbo.sandbox.server import SandboxServer

		sb = SandboxServer(seed=3)
		_connect(sb)
		sb.stop()  # the realm only needs to exist and be connected: a submit never talks to QBO
	for warm in range(10):  # warm caches (not measured)
		si = _invoice(customers, items, warm)
		si.insert(ignore_permissions=True)
		si.submit()
	frappe.db.commit()
	rounds = []
	for r in range(runs):
		times = {True: [], False: []}
		for i in range(2 * n):
			on = (i % 4) in (0, 3)
			si = _invoice(customers, items, i)
			with _hooks(on):
				si.insert(ignore_permissions=True)
				t0 = time.perf_counter()
				si.submit()
				times[on].append(time.perf_counter() - t0)
			frappe.db.commit()
		rounds.append(times)
	every = {True: [t for x in rounds for t in x[True]], False: [t for x in rounds for t in x[False]]}

	def row(label, times):
		on, off = statistics.median(times[True]), statistics.median(times[False])
		mon, moff = statistics.mean(times[True]), statistics.mean(times[False])
		return [label, len(times[True]), f"{1000 * mon:.1f}", f"{1000 * moff:.1f}",
			f"{1000 * (mon - moff):+.1f} ms ({100 * (mon - moff) / moff:+.1f} %)", f"{1000 * on:.1f}", f"{1000 * off:.1f}",
			f"{1000 * (on - off):+.1f} ms ({100 * (on - off) / off:+.1f} %)"]

	print(f"{load0} before, {_load()} after")
	print(_table(["round", "submits each", "hooks on: mean ms", "hooks off: mean ms", "added (mean)",
		"hooks on: median ms", "hooks off: median ms", "added (median)"],
		[row(str(k + 1), t) for k, t in enumerate(rounds)] + [row("all", every)]))


@_shown
def report(rows: int = 1_000_000, runs: int = 3) -> None:
	from nexora_qbo.erpnext import constants as K
	from nexora_qbo.nexora_qbo.report.qbo_sync_reconciliation import qbo_sync_reconciliation as rep

	frappe.set_user("Administrator")
	load0 = _load()
	_company()
	realm = frappe.db.get_value(K.REALM, {"company": COMPANY}, "name")
	if not realm:
		from nexora_qbo.sandbox.server import SandboxServer

		sb = SandboxServer(seed=3)
		realm, _ = _connect(sb)
		sb.stop()
	realm_id = frappe.db.get_value(K.REALM, realm, "realm_id")
	have = frappe.db.sql(f"select count(*) from `tab{K.SYNC_LOG}` where realm=%s", realm)[0][0]
	t0 = time.perf_counter()
	if have < rows:
		start = datetime(2026, 11, 1)
		step = (29 * 86400) / rows
		cols = ["name", "creation", "modified", "owner", "modified_by", "docstatus", "idx", "timestamp", "realm",
			"qbo_realm_id", "direction", "entity", "operation", "outcome", "error_code", "local_type", "reference_name",
			"http_status", "request_id", "request_payload", "response_payload", "attempt", "duration_ms"]
		body = '{"Invoice":{"Id":"1234","SyncToken":"0","DocNumber":"SINV-00001","TotalAmt":1234.50}}'
		codes = [("ValidationError", "6000"), ("StaleObjectError", "5010"), ("ThrottleError", None), ("ObjectNotFoundError", "610")]
		chunk = []
		for i in range(have, rows):
			outcome, code = codes[i % 4] if i % 50 == 0 else ("ok", None)
			at = start + timedelta(seconds=step * i)
			chunk.append((f"bench{i:010d}", at, at, "Administrator", "Administrator", 0, 0, at, realm, realm_id, "Outbound",
				"Invoice", "create", outcome, code, "invoice", f"SINV-{i:07d}", 200 if outcome == "ok" else 400,
				f"nx{i:030d}", body, body, 1, 12.5))
			if len(chunk) == 5000:
				_insert(K.SYNC_LOG, cols, chunk)
				chunk = []
				frappe.db.commit()
		if chunk:
			_insert(K.SYNC_LOG, cols, chunk)
		frappe.db.commit()
	fill_s = time.perf_counter() - t0
	filters = {"realm": realm, "month": "2026-11"}
	times = []
	for _ in range(runs):
		t0 = time.perf_counter()
		out = rep.execute(filters)
		times.append(time.perf_counter() - t0)
	summary = {d.get("label"): d.get("value") for d in (out[4] or []) if isinstance(d, dict)}
	explain = frappe.db.sql(
		f"explain select outcome, error_code, count(name) from `tab{K.SYNC_LOG}` where realm=%s and "
		"`timestamp` >= %s and `timestamp` < %s and (qbo_realm_id=%s or qbo_realm_id is null) group by outcome, error_code",
		(realm, "2026-11-01", "2026-12-01", realm_id), as_dict=True)
	print(f"{load0} before, {_load()} after; fill {fill_s:.0f} s")
	print(_table(["audit rows in the month", "report runs", "seconds (each)", "best s", "summary"],
		[[f"{rows:,}", runs, ", ".join(f"{t:.2f}" for t in times), f"{min(times):.2f}", summary]]))
	print("EXPLAIN:", [{k: e.get(k) for k in ("type", "key", "rows", "Extra")} for e in explain])


def _insert(doctype: str, cols: list[str], chunk: list[tuple]) -> None:
	marks = "(" + ", ".join(["%s"] * len(cols)) + ")"
	frappe.db.sql(
		f"insert into `tab{doctype}` ({', '.join(f'`{c}`' for c in cols)}) values " + ", ".join([marks] * len(chunk)),
		[v for row in chunk for v in row],
	)


@_shown
def cleanup() -> None:
	"""Remove the sandbox's seeded masters an earlier version of push() imported into the site (customers and
	items are global in ERPNext: they would make the app's own end-to-end test link instead of import)."""
	for doctype, names in (("Customer", ("Acme Logistics", "Bluebonnet Health", "Lone Star Manufacturing")),
			("Item", ("Staffing Hours", "Overtime Hours", "Per Diem", "Safety Vest", "Hard Hat"))):
		for name in names:
			if frappe.db.exists(doctype, name):
				frappe.db.delete("QBO Entity Map", {"reference_doctype": doctype, "reference_name": name})
				frappe.delete_doc(doctype, name, force=True, ignore_permissions=True)
				print("deleted", doctype, name)
	frappe.db.commit()


@_shown
def figures(n: int = 300, submits: int = 50, runs: int = 3, profile: bool = False) -> None:
	"""push(n) then submit_overhead(submits, runs) in ONE bench call (the bench lock is shared: one wait)."""
	push.__wrapped__(n=n, profile=profile)
	frappe.db.commit()
	submit_overhead.__wrapped__(n=submits, runs=runs)
