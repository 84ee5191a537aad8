"""`nexora-qbo demo`: a month of staffing billing synced both ways, on a fresh machine, in a few seconds.

It starts the local QBO sandbox with two companies (realms), runs the sync engine on the SQLite reference
ledger and walks through November: first connection (import of the QBO company, export of local records
with matching), weekly invoices, a bookkeeper editing a customer and an invoice in QBO between syncs, a
partial payment over two invoices and a credit memo recorded in QBO, a throttled minute, a local cancel,
then each company's month in plain words and the month-end tie-out of both books. Time runs on the sandbox
clock (no real waiting). It prints a story a bookkeeper can read; the engine's counters stay out of it
(`words.py` says them, `tie_out.py` ends the month).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from nexora_qbo.demo import words
from nexora_qbo.demo.tie_out import print_tie_out
from nexora_qbo.qbo import QBOClient, RetryPolicy
from nexora_qbo.sync import constants as C
from nexora_qbo.sync.engine import SyncEngine
from nexora_qbo.sync.ports import RealmSettings
from nexora_qbo.sync.runtime import FileRealmLock
from nexora_qbo.sync.sqlite_ledger import SqliteLedger
from nexora_qbo.sync.sqlite_store import SqliteStore

US = "Nexora Staffing Inc"
TX = "Nexora Staffing Texas LLC"
MONTH_END = date(2026, 11, 30)


class _SandboxClock:
	def __init__(self, sandbox):
		self.sandbox = sandbox

	def now(self) -> datetime:
		return self.sandbox.clock.now()


class _SandboxTokens:
	"""Tokens issued by the sandbox to the demo's app (the Frappe layer uses the real OAuth TokenManager)."""

	def __init__(self, sandbox, realm_id: str, client_id: str):
		self.sandbox, self.realm_id, self.client_id = sandbox, realm_id, client_id
		self.tokens = sandbox.issue_tokens(realm_id, client_id)

	def access_token(self) -> str:
		return self.tokens["access_token"]

	def refresh(self, stale=None):
		self.tokens = self.sandbox.issue_tokens(self.realm_id, self.client_id)
		return self.tokens


def _say(quiet: bool, text: str) -> None:
	if not quiet:
		print(text)
		sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
	parser = argparse.ArgumentParser(prog="nexora-qbo demo", description=__doc__.splitlines()[0])
	parser.add_argument("--dir", help="where to keep the SQLite files (default: a temporary directory)")
	parser.add_argument("--seed", type=int, default=7)
	parser.add_argument("--quiet", action="store_true", help="print only the month's summaries and tie-out")
	parser.add_argument("--week", action="store_true",
		help="bill one week from timesheets instead (two clients, one with two job sites; automated sales tax)")
	args = parser.parse_args(argv)

	from nexora_qbo.sandbox.bookkeeper import Bookkeeper
	from nexora_qbo.sandbox.clock import SandboxClock
	from nexora_qbo.sandbox.server import SandboxServer

	workdir = Path(args.dir or tempfile.mkdtemp(prefix="nexora-demo-"))
	workdir.mkdir(parents=True, exist_ok=True)
	sandbox = SandboxServer(seed=args.seed)
	sandbox.state.clock = SandboxClock(start=datetime(2026, 11, 2, 15, 0, tzinfo=timezone.utc))
	try:
		if args.week:
			return _run_week(sandbox, workdir, args.quiet)
		return _run(sandbox, Bookkeeper, workdir, args.quiet)
	finally:
		sandbox.stop()


