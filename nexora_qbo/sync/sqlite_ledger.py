"""SQLite reference ledger: a small model of ERPNext billing (customers, items, sales invoices, credit notes,
payment entries with allocations) that implements the Ledger port.

Why it exists: the engine's tests, the reliability suite and the fresh-machine demo need a local book
without Frappe. It keeps ERPNext's semantics that matter to the sync: customer names get " - 1" on
duplicates, submitted documents are immutable (only cancel), outstanding amounts follow payments and credit
notes, and every LOCAL operation writes the document and its outbox intent in ONE transaction (as the
Frappe doc_events do), while writes coming from QBO record no intent (no echo).

Masters are GLOBAL, as in ERPNext: a Customer or Item belongs to no Company (the `company` argument of the
Ledger port is ignored for them; rows are stored under MASTERS). A master reaches a realm only when that
realm's Company uses it (architecture invariant 4): creating one records no intent for any realm (its first
transaction pushes it through the engine's dependency step, or a person exports it explicitly), and an
update records an intent only for the realms where it is already mapped.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.entities.refund import REFUNDS_ARE_MADE_HERE
from nexora_qbo.sync.outbox import record_change
from nexora_qbo.sync.sqlite_store import SqliteDB, SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger_doc (
	company TEXT NOT NULL, local_type TEXT NOT NULL, local_id TEXT NOT NULL, state TEXT NOT NULL,
	seq INTEGER NOT NULL, data TEXT NOT NULL, origin TEXT NOT NULL,
	PRIMARY KEY (company, local_type, local_id)
);
CREATE INDEX IF NOT EXISTS ledger_doc_seq ON ledger_doc (seq);  -- MAX(seq) per insert, without a scan
CREATE TABLE IF NOT EXISTS ledger_counter (company TEXT NOT NULL, series TEXT NOT NULL, n INTEGER NOT NULL,
	PRIMARY KEY (company, series));
CREATE TABLE IF NOT EXISTS ledger_key (
	company TEXT NOT NULL, local_type TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, local_id TEXT NOT NULL,
	PRIMARY KEY (company, local_type, kind, value, local_id)
);
CREATE INDEX IF NOT EXISTS ledger_key_by_doc ON ledger_key (company, local_type, local_id);
CREATE TABLE IF NOT EXISTS ledger_ref (
	company TEXT NOT NULL, local_type TEXT NOT NULL, local_id TEXT NOT NULL,
	ref_type TEXT NOT NULL, ref_id TEXT NOT NULL, amount TEXT
);
CREATE INDEX IF NOT EXISTS ledger_ref_by_ref ON ledger_ref (ref_type, ref_id, company);
CREATE INDEX IF NOT EXISTS ledger_ref_by_doc ON ledger_ref (company, local_type, local_id);
CREATE TABLE IF NOT EXISTS ledger_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ledger_currency_exchange (
	from_currency TEXT NOT NULL, to_currency TEXT NOT NULL, day TEXT NOT NULL, rate TEXT NOT NULL,
	PRIMARY KEY (from_currency, to_currency, day)
);
"""
HOME_CURRENCY = "USD"  # the companies of this ledger keep their books in USD (as the harness realms do)

# Why the two side tables: matching an imported record, naming a customer and reading an invoice's
# outstanding amount used to read and parse EVERY ledger row of a type, per record, which made an initial
# import quadratic (4k customers: 138 s) and an invoice read scan every payment. ledger_key holds each
# document's stable match keys (records.match_keys) and ledger_ref what a transaction refers to (its customer,
# its items, the invoices a payment or credit note settles, with the amount); _put rewrites a document's rows
# in the same transaction as the document, so they never disagree. Both are rebuilt once for a database
# written before they existed (INDEX_VERSION).
INDEX_VERSION = "1"

SERIES = {C.INVOICE: "SINV", C.CREDIT_MEMO: "SRET", C.PAYMENT: "PAY", C.DEPOSIT: "DEP", C.REFUND: "RFND",
	C.REFUND_RECEIPT: "SRRF"}
MASTER_TYPES = (C.CUSTOMER, C.ITEM)
MASTERS = ""  # the company key of global master rows (ERPNext Customer/Item have no company)


def _co(company: str, local_type: str) -> str:
	"""The row key: masters are global, transactions belong to their company."""
	return MASTERS if local_type in MASTER_TYPES else company


class LedgerError(Exception):
	"""A local operation ERPNext would refuse (e.g. allocating more than the outstanding amount)."""


