"""An independent month-end checker: do both books tie, per invoice and per customer, and does every
remaining difference have an open review item?

Computed WITHOUT nexora_qbo.sync.tieout (so a bug there cannot hide itself): QBO is read over HTTP by the
sandbox's own Bookkeeper client (a separate OAuth app), the ledger through its own `get`/`list_all` (each
document's outstanding as the ledger computes it), the links from the store's mappings. Used by the
month-end scenario tests and the reliability checker.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from nexora_qbo.sync import constants as C

ZERO = Decimal("0.00")


def _d(value) -> Decimal:
	return Decimal(str(value if value not in (None, "") else 0)).quantize(Decimal("0.01"))


@dataclass
class Difference:
	level: str  # "document" | "customer"
	what: str  # e.g. "invoice SINV-NSI-00001" / "Invoice 12" / "customer Acme"
	erpnext: Decimal
	qbo: Decimal
	covered_by: list[str] = field(default_factory=list)  # ids of open review items naming it


@dataclass
class MonthEndCheck:
	differences: list[Difference] = field(default_factory=list)
	documents: int = 0
	customers: int = 0

	@property
	def uncovered(self) -> list[Difference]:
		return [d for d in self.differences if not d.covered_by]


def _all(bk, entity: str) -> list[dict]:
	out, start = [], 1
	while True:
		page = bk.query(f"select * from {entity} STARTPOSITION {start} MAXRESULTS 1000").get(entity, [])
		out += page
		if len(page) < 1000:
			return out
		start += 1000


def check_month_end(bk, store, ledger, realm_id: str, company: str) -> MonthEndCheck:
	"""Per document: each local invoice / credit note / payment vs its QBO record (and each QBO open record vs
	its local one); per customer: QBO Customer.Balance vs the sum of the customer's local open amounts."""
	check = MonthEndCheck()
	qbo = {e: {str(o["Id"]): o for o in _all(bk, e)} for e in ("Invoice", "CreditMemo", "Payment")}
	qbo_customers = {str(o["Id"]): o for o in bk.query("select * from Customer where Active IN (true, false) "
		"MAXRESULTS 1000").get("Customer", [])}
	maps = {(m.local_type, m.local_id): m for m in store.list_mappings(realm_id)}
	by_qbo = {(m.qbo_entity, m.qbo_id): m for m in maps.values()}
	conflicts = store.list_conflicts(realm_id, status=C.OPEN)

	def covering(local_type, local_id, entity=None, qbo_id=None, customer=None) -> list[str]:
		ids = []
		for c in conflicts:
			if (local_id and (c.local_type, c.local_id) == (local_type, local_id)) or (
				qbo_id and (c.qbo_entity, str(c.qbo_id)) == (entity, str(qbo_id))):
				ids.append(c.id)
			elif customer and ((c.local_version or {}).get("customer") == customer or (
				c.local_type == C.CUSTOMER and c.local_id == customer)):
				ids.append(c.id)
		return ids

	def qbo_open(entity: str, obj: dict | None) -> Decimal:
		if obj is None:
			return ZERO
		if entity == "Payment":
			return -_d(obj.get("UnappliedAmt"))
		return _d(obj.get("Balance")) * (-1 if entity == "CreditMemo" else 1)

	local_by_customer: dict[str, Decimal] = defaultdict(lambda: ZERO)
	seen_qbo: set[tuple[str, str]] = set()
	for local_type, entity in ((C.INVOICE, "Invoice"), (C.CREDIT_MEMO, "CreditMemo"), (C.PAYMENT, "Payment")):
		for local_id in ledger.list_all(company, local_type):
			doc = ledger.get(company, local_type, local_id)
			if doc is None or doc.get("state") != "submitted":
				local = ZERO
			elif local_type == C.PAYMENT:
				local = -_d(doc.get("unapplied"))
			elif local_type == C.CREDIT_MEMO:
				local = -_d(doc.get("outstanding"))
			else:
				local = _d(doc.get("outstanding"))
			if doc is not None:
				local_by_customer[doc.get("customer")] += local
			m = maps.get((local_type, local_id))
			obj = qbo[entity].get(m.qbo_id) if m else None
			if m:
				seen_qbo.add((entity, m.qbo_id))
			remote = qbo_open(entity, obj)
			check.documents += 1
			if local != remote:
				check.differences.append(Difference("document", f"{local_type} {local_id}", local, remote,
					covering(local_type, local_id, entity, m.qbo_id if m else None, doc.get("customer") if doc else None)))
	for entity, objs in qbo.items():
		for qid, obj in objs.items():
			if (entity, qid) in seen_qbo:
				continue
			remote = qbo_open(entity, obj)
			if remote != 0:
				m = by_qbo.get(("Customer", str((obj.get("CustomerRef") or {}).get("value"))))
				check.documents += 1
				check.differences.append(Difference("document", f"{entity} {qid}", ZERO, remote,
					covering(None, None, entity, qid, m.local_id if m else None)))
	for qid, obj in qbo_customers.items():
		m = by_qbo.get(("Customer", qid))
		local = _d(local_by_customer.get(m.local_id, ZERO)) if m else ZERO
		remote = _d(obj.get("Balance"))
		if local == 0 and remote == 0:
			continue
		check.customers += 1
		if local != remote:
			name = m.local_id if m else obj.get("DisplayName")
			check.differences.append(Difference("customer", f"customer {name}", local, remote,
				covering(C.CUSTOMER, m.local_id if m else None, "Customer", qid, m.local_id if m else None)))
	return check