def _run(sandbox, Bookkeeper, workdir: Path, quiet: bool) -> int:
	say = lambda text: _say(quiet, text)
	client_id, _ = sandbox.register_app(redirect_uri="http://127.0.0.1/nexora-demo")
	tokens: dict[str, _SandboxTokens] = {}
	clock = _SandboxClock(sandbox)

	def client_for(realm_id, on_exchange):
		tok = tokens.setdefault(realm_id, _SandboxTokens(sandbox, realm_id, client_id))
		# a throttle wait moves the sandbox clock instead of sleeping: the demo runs in seconds
		retry = RetryPolicy(max_attempts=4, sleep=lambda s: sandbox.advance_clock(s), jitter=0.0)
		return QBOClient(
			realm_id,
			base_url=sandbox.base_url,
			tokens=tok,
			on_exchange=on_exchange,
			retry=retry,
			clock=clock.now,
		)

	store = SqliteStore(str(workdir / "nexora-sync.db"))
	ledger = SqliteLedger(store, clock)
	engine = SyncEngine(store, ledger, client_for, FileRealmLock(str(workdir / "locks")), clock)

	realms = {}
	for company in (US, TX):
		realm = sandbox.create_realm(company_name=f"{company} (QBO)")
		seed = sandbox.seed_info(realm)
		engine.connect(
			RealmSettings(
				realm_id=realm,
				company=company,
				default_income_account_id=seed["accounts"]["Services"],
				default_expense_account_id=seed["accounts"]["Cost of Goods Sold"],
				default_asset_account_id=seed["accounts"]["Inventory Asset"],
				default_deposit_account_id=seed["accounts"]["Undeposited Funds"],
				terms_map={"Net 30": seed["terms"]["Net 30"], "Net 15": seed["terms"]["Net 15"]},
			)
		)
		realms[company] = realm
		say(f"{company} is connected to its QuickBooks company ({realm}).")
	us, tx = realms[US], realms[TX]

	class _Bk:
		"""A bookkeeper who logs in again whenever the clock moved past the token's hour."""

		def __getattr__(self, name):
			return getattr(Bookkeeper(sandbox, us), name)

	bk = _Bk()

	# ---- 2 Nov: first connection ------------------------------------------------------------------------
	say(
		"\n2 Nov — first connection. ERPNext already has two customers and three items; QuickBooks has its own."
	)
	acme = ledger.create_customer(US, "Acme Logistics", email="AP@acme-logistics.example")  # exists in QBO
	gulf = ledger.create_customer(US, "Gulf Coast Welding", email="ap@gulfcoast.example", terms="Net 30")
	hours = ledger.create_item(US, "Staffing Hours", rate="45.00")  # exists in QBO
	ot = ledger.create_item(US, "Overtime Hours", rate="67.50")
	weld = ledger.create_item(US, "Certified Welder Hours", rate="58.00")
	imported = engine.initial_import(us)
	say(f"  {words.pull(imported)}; {words.push(engine.initial_export(us))}.")
	names = [c["DisplayName"] for c in bk.query("select * from Customer").get("Customer", [])]
	say(f"  QuickBooks customers now: {', '.join(sorted(names))}.")
	say("  Acme Logistics was in both books: it was recognised by its e-mail address and not created twice.")

	# second company: its own customers, its own realm
	houston = ledger.create_customer(TX, "Houston Port Services", email="ap@houstonport.example")
	dock = ledger.create_item(TX, "Dock Crew Hours", rate="39.00")
	engine.initial_import(tx)
	engine.initial_export(tx)

	# ---- weekly billing -------------------------------------------------------------------------------
	invoices: list[str] = []
	for week, day in enumerate((6, 13, 20), start=45):
		sandbox.state.clock.advance(timedelta(days=7 if week > 45 else 4).total_seconds())
		date_s = f"2026-11-{day:02d}"
		say(f"\n{day} Nov — week {week}: ops submits this week's invoices in ERPNext.")
		invoices.append(
			ledger.submit_invoice(
				US,
				acme,
				[
					{
						"item": hours,
						"qty": "120",
						"rate": "45.00",
						"description": f"Warehouse crew, week {week}",
					},
					{"item": ot, "qty": "14.5", "rate": "67.50", "description": "Overtime"},
				],
				date_s,
				due_date=None,
				terms="Net 30",
				tax_total="0",
			)
		)
		invoices.append(
			ledger.submit_invoice(
				US,
				gulf,
				[{"item": weld, "qty": "80", "rate": "58.00", "description": f"Welders, week {week}"}],
				date_s,
			)
		)
		ledger.submit_invoice(TX, houston, [{"item": dock, "qty": "60", "rate": "39.00"}], date_s)
		if week == 46:
			# the bookkeeper edits the customer and an invoice in QBO between two syncs
			qacme = store.get_mapping(us, C.CUSTOMER, acme).qbo_id
			bk.update("Customer", qacme, {"PrimaryPhone": {"FreeFormNumber": "(713) 555-0147"}})
			ledger.update_customer(US, acme, notes="Send invoices to AP portal", phone="(713) 555-0100")
			qinv = store.get_mapping(us, C.INVOICE, invoices[0]).qbo_id
			remote = bk.read("Invoice", qinv)
			lines = [ln for ln in remote["Line"] if ln["DetailType"] == "SalesItemLineDetail"]
			lines[0]["SalesItemLineDetail"]["Qty"] = 118
			lines[0]["Amount"] = Decimal("5310.00")
			bk.update("Invoice", qinv, {"Line": lines})  # a sent Line array replaces all lines: send them all
			say(
				"  Meanwhile the bookkeeper, in QuickBooks, changes Acme's phone number and cuts last week's Acme"
				" invoice from 120 to 118 hours; ops, in ERPNext, changes Acme's phone and notes too."
			)
		if week == 47:
			sandbox.set_faults(us, script=["throttle", "throttle"])
			say(
				"  QuickBooks is busy and asks us to slow down: the sync waits and sends the same requests again"
				" (QuickBooks recognises them, so nothing is created twice)."
			)
		for company, realm in realms.items():
			result = engine.sync(realm)
			say(f"  {company} — {words.sync(result)}")

	# ---- payments and credits in QBO ------------------------------------------------------------------
	sandbox.state.clock.advance(timedelta(days=3).total_seconds())
	say(
		"\n23 Nov — the bookkeeper records money in QuickBooks: Gulf Coast pays 6,000.00 over two invoices,"
		" and a 116.00 credit for two hours billed twice is applied to the third."
	)
	qgulf = store.get_mapping(us, C.CUSTOMER, gulf).qbo_id
	gulf_invoices = [i for i in invoices if ledger.get(US, C.INVOICE, i)["customer"] == gulf]
	q1, q2 = (store.get_mapping(us, C.INVOICE, i).qbo_id for i in gulf_invoices[:2])
	bk.receive_payment(qgulf, "6000.00", [q1, q2])  # 4640 + 1360 partial
	qweld = store.get_mapping(us, C.ITEM, weld).qbo_id
	cm = bk.create(
		"CreditMemo",
		{
			"CustomerRef": {"value": qgulf},
			"Line": [
				{
					"DetailType": "SalesItemLineDetail",
					"Amount": Decimal("116.00"),
					"Description": "Two hours billed twice",
					"SalesItemLineDetail": {
						"ItemRef": {"value": qweld},
						"Qty": 2,
						"UnitPrice": Decimal("58.00"),
					},
				}
			],
		},
	)
	q3 = store.get_mapping(us, C.INVOICE, gulf_invoices[2]).qbo_id
	bk.create(
		"Payment",
		{
			"CustomerRef": {"value": qgulf},
			"TotalAmt": Decimal(0),
			"Line": [
				{"Amount": Decimal("116.00"), "LinkedTxn": [{"TxnId": q3, "TxnType": "Invoice"}]},
				{"Amount": Decimal("116.00"), "LinkedTxn": [{"TxnId": cm["Id"], "TxnType": "CreditMemo"}]},
			],
		},
	)
	say(f"  {words.pull(engine.pull(us))}.")
	for inv in gulf_invoices:
		left = ledger.outstanding(US, C.INVOICE, inv)
		say(f"  {inv} in ERPNext: " + ("paid in full" if not left else f"{left:,.2f} still to pay"))

	# ---- a local cancel -------------------------------------------------------------------------------
	sandbox.state.clock.advance(timedelta(days=2).total_seconds())
	wrong = ledger.submit_invoice(US, acme, [{"item": hours, "qty": "8", "rate": "45.00"}], "2026-11-25")
	engine.push(us)
	ledger.cancel(US, C.INVOICE, wrong)
	cancelled = engine.push(us)
	say(
		f"\n25 Nov — {wrong} was submitted by mistake and cancelled in ERPNext; QuickBooks voids it"
		f" (the trail stays): {words.push(cancelled)}."
	)

	# ---- month-end close: the review queue worked as its items advise ---------------------------------
	sandbox.state.clock.advance(timedelta(days=5).total_seconds())
	edited = invoices[0]
	say(
		f"\n30 Nov — month-end close. The review item on {edited} says: to take the bookkeeper's change, cancel"
		" and amend the invoice in ERPNext to match. Ops does exactly that (118 hours on the first line)."
	)
	ledger.cancel(US, C.INVOICE, edited)
	lines = [dict(line) for line in ledger.get(US, C.INVOICE, edited)["lines"]]
	lines[0]["qty"], lines[0]["amount"] = Decimal("118"), Decimal("5310.00")
	amended = ledger.amend(US, C.INVOICE, edited, lines=lines)
	for company, realm in realms.items():
		say(f"  {company} — {words.sync(engine.sync(realm))}")
	still_open = [c for realm in realms.values() for c in store.list_conflicts(realm, status=C.OPEN)]
	say(
		f"  {amended} updated the same QuickBooks invoice (no second invoice for one sale); "
		+ ("the review queue is empty." if not still_open else f"{len(still_open)} review item(s) still open.")
	)

	# ---- the month in words, then the tie-out ---------------------------------------------------------
	print("\nNovember, company by company")
	for realm in realms.values():
		print(words.report(engine.report(realm, 2026, 11)))
	for realm in realms.values():
		print()
		tie_out_section(engine, realm)
	store.close()
	return 0


