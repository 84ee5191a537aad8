"""The AR tie-out (invariant 9): ERPNext outstanding vs QBO open balance, per open document, per customer and
in total, in the document currency and in home currency, with the cause of every difference.

Why here: the promise is "one financial truth". Transport guarantees (no duplicate, no lost change) do not
prove that the two books agree; this does, from both books as they stand, and says why they do not.

How QBO is read (never one request per document): paged queries of open Invoices and CreditMemos
(`Balance > '0'`), every Payment (UnappliedAmt is not a filterable property, so payments are read page by page
and filtered here), every Customer (`Balance`); then, for documents open in ERPNext only, their QBO records
with `Id IN (...)` in chunks. The number of requests grows with pages, not documents.

Signs: invoices are positive, open credit (credit notes, unapplied payments) is negative, on both sides.
Balances are as both books stand at the time of the run; `as_of` selects the documents dated on or before it
and names the day the result is kept under (one per realm and day). Customer rows compare QBO's
`Customer.Balance` with the sum of ERPNext's open documents of that customer (all dates, as QBO does).

Causes, first that applies: an open review item on the document, an outbox entry of it still waiting, a date
before the realm's go-live (sync start date), no link to the other side, a currency revaluation (equal in the
document currency, different in home currency), an open review item or waiting change of another document of
the same customer; otherwise "unexplained", which opens one review item per document (or per customer when
only the customer differs), refreshed on later runs and resolved by the first run that finds it gone.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from nexora_qbo.sync import audit
from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.merge import LABELS
from nexora_qbo.sync.ports import Conflict

ZERO = Decimal("0.00")
TRANSACTION_TYPES = (C.INVOICE, C.CREDIT_MEMO, C.PAYMENT)
QBO_TYPES = {C.QBO_ENTITY[t]: t for t in TRANSACTION_TYPES}
SIGN = {C.INVOICE: 1, C.CREDIT_MEMO: -1, C.PAYMENT: -1}
STATE_WORDS = {
	C.PENDING: "waiting to be sent",
	C.IN_FLIGHT: "being sent",
	C.FAILED: "failed and will be retried",
	C.PARKED: "held until its review item is resolved",
}
TIE_OUT_BY = "tie-out"


# --------------------------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------------------------


@dataclass
class TieOutRow:
	"""One compared document (level "document") or customer (level "customer")."""

	level: str
	local_type: str | None
	local_id: str | None
	qbo_entity: str | None
	qbo_id: str | None
	customer: str | None  # local customer id, or the QBO customer's name when it is not in ERPNext
	currency: str | None
	txn_date: str | None
	doc_number: str | None
	erpnext: Decimal = ZERO
	qbo: Decimal = ZERO
	erpnext_home: Decimal = ZERO
	qbo_home: Decimal = ZERO
	cause: str | None = None
	explanation: str = ""
	conflict_id: str | None = None
	qbo_customer_id: str | None = None
	# foreign currency: each book's rate of the document, whether ERPNext revalued it, and how many roundings
	# of a home amount (lines, payments) each book made on it (the bound of a rounding-only home difference)
	erpnext_rate: Decimal | None = None
	qbo_rate: Decimal | None = None
	revalued: bool = False
	roundings: int = 1

	@property
	def difference(self) -> Decimal:
		return R.money(self.erpnext - self.qbo)

	@property
	def difference_home(self) -> Decimal:
		return R.money(self.erpnext_home - self.qbo_home)

	@property
	def differs(self) -> bool:
		return self.difference != 0 or self.difference_home != 0

	@property
	def label(self) -> str:
		if self.level == "customer":
			return f"customer {self.customer or self.qbo_id}"
		what = LABELS.get(self.local_type or QBO_TYPES.get(self.qbo_entity or "", ""), "document")
		return f"{what} {self.local_id or self.doc_number or ('QuickBooks #' + str(self.qbo_id))}"

	def to_dict(self) -> dict:
		d = asdict(self)
		d.update(difference=self.difference, difference_home=self.difference_home, label=self.label)
		return d


@dataclass
class TieOut:
	realm_id: str
	company: str
	as_of: date
	home_currency: str
	run_at: datetime | None = None
	documents: list[TieOutRow] = field(default_factory=list)
	customers: list[TieOutRow] = field(default_factory=list)
	requests: int = 0  # HTTP exchanges this run made with QBO
	# ERPNext's party-wise home-currency AR (its ledger, revaluations included) over its documents' home amounts
	home_adjustment: Decimal = ZERO

	@property
	def differences(self) -> list[TieOutRow]:
		return [r for r in self.documents + self.customers if r.differs]

	@property
	def unexplained(self) -> list[TieOutRow]:
		return [r for r in self.differences if r.cause == C.CAUSE_UNEXPLAINED]

	@property
	def unexplained_count(self) -> int:
		return len(self.unexplained)

	def totals(self) -> dict:
		"""Home currency over the compared documents, and per document currency."""
		by_cur: dict[str, dict[str, Decimal]] = defaultdict(lambda: {"erpnext": ZERO, "qbo": ZERO})
		home = {"erpnext": ZERO, "qbo": ZERO}
		for r in self.documents:
			by_cur[r.currency or self.home_currency]["erpnext"] += r.erpnext
			by_cur[r.currency or self.home_currency]["qbo"] += r.qbo
			home["erpnext"] += r.erpnext_home
			home["qbo"] += r.qbo_home
		home["erpnext"] += self.home_adjustment
		home["difference"] = R.money(home["erpnext"] - home["qbo"])
		currencies = {}
		for cur, v in sorted(by_cur.items()):
			currencies[cur] = {**v, "difference": R.money(v["erpnext"] - v["qbo"])}
		return {"home_currency": self.home_currency, "home": home, "by_currency": currencies}

	def counts(self) -> dict:
		return {
			"documents": len(self.documents),
			"customers": len(self.customers),
			"differences": len(self.differences),
			"document_differences": sum(1 for r in self.documents if r.differs),
			"customer_differences": sum(1 for r in self.customers if r.differs),
			"unexplained": self.unexplained_count,
			"requests": self.requests,
		}

	def summary(self) -> dict:
		"""What Store.save_tie_out keeps for the day (JSON-able, Decimals round-trip through records.dumps)."""
		return {
			"realm_id": self.realm_id,
			"company": self.company,
			"as_of": self.as_of.isoformat(),
			"run_at": self.run_at.isoformat() if self.run_at else None,
			"totals": self.totals(),
			"counts": self.counts(),
			"differences": [r.to_dict() for r in self.differences],
		}


# --------------------------------------------------------------------------------------------------------
# reading both books
# --------------------------------------------------------------------------------------------------------


def _dec(value: Any) -> Decimal:
	return R.money(value if value not in (None, "") else 0)


def _qbo_amounts(entity: str, obj: dict) -> tuple[Decimal, Decimal]:
	"""Signed open balance of a QBO document, in its currency and in home currency (at its own rate)."""
	rate = Decimal(str(obj.get("ExchangeRate") or 1))
	if entity == "Payment":
		amount = _dec(obj.get("UnappliedAmt"))
		home = R.money(amount * rate)
	else:
		amount = _dec(obj.get("Balance"))
		home = _dec(obj["HomeBalance"]) if obj.get("HomeBalance") is not None else R.money(amount * rate)
	sign = SIGN[QBO_TYPES[entity]]
	return sign * amount, sign * home


def _roundings(obj: dict) -> int:
	"""How many home amounts were rounded on a QBO document's way to its open home balance: one per item line
	(ERPNext rounds each line's home amount) and one per payment or credit applied to it (each relieved at the
	document's rate, rounded), at least one."""
	lines = sum(1 for ln in obj.get("Line") or [] if ln.get("DetailType") == "SalesItemLineDetail")
	links = sum(1 for lt in obj.get("LinkedTxn") or [] if lt.get("TxnType") in ("Payment", "CreditMemo"))
	return max(1, lines + links)


def _ref(obj: dict, key: str) -> str | None:
	ref = obj.get(key)
	return str(ref["value"]) if isinstance(ref, dict) and ref.get("value") is not None else None


class _QBOSide:
	"""Open QBO documents and customers, read page by page."""

	def __init__(self, client):
		self.client = client
		self.docs: dict[tuple[str, str], dict] = {}
		self.payments: dict[str, dict] = {}  # every payment (read anyway: UnappliedAmt is not filterable)
		self.customers: dict[str, dict] = {}

	def read_open(self) -> None:
		for entity, where in C.TIE_OUT_OPEN_WHERE.items():
			for obj in self.client.query_all(entity, where=where):
				self.docs[(entity, str(obj["Id"]))] = obj
		for obj in self.client.query_all("Payment"):
			self.payments[str(obj["Id"])] = obj
			if _dec(obj.get("UnappliedAmt")) > 0:
				self.docs[("Payment", str(obj["Id"]))] = obj
		for obj in self.client.query_all("Customer"):
			self.customers[str(obj["Id"])] = obj

	def read_ids(self, entity: str, ids: list[str]) -> None:
		"""Documents open on the ERPNext side only: their QBO records, `Id IN (...)` in chunks."""
		if entity == "Payment":
			for i in ids:
				if i in self.payments:
					self.docs[(entity, i)] = self.payments[i]
		wanted = sorted({i for i in ids if (entity, i) not in self.docs}, key=lambda i: (len(i), i))
		for start in range(0, len(wanted), C.TIE_OUT_ID_CHUNK):
			chunk = wanted[start : start + C.TIE_OUT_ID_CHUNK]
			where = "Id IN (" + ", ".join(f"'{i}'" for i in chunk) + ")"
			for obj in self.client.query_all(entity, where=where):
				self.docs[(entity, str(obj["Id"]))] = obj


# --------------------------------------------------------------------------------------------------------
# the tie-out
# --------------------------------------------------------------------------------------------------------


class TieOutRun:
	"""One tie-out of one realm (engine facade: SyncEngine.tie_out)."""

	def __init__(self, engine, realm_id: str, as_of: date):
		self.engine = engine
		self.store = engine.store
		self.ledger = engine.ledger
		self.ctx = engine.context(realm_id)
		self.settings = self.ctx.settings
		self.realm_id = realm_id
		self.company = self.ctx.company
		self.as_of = as_of
		self.by_local: dict[tuple[str, str], Any] = {}
		self.by_qbo: dict[tuple[str, str], Any] = {}
		# per customer: ERPNext's party-wise home AR less its documents' home amounts (revaluation journals)
		self.home_adjustments: dict[str, Decimal] = {}
		for m in self.store.list_mappings(realm_id):
			self.by_local[(m.local_type, m.local_id)] = m
			self.by_qbo[(m.qbo_entity, str(m.qbo_id))] = m

	# ------------------------------------------------------------------------------------------ compare
	def compare(self) -> TieOut:
		result = TieOut(self.realm_id, self.company, self.as_of, self.settings.home_currency,
			run_at=self.engine.clock.now())
		before = len(self.store.list_audit(self.realm_id, since=result.run_at)) if result.run_at else 0
		qbo = _QBOSide(self.ctx.client)
		local_rows = self.ledger.open_balances(self.company, None)
		with audit.operation(C.INBOUND):
			qbo.read_open()
			one_sided: dict[str, list[str]] = defaultdict(list)
			for row in local_rows:
				m = self.by_local.get((row["local_type"], row["local_id"]))
				if m is not None and (m.qbo_entity, str(m.qbo_id)) not in qbo.docs:
					one_sided[m.qbo_entity].append(str(m.qbo_id))
			for entity, ids in one_sided.items():
				qbo.read_ids(entity, ids)
		rows = self._document_rows(local_rows, qbo)
		customers = self._customer_rows(rows, qbo)
		result.home_adjustment = self._ledger_home(customers)
		self._explain(rows, customers)
		result.documents = [r for r in rows if (r.txn_date or "") <= self.as_of.isoformat()]
		result.customers = customers
		if result.run_at:
			result.requests = len(self.store.list_audit(self.realm_id, since=result.run_at)) - before
		return result

	def _document_rows(self, local_rows: list[dict], qbo: _QBOSide) -> list[TieOutRow]:
		rows: dict[tuple[str, str], TieOutRow] = {}
		for lr in local_rows:
			m = self.by_local.get((lr["local_type"], lr["local_id"]))
			row = TieOutRow(
				"document", lr["local_type"], lr["local_id"], m.qbo_entity if m else C.QBO_ENTITY[lr["local_type"]],
				str(m.qbo_id) if m else None, lr.get("customer"), lr.get("currency"), lr.get("txn_date"),
				None, erpnext=R.money(lr["outstanding"]), erpnext_home=R.money(lr["outstanding_home"]),
				erpnext_rate=Decimal(str(lr["exchange_rate"])) if lr.get("exchange_rate") is not None else None,
				revalued=bool(lr.get("revalued")),
			)
			if m is not None:
				obj = qbo.docs.get((m.qbo_entity, str(m.qbo_id)))
				if obj is not None:
					row.qbo, row.qbo_home = _qbo_amounts(m.qbo_entity, obj)
					row.doc_number = obj.get("DocNumber")
					row.qbo_customer_id = _ref(obj, "CustomerRef")
					row.qbo_rate = Decimal(str(obj.get("ExchangeRate") or 1))
					row.roundings = _roundings(obj)
			rows[(lr["local_type"], lr["local_id"])] = row
		for (entity, qbo_id), obj in qbo.docs.items():
			m = self.by_qbo.get((entity, qbo_id))
			if m is not None and (m.local_type, m.local_id) in rows:
				continue
			amount, home = _qbo_amounts(entity, obj)
			if amount == 0 and home == 0:
				continue
			cust_qbo = _ref(obj, "CustomerRef")
			cm = self.by_qbo.get(("Customer", cust_qbo)) if cust_qbo else None
			customer = cm.local_id if cm else ((obj.get("CustomerRef") or {}).get("name") or cust_qbo)
			row = TieOutRow(
				"document", m.local_type if m else None, m.local_id if m else None, entity, qbo_id, customer,
				_ref(obj, "CurrencyRef") or self.settings.home_currency, obj.get("TxnDate"), obj.get("DocNumber"),
				qbo=amount, qbo_home=home, qbo_customer_id=cust_qbo,
			)
			rows[(m.local_type, m.local_id) if m else (entity, qbo_id)] = row
		return list(rows.values())

	def _customer_rows(self, rows: list[TieOutRow], qbo: _QBOSide) -> list[TieOutRow]:
		"""ERPNext: the sum of the customer's open documents. QBO: Customer.Balance (its own currency)."""
		out: dict[str, TieOutRow] = {}

		def row_for(local_id: str | None, qbo_id: str | None, name: str | None) -> TieOutRow:
			key = local_id or f"qbo:{qbo_id}"
			if key not in out:
				out[key] = TieOutRow("customer", C.CUSTOMER if local_id else None, local_id,
					"Customer", qbo_id, local_id or name, None, None, None)
			return out[key]

		for r in rows:
			if r.local_id is None:
				continue  # a QBO-only document is counted through its QBO customer below
			m = self.by_local.get((C.CUSTOMER, r.customer)) if r.customer else None
			c = row_for(r.customer, str(m.qbo_id) if m else None, r.customer)
			c.erpnext += r.erpnext
			c.erpnext_home += r.erpnext_home
			c.currency = c.currency or r.currency
		for r in rows:
			if r.qbo_customer_id is not None or r.local_id is None:
				m = self.by_qbo.get(("Customer", r.qbo_customer_id)) if r.qbo_customer_id else None
				c = row_for(m.local_id if m else None, r.qbo_customer_id, r.customer)
				c.qbo_home += r.qbo_home
		for qbo_id, obj in qbo.customers.items():
			balance = _dec(obj.get("Balance"))
			m = self.by_qbo.get(("Customer", qbo_id))
			key = m.local_id if m else f"qbo:{qbo_id}"
			if balance == 0 and key not in out:
				continue
			c = row_for(m.local_id if m else None, qbo_id, obj.get("DisplayName"))
			c.qbo = balance
			c.currency = c.currency or _ref(obj, "CurrencyRef")
		for c in out.values():
			c.erpnext, c.erpnext_home, c.qbo_home = R.money(c.erpnext), R.money(c.erpnext_home), R.money(c.qbo_home)
		return sorted(out.values(), key=lambda c: str(c.customer))

	def _ledger_home(self, customers: list[TieOutRow]) -> Decimal:
		"""Each customer's ERPNext home amount as the ledger carries it party-wise (Ledger.receivable_home_balances:
		ERPNext books a revaluation per customer, never per document), in place of the sum of its documents'
		home amounts; a customer the realm knows whose only AR left is such a home amount gets its own row.
		Returns what this adds over the documents (the revaluation), for the totals."""
		read = getattr(self.ledger, "receivable_home_balances", None)
		home = read(self.company, None) if read is not None else None
		if home is None:
			return ZERO
		adjustment = ZERO
		seen = set()
		for c in customers:
			if c.local_id is None:
				continue
			seen.add(c.local_id)
			figure = R.money(home.get(c.local_id, ZERO))
			adjustment += figure - c.erpnext_home
			self.home_adjustments[c.local_id] = R.money(figure - c.erpnext_home)
			c.erpnext_home = figure
		for customer, figure in home.items():
			m = self.by_local.get((C.CUSTOMER, customer))
			if customer in seen or m is None or R.money(figure) == 0:
				continue
			customers.append(TieOutRow("customer", C.CUSTOMER, customer, "Customer", str(m.qbo_id), customer, None,
				None, None, erpnext_home=R.money(figure)))
			self.home_adjustments[customer] = R.money(figure)
			adjustment += R.money(figure)
		customers.sort(key=lambda c: str(c.customer))
		return R.money(adjustment)

	# ------------------------------------------------------------------------------------------ causes
	def _explain(self, rows: list[TieOutRow], customers: list[TieOutRow]) -> None:
		conflicts = [c for c in self.store.list_conflicts(self.realm_id, status=C.OPEN)
			if c.kind != C.UNEXPLAINED_DIFFERENCE]
		waiting = self.store.list_outbox(self.realm_id, states=C.WAITING_STATES)
		self.dismissed = [c for c in self.store.list_conflicts(self.realm_id, status=C.RESOLVED)
			if c.kind == C.UNEXPLAINED_DIFFERENCE and c.resolution == C.RESOLUTION_ACCEPTED_DIFFERENCE]
		customer_of: dict[tuple[str, str], str | None] = {}

		def cust(local_type: str | None, local_id: str | None, version: dict | None = None) -> str | None:
			if not local_type:
				return None
			if local_type == C.CUSTOMER and local_id:
				return local_id
			if version and version.get("customer"):  # also an item on a QBO record never booked here
				return version["customer"]
			if not local_id:
				return None
			key = (local_type, local_id)
			if key not in customer_of:
				doc = self.ledger.get(self.company, local_type, local_id)
				customer_of[key] = doc.get("customer") if doc else None
			return customer_of[key]

		conflict_customer = [(c, cust(c.local_type, c.local_id, c.local_version or c.qbo_version)) for c in conflicts]
		waiting_customer = [(e, cust(e.local_type, e.local_id)) for e in waiting]
		for r in rows:
			if r.differs:
				self._explain_document(r, conflict_customer, waiting_customer)
		by_customer: dict[str | None, list[TieOutRow]] = defaultdict(list)
		for r in rows:
			by_customer[r.customer].append(r)
		self._by_customer = by_customer
		for c in customers:
			if not c.differs:
				continue
			docs = [r for r in by_customer.get(c.customer, []) if r.differs]
			home_docs = R.money(sum((r.difference_home for r in docs), ZERO))
			if docs and R.money(sum((r.difference for r in docs), ZERO)) == c.difference and (
				c.difference != 0 or home_docs == c.difference_home):
				c.cause = C.CAUSE_DOCUMENTS
				names = ", ".join(r.label for r in docs[:5]) + (" …" if len(docs) > 5 else "")
				c.explanation = (f"The difference is the sum of the differences of its documents ({names}); "
					"each is explained on its own line.")
				continue
			self._explain_customer(c, conflict_customer, waiting_customer)

	def _explain_document(self, r: TieOutRow, conflict_customer, waiting_customer) -> None:
		start = self.settings.sync_start_date
		for c, _ in conflict_customer:
			if (r.local_id and (c.local_type, c.local_id) == (r.local_type, r.local_id)) or (
				r.qbo_id and (c.qbo_entity, str(c.qbo_id or "")) == (r.qbo_entity, r.qbo_id)):
				r.cause, r.conflict_id = C.CAUSE_REVIEW_ITEM, c.id
				r.explanation = (f"Review item {c.id} on this document explains it: {_short(c.reason)} Resolve that "
					"item as its text advises; the next tie-out checks again.")
				return
		for e, _ in waiting_customer:
			if r.local_id and (e.local_type, e.local_id) == (r.local_type, r.local_id):
				r.cause = C.CAUSE_WAITING
				r.explanation = _waiting_words(e, "This document's change")
				return
		if start and r.txn_date and r.txn_date < start.isoformat():
			r.cause = C.CAUSE_BEFORE_GO_LIVE
			r.explanation = (f"Dated {r.txn_date}, before the realm's sync start date {start.isoformat()}, so it was "
				"never synced. Bring it in as an opening balance, or move the sync start date on the QBO Realm.")
			return
		if r.local_id is None:
			r.cause = C.CAUSE_NOT_MAPPED
			r.explanation = ("This QuickBooks document was never brought into ERPNext. Run a sync; if it stays, look "
				"for it in the review queue.")
			return
		if r.qbo_id is None:
			r.cause = C.CAUSE_NOT_MAPPED
			r.explanation = ("This document never reached QuickBooks (it is not linked to a QuickBooks record). Run a "
				"sync; if it stays, look for it in the QBO Outbox and the review queue.")
			return
		if r.difference == 0 and r.revalued:
			r.cause = C.CAUSE_REVALUATION
			r.explanation = (f"Both books show {r.currency} {r.erpnext}; only the home-currency amounts differ "
				f"({r.erpnext_home} in ERPNext, {r.qbo_home} in QuickBooks) because ERPNext revalued it at a newer "
				"exchange rate while QuickBooks keeps the rate of the document. No action is needed.")
			return
		if r.difference == 0 and _home_rounding(r):
			r.cause = C.CAUSE_HOME_ROUNDING
			r.explanation = (f"Both books show {r.currency} {r.erpnext} at the same rate ({r.qbo_rate}); the home-currency "
				f"amounts differ by {r.difference_home} ({r.erpnext_home} in ERPNext, {r.qbo_home} in QuickBooks) only "
				"because each book rounds differently: ERPNext adds each line's rounded home amount and takes each "
				"payment off at the invoice's rate, rounded; QuickBooks rounds the open balance times the rate once. "
				"Nothing is wrong in either book; the difference stays on this list so that it is seen. To make it "
				"vanish, post a small exchange-rate adjustment in ERPNext (Journal Entry to the exchange gain/loss "
				"account).")
			return
		self._explain_related_or_unexplained(r, conflict_customer, waiting_customer)

	def _rows_of(self, customer: str | None) -> list[TieOutRow]:
		return list(getattr(self, "_by_customer", {}).get(customer, [])) if customer else []

	def _explain_customer(self, c: TieOutRow, conflict_customer, waiting_customer) -> None:
		for k, _ in conflict_customer:
			if c.local_id and (k.local_type, k.local_id) == (C.CUSTOMER, c.local_id):
				c.cause, c.conflict_id = C.CAUSE_REVIEW_ITEM, k.id
				c.explanation = f"Review item {k.id} on this customer explains it: {_short(k.reason)}"
				return
		for e, _ in waiting_customer:
			if c.local_id and (e.local_type, e.local_id) == (C.CUSTOMER, c.local_id):
				c.cause = C.CAUSE_WAITING
				c.explanation = _waiting_words(e, "This customer's change")
				return
		if c.local_id is None or c.qbo_id is None:
			c.cause = C.CAUSE_NOT_MAPPED
			c.explanation = ("This customer is in one book only (not linked to the other side). Run a sync; if it "
				"stays, look for it in the review queue.")
			return
		adjustment = self.home_adjustments.get(c.local_id or "", ZERO)
		docs_home = R.money(sum((r.difference_home for r in self._rows_of(c.local_id)), ZERO))
		if c.difference == 0 and adjustment != 0 and c.difference_home == R.money(docs_home + adjustment):
			# only what ERPNext booked party-wise (its Exchange Rate Revaluation journals), never any home gap
			c.cause = C.CAUSE_REVALUATION
			c.explanation = (f"Both books show {c.currency} {c.erpnext} for this customer; only the home-currency "
				f"amounts differ ({c.erpnext_home} in ERPNext, {c.qbo_home} in QuickBooks) because of an exchange-rate "
				f"revaluation in ERPNext ({adjustment} booked on the customer, not on a document). No action is needed.")
			return
		self._explain_related_or_unexplained(c, conflict_customer, waiting_customer)

	def _explain_related_or_unexplained(self, r: TieOutRow, conflict_customer, waiting_customer) -> None:
		customer = r.customer if r.level == "document" else r.local_id
		if customer:
			for c, who in conflict_customer:
				if who == customer:
					r.cause, r.conflict_id = C.CAUSE_RELATED_REVIEW_ITEM, c.id
					what = LABELS.get(c.local_type or "", "document")
					r.explanation = (f"Review item {c.id} on {what} {c.local_id} of the same customer is still open: "
						f"{_short(c.reason)} Resolve it; the next tie-out checks again.")
					return
			for e, who in waiting_customer:
				if who == customer:
					r.cause = C.CAUSE_RELATED_WAITING
					what = LABELS.get(e.local_type, e.local_type)
					r.explanation = _waiting_words(e, f"A change to {what} {e.local_id} of the same customer")
					return
		accepted = [c for c in self.dismissed if _item_key(c) == _row_key(r) and c.diffs == _diffs(r)]
		if accepted:
			c = accepted[-1]
			r.cause, r.conflict_id = C.CAUSE_ACCEPTED, c.id
			when = c.resolved_at.date().isoformat() if c.resolved_at else ""
			r.explanation = (f"{c.resolved_by or 'A person'} accepted this difference on {when} (review item "
				f"{c.id}); it is shown again as unexplained as soon as the amounts change.")
			return
		r.cause = C.CAUSE_UNEXPLAINED
		cur = f"{r.currency} " if r.currency else ""
		if r.difference != 0:
			amounts = (f"ERPNext shows {cur}{r.erpnext} outstanding on {r.label}, QuickBooks shows {cur}{r.qbo} "
				f"(difference {cur}{r.difference}).")
		else:
			amounts = (f"In home currency ERPNext shows {r.erpnext_home} outstanding on {r.label}, QuickBooks shows "
				f"{r.qbo_home} (difference {r.difference_home}).")
			if r.erpnext_rate is not None and r.qbo_rate is not None and r.erpnext_rate != r.qbo_rate:
				amounts += (f" The two books carry different exchange rates for it (ERPNext {r.erpnext_rate}, "
					f"QuickBooks {r.qbo_rate}).")
		r.explanation = (f"{amounts} The sync knows no reason for this. Compare the payments and credit notes of "
			"this document in both books and correct the one that is wrong, then press \u201cRetry\u201d to check "
			"again, or \u201cAccept the difference\u201d to keep the books apart knowingly.")

	# ------------------------------------------------------------------------------------------ review items
	def reconcile_items(self, result: TieOut, *, only: tuple[str | None, str | None] | None = None) -> None:
		"""One open "unexplained_difference" item per unexplained row (refreshed, never duplicated); items whose
		difference is gone (or now has a known cause) are resolved. `only` limits this to one document."""
		now = self.engine.clock.now()
		open_items = [c for c in self.store.list_conflicts(self.realm_id, status=C.OPEN)
			if c.kind == C.UNEXPLAINED_DIFFERENCE]
		kept: set[str] = set()
		for r in result.unexplained:
			key = _row_key(r)
			if only is not None and key != only:
				continue
			item = next((c for c in open_items if _item_key(c) == key), None)
			version = {k: str(v) if isinstance(v, Decimal) else v for k, v in r.to_dict().items()}
			if item is None:
				item = self.store.add_conflict(Conflict(
					realm_id=self.realm_id, local_type=r.local_type, local_id=r.local_id, qbo_entity=r.qbo_entity,
					qbo_id=r.qbo_id, kind=C.UNEXPLAINED_DIFFERENCE, reason=r.explanation, local_version=version,
					qbo_version=None, base_version=None, diffs=_diffs(r), actions=[C.ACTION_RETRY, C.ACTION_ACCEPT_DIFFERENCE],
					created_at=now,
				))
				open_items.append(item)
			elif item.reason != r.explanation or item.diffs != _diffs(r):
				item.reason, item.local_version, item.diffs = r.explanation, version, _diffs(r)
				self.store.save_conflict(item)
			r.conflict_id = item.id
			kept.add(item.id)
		for c in open_items:
			if c.id in kept or (only is not None and _item_key(c) != only):
				continue
			c.status, c.resolution, c.resolved_by, c.resolved_at = C.RESOLVED, "difference gone", TIE_OUT_BY, now
			self.store.save_conflict(c)


def _home_rounding(r: TieOutRow) -> bool:
	"""Same document amount, same rate, and a home difference no larger than one cent per rounding either book
	made on it: what rounding alone can produce (anything larger, or a different rate, is a real difference)."""
	if r.erpnext_rate is None or r.qbo_rate is None or r.erpnext_rate != r.qbo_rate or r.difference_home == 0:
		return False
	return abs(r.difference_home) <= R.money(Decimal("0.01") * max(1, r.roundings))


def _row_key(r: TieOutRow) -> tuple[str | None, str | None]:
	if r.local_id:
		return (r.local_type, r.local_id)
	return (r.qbo_entity, r.qbo_id)


def _item_key(c: Conflict) -> tuple[str | None, str | None]:
	if c.local_id:
		return (c.local_type, c.local_id)
	return (c.qbo_entity, c.qbo_id)


def _diffs(r: TieOutRow) -> list[dict]:
	out = []
	if r.difference != 0:
		out.append({"field": "outstanding", "base": None, "local": str(r.erpnext), "qbo": str(r.qbo)})
	if r.difference_home != 0:
		out.append({"field": "outstanding_home", "base": None, "local": str(r.erpnext_home), "qbo": str(r.qbo_home)})
	return out


def _short(text: str | None, limit: int = 160) -> str:
	text = (text or "").strip()
	if len(text) > limit:
		text = text[: limit - 1].rstrip() + "…"
	return text if text.endswith((".", "…")) else text + "."


def _waiting_words(e, subject: str) -> str:
	state = STATE_WORDS.get(e.state, e.state)
	error = f" Last error: {_short(e.last_error)}" if e.last_error else ""
	nxt = ("Resolve its review item" if e.state == C.PARKED else "It goes out with the next sync; if it keeps "
		"failing, open QBO Outbox entry " + str(e.id))
	return f"{subject} has not reached QuickBooks yet ({state}).{error} {nxt}, then the next tie-out checks again."


# --------------------------------------------------------------------------------------------------------
# plain words for a bookkeeper
# --------------------------------------------------------------------------------------------------------


def format_tie_out(result: TieOut | dict) -> str:
	"""The tie-out in plain words (the demo and the bench command print it)."""
	s = result.summary() if isinstance(result, TieOut) else result
	totals, counts = s["totals"], s["counts"]
	home = totals["home"]
	hc = totals.get("home_currency") or ""
	lines = [f"AR tie-out — {s['company']} (realm {s['realm_id']}), as of {s['as_of']}", ""]
	lines.append(f"Open documents compared: {counts['documents']}; customers compared: {counts['customers']}")
	for cur, v in totals["by_currency"].items():
		lines.append(f"  in {cur}: ERPNext {v['erpnext']}, QuickBooks {v['qbo']}, difference {v['difference']}")
	lines.append(f"Total in {hc}: ERPNext AR {home['erpnext']}, QuickBooks A/R {home['qbo']}, "
		f"difference {home['difference']}")
	diffs = s["differences"]
	customers = [d for d in diffs if d["level"] == "customer"]
	documents = [d for d in diffs if d["level"] == "document"]
	lines.append("")
	if not diffs:
		lines.append("Both books agree to the cent on every open document and every customer.")
	else:
		lines.append(f"Customers that differ: {len(customers)}")
		for d in customers:
			lines.append(f"  - {d['customer']}: ERPNext {d['currency'] or ''} {d['erpnext']}, QuickBooks {d['qbo']} "
				f"(difference {d['difference']}). {d['explanation']}")
		lines.append(f"Documents that differ: {len(documents)}")
		for d in documents:
			lines.append(f"  - {d['label']} ({d['customer']}): ERPNext {d['erpnext']}, QuickBooks {d['qbo']} "
				f"(difference {d['difference']}). {d['explanation']}")
	lines.append("")
	lines.append(f"Unexplained: {counts['unexplained']}")
	return "\n".join(lines)


__all__ = ["TieOut", "TieOutRow", "TieOutRun", "format_tie_out"]