# ------------------------------------------------------------------------------------- cash per account
@dataclass
class CashCheck:
	"""Where the money sits (issue 13): per mapped account, QBO's balance and the ledger's."""

	qbo: dict[str, Decimal] = field(default_factory=dict)  # local account -> QBO balance
	erpnext: dict[str, Decimal] = field(default_factory=dict)

	@property
	def differences(self) -> dict[str, tuple[Decimal, Decimal]]:
		return {a: (self.erpnext.get(a, ZERO), q) for a, q in self.qbo.items() if self.erpnext.get(a, ZERO) != q}


def qbo_cash_by_account(bk) -> dict[str, Decimal]:
	"""debit - credit per QBO account Id, summed here from QBO's own Payments and Deposits (not from the
	sandbox's Account.CurrentBalance, not from the engine): a payment debits the account it was deposited to;
	a deposit debits its bank with its total, credits each deposited payment's account with that payment's
	amount, debits each other line's account with minus its amount (a fee of -12.50 is a 12.50 debit) and its
	cash-back account with the cash back."""
	out: dict[str, Decimal] = defaultdict(lambda: ZERO)
	payments = {str(p["Id"]): p for p in _all(bk, "Payment")}
	for p in payments.values():
		if "voided" not in str(p.get("PrivateNote") or "").lower():
			out[str((p.get("DepositToAccountRef") or {}).get("value"))] += _d(p.get("TotalAmt"))
	for dep in _all(bk, "Deposit"):
		out[str(dep["DepositToAccountRef"]["value"])] += _d(dep.get("TotalAmt"))
		for line in dep.get("Line") or []:
			links = [lt for lt in line.get("LinkedTxn") or [] if lt.get("TxnType") == "Payment"]
			if links:
				pay = payments[str(links[0]["TxnId"])]
				out[str(pay["DepositToAccountRef"]["value"])] -= _d(line.get("Amount"))
			else:
				out[str(line["DepositLineDetail"]["AccountRef"]["value"])] -= _d(line.get("Amount"))
		back = dep.get("CashBack") or {}
		if back:
			out[str(back["AccountRef"]["value"])] += _d(back.get("Amount"))
	return dict(out)


def check_cash(bk, store, ledger, realm_id: str, company: str, accounts: list[str]) -> CashCheck:
	"""Each named local account's balance in both books. A local payment that names no account was sent to
	QBO's default deposit account (records.py: not set locally = QBO's default), so it counts for the local
	account mapped to that default."""
	s = store.get_settings(realm_id)
	qbo = qbo_cash_by_account(bk)
	default_local = next((a for a, q in s.account_map.items() if str(q) == str(s.default_deposit_account_id)), None)
	check = CashCheck()
	check.qbo = {a: _d(qbo.get(str(s.account_map.get(a)), ZERO)) for a in accounts}
	check.erpnext = {a: _d(v) for a, v in ledger.account_balances(company, accounts, default_account=default_local).items()}
	return check


def check_home(bk, store, ledger, realm_id: str, company: str) -> MonthEndCheck:
	"""The same per document and per customer, in HOME currency: QBO's HomeBalance of each open invoice/credit
	memo (a payment's UnappliedAmt x its ExchangeRate), summed per QBO customer, against the ledger's own home
	amounts (Ledger.open_balances' outstanding_home; per customer its party-wise receivable_home_balances).
	Differences are listed whether or not a review item covers them (a rounding difference is still one)."""
	check = MonthEndCheck()
	maps = {(m.local_type, m.local_id): m for m in store.list_mappings(realm_id)}
	by_qbo = {(m.qbo_entity, m.qbo_id): m for m in maps.values()}

	def qbo_home(entity: str, obj: dict) -> Decimal:
		if entity == "Payment":
			return -_d(Decimal(str(obj.get("UnappliedAmt") or 0)) * Decimal(str(obj.get("ExchangeRate") or 1)))
		home = _d(obj.get("HomeBalance") if obj.get("HomeBalance") is not None else obj.get("Balance"))
		return -home if entity == "CreditMemo" else home

	remote: dict[tuple[str, str], Decimal] = {}
	remote_customer: dict[str, Decimal] = defaultdict(lambda: ZERO)
	for entity in ("Invoice", "CreditMemo", "Payment"):
		for obj in _all(bk, entity):
			amount = qbo_home(entity, obj)
			remote[(entity, str(obj["Id"]))] = amount
			remote_customer[str((obj.get("CustomerRef") or {}).get("value"))] += amount
	seen = set()
	for row in ledger.open_balances(company, None):
		m = maps.get((row["local_type"], row["local_id"]))
		key = (m.qbo_entity, m.qbo_id) if m else None
		seen.add(key)
		theirs = remote.get(key, ZERO) if key else ZERO
		check.documents += 1
		if _d(row["outstanding_home"]) != theirs:
			check.differences.append(Difference("document", f"{row['local_type']} {row['local_id']}",
				_d(row["outstanding_home"]), theirs))
	for key, amount in remote.items():
		if key not in seen and amount != 0:
			check.differences.append(Difference("document", f"{key[0]} {key[1]}", ZERO, amount))
	local_customer = ledger.receivable_home_balances(company, None)
	for qid in set(remote_customer) | {m.qbo_id for m in maps.values() if m.local_type == C.CUSTOMER}:
		m = by_qbo.get(("Customer", qid))
		mine = _d(local_customer.get(m.local_id, ZERO)) if m else ZERO
		theirs = _d(remote_customer.get(qid, ZERO))
		if mine == 0 and theirs == 0:
			continue
		check.customers += 1
		if mine != theirs:
			check.differences.append(Difference("customer", f"customer {m.local_id if m else qid}", mine, theirs))
	return check