# ------------------------------------------------------------------------------------------------------
# --week: a week billed from timesheets (issue 11), its own section and its own QuickBooks company
# ------------------------------------------------------------------------------------------------------


def _run_week(sandbox, workdir: Path, quiet: bool) -> int:
	from nexora_qbo.demo.week import run_week

	client_id, _ = sandbox.register_app(redirect_uri="http://127.0.0.1/nexora-demo")
	tokens: dict[str, _SandboxTokens] = {}
	clock = _SandboxClock(sandbox)

	def client_for(realm_id, on_exchange):
		tok = tokens.setdefault(realm_id, _SandboxTokens(sandbox, realm_id, client_id))
		retry = RetryPolicy(max_attempts=4, sleep=lambda s: sandbox.advance_clock(s), jitter=0.0)
		return QBOClient(realm_id, base_url=sandbox.base_url, tokens=tok, on_exchange=on_exchange, retry=retry,
			clock=clock.now)

	store = SqliteStore(str(workdir / "nexora-week.db"))
	ledger = SqliteLedger(store, clock)
	engine = SyncEngine(store, ledger, client_for, FileRealmLock(str(workdir / "locks")), clock)
	return run_week(sandbox, engine, ledger, lambda text: _say(quiet, text))


def tie_out_section(engine, realm_id: str):
	"""The demo's last section: the engine's AR tie-out of both books, as of the month's last day."""
	return print_tie_out(engine, realm_id, MONTH_END)


if __name__ == "__main__":
	sys.exit(main())