class SqliteLedger:
	"""The Ledger port on the same SQLite database as a SqliteStore (one transaction for doc + intent)."""

	def __init__(self, store: SqliteStore, clock: Callable[[], datetime] | Any = None):
		self.store = store
		self.db: SqliteDB = store.db
		self.db.conn.executescript(SCHEMA)
		self._clock = clock
		self._build_indexes()

	def _build_indexes(self) -> None:
		"""Fill ledger_key/ledger_ref for documents written before they existed (once per database)."""
		have = self.db.query("SELECT value FROM ledger_meta WHERE key='index_version'")
		if have and have[0]["value"] == INDEX_VERSION:
			return
		with self.db.transaction() as conn:
			conn.execute("DELETE FROM ledger_key")
			conn.execute("DELETE FROM ledger_ref")
			for r in conn.execute("SELECT company, local_type, local_id, data FROM ledger_doc").fetchall():
				self._index(conn, r["company"], r["local_type"], r["local_id"], R.loads(r["data"]), fresh=True)
			conn.execute("INSERT OR REPLACE INTO ledger_meta (key, value) VALUES ('index_version', ?)", (INDEX_VERSION,))

	@staticmethod
	def _index(conn, company: str, local_type: str, local_id: str, data: dict, fresh: bool = False) -> None:
		"""(Re)write one document's match keys and references (company is the row key, see _co)."""
		if not fresh:
			conn.execute("DELETE FROM ledger_key WHERE company=? AND local_type=? AND local_id=?", (company, local_type, local_id))
			conn.execute("DELETE FROM ledger_ref WHERE company=? AND local_type=? AND local_id=?", (company, local_type, local_id))
		keys = R.match_keys(local_type, data)
		if local_type == C.CUSTOMER and R.has_erpnext_dup_suffix(local_id):
			keys = [k for k in keys if k[0] != "name"]  # " - 1" customers never match by name alone
		conn.executemany("INSERT OR IGNORE INTO ledger_key (company, local_type, kind, value, local_id) VALUES (?,?,?,?,?)",
			[(company, local_type, kind, str(value), local_id) for kind, value in keys])
		refs: list[tuple[str, str, str | None]] = []
		if local_type in (C.INVOICE, C.CREDIT_MEMO, C.PAYMENT, C.REFUND, C.REFUND_RECEIPT):
			if data.get("customer"):
				refs.append((C.CUSTOMER, data["customer"], None))
			refs += [(C.ITEM, it, None) for it in dict.fromkeys(
				line["item"] for line in data.get("lines") or [] if line.get("item"))]
		if local_type in (C.PAYMENT, C.REFUND):  # a refund pays out the credit notes it names
			refs += [(a["doc_type"], a["doc_key"], str(a["amount"])) for a in data.get("applications") or []]
		if local_type == C.CREDIT_MEMO and data.get("against_invoice"):
			refs.append((C.INVOICE, data["against_invoice"], str(data.get("total") if data.get("total") is not None else "")))
		if local_type == C.DEPOSIT:
			refs += [(C.PAYMENT, p["doc_key"], str(p["amount"])) for p in data.get("payments") or []]
		conn.executemany("INSERT INTO ledger_ref (company, local_type, local_id, ref_type, ref_id, amount) VALUES (?,?,?,?,?,?)",
			[(company, local_type, local_id, t, i, a) for t, i, a in refs])

	def _settling(self, company: str, local_type: str, local_id: str) -> list:
		"""Submitted payments and credit notes that settle this document, with their amounts (indexed)."""
		return self.db.query(
			"SELECT r.local_type, r.local_id, r.amount FROM ledger_ref r JOIN ledger_doc d ON d.company=r.company "
			"AND d.local_type=r.local_type AND d.local_id=r.local_id WHERE r.ref_type=? AND r.ref_id=? AND r.company=? "
			"AND r.local_type IN (?,?,?) AND d.state='submitted'",
			(local_type, local_id, company, C.PAYMENT, C.CREDIT_MEMO, C.REFUND))

	def _now(self) -> datetime:
		if self._clock is None:
			return datetime.now(timezone.utc)
		return self._clock.now() if hasattr(self._clock, "now") else self._clock()

	# ------------------------------------------------------------------------------------------ internals
	def _row(self, company: str, local_type: str, local_id: str):
		company = _co(company, local_type)
		rows = self.db.query(
			"SELECT * FROM ledger_doc WHERE company=? AND local_type=? AND local_id=?", (company, local_type, local_id)
		)
		return rows[0] if rows else None

	def _all(self, company: str, local_type: str) -> list[tuple[str, str, dict]]:
		company = _co(company, local_type)
		rows = self.db.query(
			"SELECT local_id, state, data FROM ledger_doc WHERE company=? AND local_type=? ORDER BY seq",
			(company, local_type),
		)
		return [(r["local_id"], r["state"], R.loads(r["data"])) for r in rows]

	def _put(self, company: str, local_type: str, local_id: str, state: str, data: dict, origin: str) -> None:
		company = _co(company, local_type)
		with self.db.transaction() as conn:
			row = conn.execute(
				"SELECT seq FROM ledger_doc WHERE company=? AND local_type=? AND local_id=?",
				(company, local_type, local_id),
			).fetchone()
			if row:
				conn.execute(
					"UPDATE ledger_doc SET state=?, data=? WHERE company=? AND local_type=? AND local_id=?",
					(state, R.dumps(data), company, local_type, local_id),
				)
			else:
				seq = conn.execute("SELECT COALESCE(MAX(seq),0)+1 AS s FROM ledger_doc").fetchone()["s"]
				conn.execute(
					"INSERT INTO ledger_doc (company, local_type, local_id, state, seq, data, origin) VALUES (?,?,?,?,?,?,?)",
					(company, local_type, local_id, state, seq, R.dumps(data), origin),
				)
			self._index(conn, company, local_type, local_id, data, fresh=not row)

	def _next_name(self, company: str, local_type: str) -> str:
		series = SERIES[local_type]
		with self.db.transaction() as conn:
			conn.execute(
				"INSERT INTO ledger_counter (company, series, n) VALUES (?,?,0) ON CONFLICT DO NOTHING", (company, series)
			)
			conn.execute("UPDATE ledger_counter SET n=n+1 WHERE company=? AND series=?", (company, series))
			n = conn.execute("SELECT n FROM ledger_counter WHERE company=? AND series=?", (company, series)).fetchone()["n"]
		abbr = "".join(w[0] for w in company.split() if w[:1].isalnum()).upper()[:4] or "CO"
		return f"{series}-{abbr}-{n:05d}"

	def _customer_name(self, company: str, display_name: str) -> str:
		"""ERPNext naming by customer_name: a duplicate gets " - 1", " - 2" …"""
		if self._row(company, C.CUSTOMER, display_name) is None:
			return display_name
		n = 1
		while self._row(company, C.CUSTOMER, f"{display_name} - {n}") is not None:
			n += 1
		return f"{display_name} - {n}"

	def _intent(self, company: str, local_type: str, local_id: str, action: str) -> None:
		realm_id = self.store.realm_for_company(company)
		if realm_id:
			record_change(self.store, realm_id, local_type, local_id, action, self._now())

	def _master_intents(self, local_type: str, local_id: str, action: str) -> None:
		"""A master change goes only to the realms that already have the master (mapped there)."""
		for realm_id in self.store.list_realms():
			if self.store.get_mapping(realm_id, local_type, local_id) is not None:
				record_change(self.store, realm_id, local_type, local_id, action, self._now())

	# ------------------------------------------------------------------------------------- Ledger port
	def get(self, company: str, local_type: str, local_id: str) -> dict | None:
		row = self._row(company, local_type, local_id)
		if row is None:
			return None
		data = R.loads(row["data"])
		data["state"] = row["state"]
		if local_type in (C.INVOICE, C.CREDIT_MEMO):
			data["outstanding"] = self._outstanding(company, local_type, local_id, data)
		return R.normalize(local_type, data)

	def note_qbo_number(self, company: str, local_type: str, local_id: str, doc_number: str) -> None:
		"""QBO numbered the document itself (custom transaction numbers off): keep its number, searchable as
		`qbo_doc_number`, and let the record show it as its doc_number from now on (what QBO shows)."""
		with self.db.transaction() as conn:
			row = self._row(company, local_type, local_id)
			if row is None:
				return
			data = R.loads(row["data"])
			data["qbo_doc_number"] = doc_number
			data["doc_number"] = doc_number
			conn.execute("UPDATE ledger_doc SET data=? WHERE company=? AND local_type=? AND local_id=?",
				(R.dumps(data), _co(company, local_type), local_type, local_id))

	def find_by_qbo_number(self, company: str, local_type: str, doc_number: str) -> list[str]:
		return [lid for lid, _state, data in self._all(company, local_type) if data.get("qbo_doc_number") == doc_number
			or data.get("doc_number") == doc_number]

	def list_ids(self, company: str, local_type: str, since: date | None = None) -> list[str]:
		used = self._used_masters(company, local_type) if local_type in MASTER_TYPES else None
		out = []
		for local_id, state, data in self._all(company, local_type):
			if local_type in (C.CUSTOMER, C.ITEM):
				if not data.get("active", True) or local_id not in used:
					continue
			elif state != "submitted":
				continue
			if since and local_type not in (C.CUSTOMER, C.ITEM) and (data.get("txn_date") or "") < since.isoformat():
				continue
			out.append(local_id)
		return out

	def find_match(self, company: str, local_type: str, record: dict) -> str | None:
		wanted = R.match_keys(local_type, record)
		if not wanted:
			return None
		co = _co(company, local_type)
		for kind, value in wanted:  # strongest key first; ledger_key holds each document's keys (indexed)
			hits = [r["local_id"] for r in self.db.query(
				"SELECT k.local_id FROM ledger_key k JOIN ledger_doc d ON d.company=k.company AND d.local_type=k.local_type "
				"AND d.local_id=k.local_id WHERE k.company=? AND k.local_type=? AND k.kind=? AND k.value=? "
				"AND d.state != 'cancelled' ORDER BY d.seq", (co, local_type, kind, str(value)))]
			if len(hits) == 1:
				return hits[0]
			if len(hits) > 1:
				return None  # ambiguous: a person must decide, never guess
		return None

	def upsert_from_qbo(self, company: str, local_type: str, local_id: str | None, record: dict) -> str:
		rec = R.normalize(local_type, record)
		state = "submitted" if local_type not in (C.CUSTOMER, C.ITEM) else "active"
		if local_type == C.PAYMENT and rec.get("customer"):
			self._check_payer(company, rec)
		if local_type == C.REFUND and local_id is None:
			raise LedgerError(REFUNDS_ARE_MADE_HERE)  # a QBO journal entry is never booked as a refund here
		with self.db.transaction():
			if local_id is None:
				if local_type == C.CUSTOMER:
					local_id = self._customer_name(company, rec["display_name"] or "Customer")
				elif local_type == C.ITEM:
					local_id = rec["name"]
					if self._row(company, C.ITEM, local_id) is not None:
						local_id = f"{local_id} ({rec.get('sku') or 'QBO'})"
				else:
					local_id = self._next_name(company, local_type)
			else:
				row = self._row(company, local_type, local_id)
				if row is not None:
					state = row["state"]
					old = R.loads(row["data"])
					old.update({k: v for k, v in rec.items() if k not in ("state", "outstanding")})
					rec = old
			rec.pop("outstanding", None)
			rec["state"] = state
			self._put(company, local_type, local_id, state, rec, "qbo")
		return local_id

	def _check_payer(self, company: str, rec: dict) -> None:
		"""As ERPNext: a payment books only the payer's documents and its jobs' (sync/parent_payments.py)."""
		from nexora_qbo.sync import parent_payments

		def owner_of(app):
			doc = self.get(company, app["doc_type"], app["doc_key"]) if app.get("doc_key") else None
			return doc.get("customer") if doc else None

		def parent_of(customer):
			doc = self.get(company, C.CUSTOMER, customer)
			return doc.get("parent") if doc else None

		reason = parent_payments.refusal(rec, owner_of, parent_of)
		if reason:
			raise LedgerError(reason)

	def cancel_from_qbo(self, company: str, local_type: str, local_id: str, reason: str) -> None:
		with self.db.transaction():
			row = self._row(company, local_type, local_id)
			if row is None:
				return
			data = R.loads(row["data"])
			data["cancel_reason"] = reason
			if local_type in (C.CUSTOMER, C.ITEM):
				data["active"] = False
				self._put(company, local_type, local_id, row["state"], data, "qbo")
			else:
				data["state"] = "cancelled"
				self._put(company, local_type, local_id, "cancelled", data, "qbo")

	def used_by(self, local_type: str, local_id: str) -> set[str]:
		"""The companies whose transactions (any state: a cancelled invoice still used the customer) refer to
		the master. Transactions are the only link between a global master and a company."""
		rows = self.db.query("SELECT DISTINCT company FROM ledger_ref WHERE ref_type=? AND ref_id=?", (local_type, local_id))
		return {r["company"] for r in rows}

	def _used_masters(self, company: str, local_type: str) -> set[str]:
		rows = self.db.query("SELECT DISTINCT ref_id FROM ledger_ref WHERE company=? AND ref_type=? AND local_type IN (?,?,?,?,?)",
			(company, local_type, C.INVOICE, C.CREDIT_MEMO, C.PAYMENT, C.REFUND, C.REFUND_RECEIPT))
		return {r["ref_id"] for r in rows}

	# ------------------------------------------------------------------------------------- outstanding
	def _outstanding(self, company: str, local_type: str, local_id: str, data: dict) -> Decimal:
		if data.get("state") != "submitted":
			return R.money(0)
		total = R.money(data.get("total"))
		if local_type == C.CREDIT_MEMO and data.get("against_invoice"):
			return R.money(0)  # booked against the original invoice (update_outstanding_for_self = 0)
		paid = Decimal(0)
		for r in self._settling(company, local_type, local_id):  # indexed: no scan of every payment
			if r["local_type"] in (C.PAYMENT, C.REFUND) or local_type == C.INVOICE:
				paid += R.money(r["amount"] or None)
		return R.money(total - paid)

	def outstanding(self, company: str, local_type: str, local_id: str) -> Decimal:
		rec = self.get(company, local_type, local_id)
		if rec is None:
			raise LedgerError(f"{local_type} {local_id} not found")
		return rec["outstanding"]

	# ------------------------------------------------------------------------ local operations (users)
	def create_customer(self, company: str, display_name: str, **fields: Any) -> str:
		rec = R.normalize(C.CUSTOMER, {"display_name": display_name, **fields})
		with self.db.transaction():
			local_id = self._customer_name(company, display_name)
			self._put(company, C.CUSTOMER, local_id, "active", rec, "local")
			# no intent for any realm: a global master goes to a realm when that realm's Company uses it
		return local_id

	def update_customer(self, company: str, local_id: str, **fields: Any) -> None:
		self._update_master(company, C.CUSTOMER, local_id, fields)

	def create_item(self, company: str, name: str, **fields: Any) -> str:
		rec = R.normalize(C.ITEM, {"name": name, **fields})
		with self.db.transaction():
			if self._row(company, C.ITEM, name) is not None:
				raise LedgerError(f"item {name} already exists")
			self._put(company, C.ITEM, name, "active", rec, "local")
		return name

	def update_item(self, company: str, local_id: str, **fields: Any) -> None:
		self._update_master(company, C.ITEM, local_id, fields)

	def _update_master(self, company: str, local_type: str, local_id: str, fields: dict) -> None:
		with self.db.transaction():
			row = self._row(company, local_type, local_id)
			if row is None:
				raise LedgerError(f"{local_type} {local_id} not found")
			data = R.loads(row["data"])
			data.update(fields)
			self._put(company, local_type, local_id, row["state"], R.normalize(local_type, data), "local")
			self._master_intents(local_type, local_id, "update")

	def submit_invoice(
		self,
		company: str,
		customer: str,
		lines: list[dict],
		txn_date: str | date,
		*,
		due_date: str | date | None = None,
		currency: str = "USD",
		exchange_rate: Any = None,
		tax_total: Any = 0,
		doc_number: str | None = None,
		**extra: Any,
	) -> str:
		exchange_rate = self._document_rate(company, currency, txn_date, exchange_rate)
		return self._submit(
			company,
			C.INVOICE,
			dict(
				customer=customer,
				lines=lines,
				txn_date=txn_date,
				due_date=due_date,
				currency=currency,
				exchange_rate=exchange_rate,
				tax_total=tax_total,
				doc_number=doc_number,
				**extra,
			),
		)

	def submit_credit_note(
		self,
		company: str,
		customer: str,
		lines: list[dict],
		txn_date: str | date,
		*,
		against_invoice: str | None = None,
		currency: str = "USD",
		tax_total: Any = 0,
		doc_number: str | None = None,
		**extra: Any,
	) -> str:
		if against_invoice is not None:
			inv = self.get(company, C.INVOICE, against_invoice)
			if inv is None or inv["state"] != "submitted":
				raise LedgerError(f"invoice {against_invoice} is not submitted")
		return self._submit(
			company,
			C.CREDIT_MEMO,
			dict(
				customer=customer,
				lines=lines,
				txn_date=txn_date,
				against_invoice=against_invoice,
				currency=currency,
				tax_total=tax_total,
				doc_number=doc_number,
				**extra,
			),
		)

	def _submit(self, company: str, local_type: str, fields: dict) -> str:
		with self.db.transaction():
			if self._row(company, C.CUSTOMER, fields["customer"]) is None:
				raise LedgerError(f"customer {fields['customer']} not found")
			local_id = self._next_name(company, local_type)
			fields.setdefault("doc_number", None)
			fields["doc_number"] = fields["doc_number"] or local_id
			fields.pop("total", None)
			rec = R.normalize(local_type, {**fields, "state": "submitted"})
			rec.pop("outstanding", None)
			self._put(company, local_type, local_id, "submitted", rec, "local")
			self._intent(company, local_type, local_id, "create")
		return local_id

	def record_payment(
		self,
		company: str,
		customer: str,
		total: Any,
		applications: list[dict],
		txn_date: str | date,
		*,
		currency: str = "USD",
		reference: str | None = None,
		deposit_account: str | None = None,
		**extra: Any,
	) -> str:
		extra["exchange_rate"] = self._document_rate(company, currency, txn_date, extra.get("exchange_rate"))
		with self.db.transaction():
			for app in applications:
				doc_type = app.get("doc_type", C.INVOICE)
				doc = self.get(company, doc_type, app["doc_key"])
				if doc is None or doc["state"] != "submitted":
					raise LedgerError(f"{doc_type} {app['doc_key']} is not submitted")
				if R.money(app["amount"]) > doc["outstanding"]:
					raise LedgerError(f"allocated {app['amount']} exceeds outstanding {doc['outstanding']}")
			local_id = self._next_name(company, C.PAYMENT)
			rec = R.normalize(
				C.PAYMENT,
				dict(
					customer=customer,
					total=total,
					applications=applications,
					txn_date=txn_date,
					currency=currency,
					reference=reference,
					deposit_account=deposit_account,
					state="submitted",
					**extra,
				),
			)
			self._put(company, C.PAYMENT, local_id, "submitted", rec, "local")
			self._intent(company, C.PAYMENT, local_id, "create")
		return local_id

	def record_deposit(self, company: str, bank_account: str, payments: list[str], txn_date: str | date, *,
			fees: list[dict] | None = None, currency: str = "USD", memo: str | None = None) -> str:
		"""A bank deposit of received payments (ERPNext: a Journal Entry from the Undeposited Funds account to the
		bank, one row per payment it deposits, fee rows to their expense accounts). Each payment is deposited
		whole and at most once, as in QBO; `fees` are signed lines (a fee is negative)."""
		with self.db.transaction():
			rows = []
			for pid in payments:
				pay = self.get(company, C.PAYMENT, pid)
				if pay is None or pay["state"] != "submitted":
					raise LedgerError(f"payment {pid} is not submitted")
				if self._deposit_of(company, pid):
					raise LedgerError(f"payment {pid} is already deposited by {self._deposit_of(company, pid)}")
				rows.append({"doc_key": pid, "amount": pay["total"]})
			local_id = self._next_name(company, C.DEPOSIT)
			rec = R.normalize(C.DEPOSIT, {"txn_date": txn_date, "bank_account": bank_account, "currency": currency,
				"payments": rows, "fees": fees or [], "memo": memo, "state": "submitted"})
			self._put(company, C.DEPOSIT, local_id, "submitted", rec, "local")
			self._intent(company, C.DEPOSIT, local_id, "create")
		return local_id

	def _deposit_of(self, company: str, payment_id: str) -> str | None:
		rows = self.db.query(
			"SELECT r.local_id FROM ledger_ref r JOIN ledger_doc d ON d.company=r.company AND d.local_type=r.local_type "
			"AND d.local_id=r.local_id WHERE r.ref_type=? AND r.ref_id=? AND r.company=? AND r.local_type=? "
			"AND d.state='submitted'", (C.PAYMENT, payment_id, company, C.DEPOSIT))
		return rows[0]["local_id"] if rows else None

	def account_balances(self, company: str, accounts, as_of: date | None = None, *,
			default_account: str | None = None) -> dict[str, Decimal]:
		"""The optional Ledger read of issue 13: debit - credit per named account, from the submitted payments
		(money received into their deposit account) and deposits (each payment's amount out of the account it
		was received into, the net total into the bank, each fee line's amount debited to its account). A
		payment that names no account was received into `default_account` (ERPNext: the company's default)."""
		out = {a: Decimal("0.00") for a in accounts}

		def add(account, amount):
			account = account or default_account
			if account in out:
				out[account] = R.money(out[account] + amount)

		for local_type in (C.PAYMENT, C.DEPOSIT):
			for local_id, state, data in self._all(company, local_type):
				if state != "submitted" or (as_of is not None and (data.get("txn_date") or "") > as_of.isoformat()):
					continue
				if local_type == C.PAYMENT:
					add(data.get("deposit_account"), R.money(data.get("total")))
					continue
				add(data.get("bank_account"), R.money(data.get("total")))
				for p in data.get("payments") or []:
					pay = R.loads(self._row(company, C.PAYMENT, p["doc_key"])["data"])
					add(pay.get("deposit_account"), -R.money(p["amount"]))
				for f in data.get("fees") or []:
					add(f.get("account"), -R.money(f["amount"]))
		return out

	def record_refund(
		self,
		company: str,
		customer: str,
		total: Any,
		applications: list[dict],
		txn_date: str | date,
		*,
		currency: str = "USD",
		reference: str | None = None,
		paid_from: str | None = None,
		**extra: Any,
	) -> str:
		"""ERPNext's Payment Entry "Pay" to a Customer: money paid back out of the customer's credit notes (each
		application pays out part of a credit note's negative outstanding, never more than is open)."""
		with self.db.transaction():
			for app in applications:
				doc = self.get(company, C.CREDIT_MEMO, app["doc_key"])
				if doc is None or doc["state"] != "submitted":
					raise LedgerError(f"credit note {app['doc_key']} is not submitted")
				if R.money(app["amount"]) > doc["outstanding"]:
					raise LedgerError(f"refunded {app['amount']} exceeds the credit left {doc['outstanding']}")
			local_id = self._next_name(company, C.REFUND)
			rec = R.normalize(C.REFUND, dict(customer=customer, total=total,
				applications=[{**a, "doc_type": C.CREDIT_MEMO} for a in applications], txn_date=txn_date,
				currency=currency, reference=reference, paid_from=paid_from, state="submitted", **extra))
			self._put(company, C.REFUND, local_id, "submitted", rec, "local")
			self._intent(company, C.REFUND, local_id, "create")
		return local_id

	def reconcile(self, company: str, payment_id: str, applications: list[dict]) -> None:
		"""ERPNext's Payment Reconciliation of a submitted payment's unallocated amount: the Payment Entry's
		references gain the new allocations (ERPNext updates the submitted document in place, no cancel), each
		invoice's outstanding follows, and an update intent carries the new application to QBO."""
		with self.db.transaction():
			row = self._row(company, C.PAYMENT, payment_id)
			if row is None or row["state"] != "submitted":
				raise LedgerError(f"payment {payment_id} is not submitted")
			data = R.loads(row["data"])
			pay = R.normalize(C.PAYMENT, data)
			extra = R.money(sum((R.money(a["amount"]) for a in applications), Decimal(0)))
			if extra > pay["unapplied"]:
				raise LedgerError(f"allocating {extra} exceeds the unallocated {pay['unapplied']} of {payment_id}")
			for app in applications:
				doc = self.get(company, app.get("doc_type", C.INVOICE), app["doc_key"])
				if doc is None or doc["state"] != "submitted" or R.money(app["amount"]) > doc["outstanding"]:
					raise LedgerError(f"{app['doc_key']} cannot take {app['amount']}")
			data["applications"] = list(data.get("applications") or []) + [
				{"doc_type": a.get("doc_type", C.INVOICE), "doc_key": a["doc_key"], "amount": R.money(a["amount"])}
				for a in applications]
			data["unapplied"] = R.money(pay["unapplied"] - extra)
			self._put(company, C.PAYMENT, payment_id, "submitted", data, "local")
			self._intent(company, C.PAYMENT, payment_id, "update")

	def cancel(self, company: str, local_type: str, local_id: str) -> None:
		"""Cancel a submitted transaction (ERPNext: a paid invoice needs its payments cancelled first)."""
		with self.db.transaction():
			row = self._row(company, local_type, local_id)
			if row is None or row["state"] != "submitted":
				raise LedgerError(f"{local_type} {local_id} is not submitted")
			if local_type in (C.INVOICE, C.CREDIT_MEMO):
				for r in self._settling(company, local_type, local_id):
					if r["local_type"] in (C.PAYMENT, C.REFUND):
						raise LedgerError(f"cancel {r['local_type']} {r['local_id']} first: it is allocated to {local_id}")
			if local_type == C.PAYMENT and self._deposit_of(company, local_id):
				raise LedgerError(f"cancel deposit {self._deposit_of(company, local_id)} first: it deposits {local_id}")
			data = R.loads(row["data"])
			data["state"] = "cancelled"
			self._put(company, local_type, local_id, "cancelled", data, "local")
			self._intent(company, local_type, local_id, "cancel")

	def amend(self, company: str, local_type: str, local_id: str, **changes: Any) -> str:
		"""ERPNext's cancel → amend: a NEW submitted document named "<original>-1" ("-2" for the next amendment
		of the same original) that carries `amended_from`, with the original's content and `changes` applied.
		The original must be cancelled first (ERPNext refuses to amend a submitted document). Like a submit,
		it records a "create" intent; the engine decides whether that updates the original's QBO record (after
		a bookkeeper edit) or creates a new one (see BookkeeperEdits.amend_in_place)."""
		if local_type not in (C.INVOICE, C.CREDIT_MEMO, C.PAYMENT):
			raise LedgerError(f"{local_type} documents are not amended")
		with self.db.transaction():
			row = self._row(company, local_type, local_id)
			if row is None or row["state"] != "cancelled":
				raise LedgerError(f"cancel {local_type} {local_id} first: only a cancelled document can be amended")
			data = R.loads(row["data"])
			root = data.get("amendment_root") or local_id
			n = 1
			while self._row(company, local_type, f"{root}-{n}") is not None:
				n += 1
			new_id = f"{root}-{n}"
			for k in ("state", "cancel_reason", "outstanding"):
				data.pop(k, None)
			data.update(changes)
			data["amended_from"], data["amendment_root"] = local_id, root
			if local_type != C.PAYMENT:
				data["doc_number"] = changes.get("doc_number") or new_id
				if "total" not in changes:
					data.pop("total", None)  # recomputed from the amended lines, as ERPNext does
			rec = R.normalize(local_type, {**data, "state": "submitted"})
			rec.pop("outstanding", None)
			if local_type == C.PAYMENT:
				for app in rec.get("applications") or []:
					doc = self.get(company, app["doc_type"], app["doc_key"])
					if doc is None or doc["state"] != "submitted":
						raise LedgerError(f"{app['doc_type']} {app['doc_key']} is not submitted")
					if R.money(app["amount"]) > doc["outstanding"]:
						raise LedgerError(f"allocated {app['amount']} exceeds outstanding {doc['outstanding']}")
			self._put(company, local_type, new_id, "submitted", rec, "local")
			self._intent(company, local_type, new_id, "create")
		return new_id

	def origin(self, company: str, local_type: str, local_id: str) -> str | None:
		rows = self.db.query(
			"SELECT origin FROM ledger_doc WHERE company=? AND local_type=? AND local_id=?",
			(_co(company, local_type), local_type, local_id),
		)
		return rows[0]["origin"] if rows else None

	def merge_customer(self, source: str, target: str) -> None:
		"""ERPNext's rename-with-merge of Customer `source` into `target` (a merge that came from QBO): every
		transaction of every company, and every sub-customer, now names `target`; `source` is gone. No outbox
		intent: QBO already holds the merge."""
		with self.db.transaction() as conn:
			if self._row("", C.CUSTOMER, target) is None:
				raise LedgerError(f"customer {target} does not exist")
			rows = conn.execute("SELECT company, local_type, local_id, data FROM ledger_doc").fetchall()
			for r in rows:
				data = R.loads(r["data"])
				changed = False
				for key in ("customer", "parent"):
					if data.get(key) == source:
						data[key], changed = target, True
				if changed:
					conn.execute("UPDATE ledger_doc SET data=? WHERE company=? AND local_type=? AND local_id=?",
						(R.dumps(data), r["company"], r["local_type"], r["local_id"]))
			conn.execute("DELETE FROM ledger_doc WHERE company=? AND local_type=? AND local_id=?",
				(MASTERS, C.CUSTOMER, source))

	# ------------------------------------------------------------------------------ Currency Exchange
	def _document_rate(self, company: str, currency: str | None, txn_date, given) -> Any:
		"""ERPNext's conversion rate of a new document: the one given, else the Currency Exchange of the latest
		day on or before the document's (get_exchange_rate); a foreign document without either is refused, as
		ERPNext refuses to save one without a rate."""
		if given not in (None, ""):
			return given
		if not currency or currency == HOME_CURRENCY:
			return 1
		rate = self.exchange_rate(company, currency, txn_date)
		if rate is None:
			raise LedgerError(f"Unable to find exchange rate for {currency} to {HOME_CURRENCY} on {txn_date}")
		return rate

	def set_exchange_rate(self, company: str, currency: str, day, rate: Any) -> None:
		"""A Currency Exchange row (global in ERPNext, like here: keyed by currencies and day, not company)."""
		with self.db.transaction() as conn:
			conn.execute("INSERT INTO ledger_currency_exchange (from_currency, to_currency, day, rate) VALUES (?,?,?,?) "
				"ON CONFLICT(from_currency, to_currency, day) DO UPDATE SET rate=excluded.rate",
				(currency.upper(), HOME_CURRENCY, str(day)[:10], str(Decimal(str(rate)))))

	def exchange_rate(self, company: str, currency: str, day, exact: bool = False) -> Decimal | None:
		"""The Currency Exchange rate of `day` (exact) or of the latest day on or before it."""
		op = "=" if exact else "<="
		rows = self.db.query(f"SELECT rate FROM ledger_currency_exchange WHERE from_currency=? AND to_currency=? "
			f"AND day {op} ? ORDER BY day DESC LIMIT 1", (currency.upper(), HOME_CURRENCY, str(day)[:10]))
		return Decimal(rows[0]["rate"]) if rows else None

	def exchange_rates(self, company: str, since) -> list[tuple[str, date, Decimal]]:
		rows = self.db.query("SELECT from_currency, day, rate FROM ledger_currency_exchange WHERE to_currency=? "
			"AND day >= ? ORDER BY day, from_currency", (HOME_CURRENCY, str(since)[:10]))
		return [(r["from_currency"], date.fromisoformat(r["day"]), Decimal(r["rate"])) for r in rows]

	def foreign_currencies(self, company: str) -> list[str]:
		"""Currencies other than the company's that its customers or Currency Exchange rows use."""
		out = {r["from_currency"] for r in self.db.query(
			"SELECT DISTINCT from_currency FROM ledger_currency_exchange WHERE to_currency=?", (HOME_CURRENCY,))}
		for _lid, _state, data in self._all(company, C.CUSTOMER):
			if data.get("currency"):
				out.add(data["currency"])
		out.discard(HOME_CURRENCY)
		return sorted(out)

	def exchange_gain_loss(self, company: str, payment_id: str) -> Decimal:
		"""ERPNext's realized exchange gain (+) / loss (-) of a Payment Entry, in home currency: per reference,
		allocated x the payment's rate less allocated x the invoice's rate, each rounded to the cent
		(payment_entry.set_exchange_gain_loss), summed; a credit note's reference counts the other way."""
		pay = self.get(company, C.PAYMENT, payment_id)
		if pay is None or pay.get("state") != "submitted":
			return R.money(0)
		pay_rate = Decimal(str(pay.get("exchange_rate") or 1))
		total = Decimal(0)
		for app in pay.get("applications") or []:
			doc = self.get(company, app["doc_type"], app["doc_key"]) or {}
			doc_rate = Decimal(str(doc.get("exchange_rate") or 1))
			amount = R.money(app["amount"])
			gain = R.money(amount * pay_rate) - R.money(amount * doc_rate)
			total += -gain if app["doc_type"] == C.CREDIT_MEMO else gain
		return R.money(total)

	@staticmethod
	def _home_total(data: dict) -> Decimal:
		"""A document's home-currency total as ERPNext computes it (taxes_and_totals.calculate_totals): without
		tax or discount rows, base_grand_total = base_net_total, the sum of each line's own rounded home amount;
		otherwise grand_total x conversion_rate, rounded once."""
		rate = Decimal(str(data.get("exchange_rate") or 1))
		total = R.money(data.get("total"))
		lines = data.get("lines") or []
		if R.money(data.get("tax_total") or 0) != 0 or R.money(data.get("discount_amount") or 0) != 0 or not lines:
			return R.money(total * rate)
		if R.money(sum((R.money(ln.get("amount")) for ln in lines), Decimal(0))) != total:
			return R.money(total * rate)
		return R.money(sum((R.money(R.money(ln.get("amount")) * rate) for ln in lines), Decimal(0)))

	def list_all(self, company: str, local_type: str) -> list[str]:
		return [lid for lid, _, _ in self._all(company, local_type)]

	# --------------------------------------------------------------------------------- AR tie-out (read)
	def open_balances(self, company: str, as_of: date | None = None) -> list[dict]:
		"""The Ledger port's open documents, read in one query (transactions only: the rows of masters are
		not consulted, however they are keyed). Outstanding amounts follow ERPNext: an invoice is reduced by
		the payments allocated to it and the credit notes against it; a credit note booked against an
		invoice is never open by itself; a payment's unallocated amount is open credit (negative)."""
		rows = self.db.query(
			"SELECT local_type, local_id, data FROM ledger_doc WHERE company=? AND state='submitted' "
			"AND local_type IN (?,?,?,?) ORDER BY seq",
			(company, C.INVOICE, C.CREDIT_MEMO, C.PAYMENT, C.REFUND),
		)
		docs = [(r["local_type"], r["local_id"], R.loads(r["data"])) for r in rows]
		applied: dict[tuple[str, str], Decimal] = {}
		# home currency as ERPNext's ledger carries each document: its home total less what each payment took
		# off at the DOCUMENT's rate (the Payment Entry's exchange gain/loss journal squares the difference to
		# the payment's rate) and each credit note against it at the note's own home total
		relieved: dict[tuple[str, str], Decimal] = {}
		rates = {(t, i): Decimal(str(d.get("exchange_rate") or 1)) for t, i, d in docs}
		for local_type, _local_id, data in docs:
			if local_type in (C.PAYMENT, C.REFUND):
				for app in data.get("applications") or []:
					key = (app.get("doc_type", C.INVOICE), app["doc_key"])
					applied[key] = applied.get(key, Decimal(0)) + R.money(app["amount"])
					relieved[key] = relieved.get(key, Decimal(0)) + R.money(R.money(app["amount"]) * rates.get(key, 1))
			elif local_type == C.CREDIT_MEMO and data.get("against_invoice"):
				key = (C.INVOICE, data["against_invoice"])
				applied[key] = applied.get(key, Decimal(0)) + R.money(data.get("total"))
				relieved[key] = relieved.get(key, Decimal(0)) + self._home_total(data)
		out = []
		for local_type, local_id, data in docs:
			if as_of is not None and (data.get("txn_date") or "") > as_of.isoformat():
				continue
			if local_type == C.PAYMENT:
				amount = -R.money(data.get("unapplied") or 0)
			elif local_type == C.REFUND:  # what it pays out beyond its credit notes is owed back (an advance)
				amount = R.money(R.money(data.get("total")) - sum((R.money(a["amount"]) for a in data.get("applications") or []), Decimal(0)))
			elif local_type == C.CREDIT_MEMO and data.get("against_invoice"):
				continue
			else:
				amount = R.money(R.money(data.get("total")) - applied.get((local_type, local_id), Decimal(0)))
				if local_type == C.CREDIT_MEMO:
					amount = -amount
			if amount == 0:
				continue
			rate = Decimal(str(data.get("exchange_rate") or 1))
			if data.get("revaluation_rate"):
				home = R.money(amount * Decimal(str(data["revaluation_rate"])))
			elif local_type == C.PAYMENT:
				home = R.money(amount * rate)
			else:
				sign = -1 if local_type == C.CREDIT_MEMO else 1
				home = sign * R.money(self._home_total(data) - relieved.get((local_type, local_id), Decimal(0)))
			out.append({
				"local_type": local_type,
				"local_id": local_id,
				"customer": data.get("customer"),
				"currency": data.get("currency") or "USD",
				"txn_date": data.get("txn_date"),
				"outstanding": amount,
				"outstanding_home": home,
				"exchange_rate": rate,
				"revalued": bool(data.get("revaluation_rate")),
			})
		return out

	def receivable_home_balances(self, company: str, as_of: date | None = None) -> dict[str, Decimal]:
		"""The Ledger port's party-wise home-currency AR: here each open document carries its own revaluation
		rate, so a customer's home figure is the sum of its open documents' (ERPNext books it party-wise; see
		erpnext/ledger.py)."""
		out: dict[str, Decimal] = {}
		for row in self.open_balances(company, as_of):
			key = row["customer"]
			out[key] = R.money(out.get(key, Decimal(0)) + row["outstanding_home"])
		return out

	def revalue(self, company: str, local_type: str, local_id: str, rate: Any) -> None:
		"""ERPNext's Exchange Rate Revaluation of one open foreign-currency document: its home-currency
		outstanding follows the new rate (a journal entry in ERPNext), the document-currency amount and the
		document itself stay as they are, and nothing is sent to QBO (QBO keeps the original rate)."""
		with self.db.transaction() as conn:
			row = self._row(company, local_type, local_id)
			if row is None or row["state"] != "submitted":
				raise LedgerError(f"{local_type} {local_id} is not submitted")
			data = R.loads(row["data"])
			data["revaluation_rate"] = Decimal(str(rate))
			conn.execute(
				"UPDATE ledger_doc SET data=? WHERE company=? AND local_type=? AND local_id=?",
				(R.dumps(data), company, local_type, local_id),
			)