# ------------------------------------------------------------------------------ income and cash (issue 13)
def _item_lines(obj: dict) -> Decimal:
	"""What a sales document's lines post to income: item lines less document discounts (tax excluded)."""
	items = sum((_d(ln.get("Amount")) for ln in obj.get("Line") or [] if ln.get("DetailType") == "SalesItemLineDetail"), ZERO)
	discount = sum((_d(ln.get("Amount")) for ln in obj.get("Line") or [] if ln.get("DetailType") == "DiscountLineDetail"), ZERO)
	return items - discount


def qbo_income(bk, since: str = "", until: str = "9999") -> Decimal:
	"""Income QBO booked in the period, read from its documents over HTTP: invoices +, credit memos and refund
	receipts -, journal entry lines to Income accounts (credit +, debit -)."""
	income_accounts = {str(a["Id"]) for a in _all(bk, "Account") if a.get("AccountType") == "Income"}
	total = ZERO
	for entity, sign in (("Invoice", 1), ("CreditMemo", -1), ("RefundReceipt", -1)):
		for obj in _all(bk, entity):
			if since <= str(obj.get("TxnDate")) <= until:
				total += sign * _item_lines(obj)
	for je in _all(bk, "JournalEntry"):
		if not since <= str(je.get("TxnDate")) <= until:
			continue
		for ln in je.get("Line") or []:
			d = ln.get("JournalEntryLineDetail") or {}
			if str((d.get("AccountRef") or {}).get("value")) in income_accounts:
				total += _d(ln.get("Amount")) * (1 if d.get("PostingType") == "Credit" else -1)
	return total


def ledger_income(ledger, company: str, since: str = "", until: str = "9999") -> Decimal:
	"""Income ERPNext booked in the period: the lines of submitted invoices less those of credit notes (a
	refund receipt brought from QBO is a credit note too); a refund of a credit note books none."""
	total = ZERO
	for local_type, sign in ((C.INVOICE, 1), (C.CREDIT_MEMO, -1), (C.REFUND_RECEIPT, -1)):
		for local_id in ledger.list_all(company, local_type):
			doc = ledger.get(company, local_type, local_id)
			if not doc or doc.get("state") != "submitted" or not since <= str(doc.get("txn_date")) <= until:
				continue
			lines = sum((_d(ln.get("amount")) for ln in doc.get("lines") or []), ZERO)
			total += sign * (lines - _d(doc.get("discount_amount")))
	return total


def qbo_refunds_out(bk) -> dict[str, Decimal]:
	"""QBO account id -> money refunded out of it (refund receipts, and journal entries that credit it against
	an A/R debit: a refund of a customer's credit)."""
	ar = {str(a["Id"]) for a in _all(bk, "Account") if a.get("AccountType") == "Accounts Receivable"}
	out: dict[str, Decimal] = defaultdict(lambda: ZERO)
	for rr in _all(bk, "RefundReceipt"):
		out[str(rr["DepositToAccountRef"]["value"])] += _d(rr.get("TotalAmt"))
	for je in _all(bk, "JournalEntry"):
		lines = [ln.get("JournalEntryLineDetail") or {} for ln in je.get("Line") or []]
		if not any(str((d.get("AccountRef") or {}).get("value")) in ar and d.get("PostingType") == "Debit" for d in lines):
			continue
		for ln, d in zip(je.get("Line") or [], lines):
			if d.get("PostingType") == "Credit":
				out[str(d["AccountRef"]["value"])] += _d(ln.get("Amount"))
	return dict(out)


def ledger_refunds_out(ledger, company: str) -> dict[str, Decimal]:
	"""Local account -> money refunded out of it (Payment Entries "Pay" to customers, of both kinds)."""
	out: dict[str, Decimal] = defaultdict(lambda: ZERO)
	for local_type in (C.REFUND, C.REFUND_RECEIPT):
		for local_id in ledger.list_all(company, local_type):
			doc = ledger.get(company, local_type, local_id)
			if doc and doc.get("state") == "submitted":
				out[doc.get("paid_from")] += _d(doc.get("total"))
	return dict(out)
