"""Canonical records: the one shape in which the engine sees a document, whichever side it comes from.

Both the ledger (ERPNext or SQLite) and the QBO mappers (sync/entities/*) produce and consume these plain
dicts. References to other synced documents are LOCAL ids (the customer's ERPNext name, the item code…);
references to lists the engine does not sync (accounts, terms, classes, locations, tax codes, payment
methods) are LOCAL names translated through RealmSettings maps. Dates are ISO "YYYY-MM-DD" strings. Money
is Decimal rounded half-up to 2 dp per line (invariant 7: totals are carried and compared as given, never
recomputed from tax). Unknown keys are ignored by the engine, so adapters may add their own.

customer
	display_name: str               QBO DisplayName / ERPNext customer_name (never the " - 1" suffixed name)
	company_name: str | None
	email: str | None               primary email
	phone: str | None
	tax_id: str | None              (QBO ResaleNum / PrimaryTaxIdentifier is not readable; we use ResaleNum)
	currency: str | None            ISO code; fixed at creation in QBO
	terms: str | None               local payment terms name
	notes: str | None
	billing_address: dict | None    {line1, line2, city, region, postal_code, country}
	active: bool
	parent: str | None              local id of the parent customer: this customer is a QBO sub-customer (Job,
	                                e.g. a client's job site; QBO ParentRef, FullyQualifiedName "Parent:Job")
	bill_with_parent: bool          QBO BillWithParent (only with a parent)
	taxable: bool                   False = exempt from sales tax (QBO Taxable=false)
	exemption_reason: str | None    QBO TaxExemptionReasonId (only when not taxable)

item
	name: str                       QBO Name / ERPNext item_code
	sku: str | None
	description: str | None
	type: "Service" | "NonInventory" | "Inventory"
	rate: Decimal | None            standard selling price (QBO UnitPrice)
	income_account / expense_account / asset_account: str | None   local account names
	taxable: bool
	active: bool

invoice / credit_memo
	doc_number: str | None          QBO DocNumber / ERPNext name (≤ 21 chars in QBO)
	customer: str                   local customer id
	txn_date: str, due_date: str | None
	currency: str, exchange_rate: Decimal
	terms / class_ / location: str | None     local names (key "class" is spelled "class_")
	memo: str | None                customer memo / remarks
	lines: [ {item: str | None, description: str | None, qty: Decimal, rate: Decimal, amount: Decimal,
	          class_: str | None, service_date: str | None, taxable: bool, tax_code?: str} ]   (amounts
	                                positive, also on credit memos). Timesheet lines: description names the
	                                worker, period, hours and regular/overtime; service_date is the week or day
	                                worked; qty = hours, rate = bill rate; overtime/double time are own items.
	                                tax_code (optional): the line's local tax template outside the US.
	tax_total: Decimal              as computed by the side that created the document
	discount_amount: Decimal        invoice-level discount (ERPNext additional discount on the net total ⇄ QBO
	                                DiscountLineDetail); total = lines - discount + tax. Compared only when set,
	                                so documents without one keep their content hash
	tax_code: str | None            local tax template name (→ QBO TxnTaxCodeRef via tax_code_map); not compared
	total: Decimal                  grand total incl. tax
	against_invoice: str | None     credit_memo only: local invoice id it returns against
	state: "draft" | "submitted" | "cancelled"   (ledger side; from QBO: "submitted", or "cancelled" if voided)
	outstanding: Decimal | None     informational (balance), never part of the compared content
	amended_from: str | None        ERPNext's amended_from: the cancelled document this one amends (not compared;
	                                also on payments). After a bookkeeper edit the amendment updates the
	                                original's QBO record instead of creating a second one.
	opening: bool                   True for an opening balance brought in at go-live (sync/golive.py): one
	                                line for QBO's open balance, no item, no tax, against the company's
	                                Temporary Opening account (ERPNext: is_opening "Yes"); total = balance.
	                                Never sent to QBO; not a compared field

refund                              a credit note's balance paid back to the customer (ERPNext Payment Entry
                                    "Pay" to a Customer against return invoices ⇄ QBO JournalEntry, A/R debit for
                                    the customer and bank credit, linked to the credit memos by a zero Payment;
                                    sync/entities/refund.py). Moves no income in either book
	customer: str, txn_date: str
	total: Decimal                  amount paid out
	currency: str, exchange_rate: Decimal
	reference: str | None           QBO PaymentRefNum / ERPNext reference_no (cheque or transfer number)
	paid_from: str | None           local account the money left (ERPNext paid_from ⇄ QBO DepositToAccountRef)
	payment_method: str | None      local mode of payment
	applications: [ {doc_type: "credit_memo", doc_key: str, amount: Decimal} ]   the credit notes it pays out
	state: "draft" | "submitted" | "cancelled"

refund_receipt                      a sale taken back and paid out at once (QBO RefundReceipt ⇄ ERPNext return
                                    Sales Invoice with the same lines + a Payment Entry "Pay" paying it out;
                                    sync/entities/refund_receipt.py). Income and cash move, A/R does not
	the fields of credit_memo (lines, tax_total, discount_amount, total…; against_invoice always None), plus
	reference, paid_from, payment_method as on refund; outstanding is always 0

payment
	customer: str, txn_date: str
	total: Decimal                  amount received (0 for a pure credit application)
	currency: str, exchange_rate: Decimal
	reference: str | None           QBO PaymentRefNum / ERPNext reference_no
	deposit_account: str | None     local account name
	payment_method: str | None      local mode of payment
	applications: [ {doc_type: "invoice" | "credit_memo", doc_key: str (local id), amount: Decimal} ]
	unapplied: Decimal
	deductions: [ {account: str | None, amount: Decimal, doc_key: str | None} ]   short-pay deductions (ERPNext
	                                Payment Entry Deduction: write-off, bank charge); applications = total +
	                                deductions. In QBO each is a credit memo (sync/deductions.py) applied by the
	                                same payment; compared by amount only, and only when present
	state: "draft" | "submitted" | "cancelled"
	opening: bool                   True for an unapplied QBO payment brought in at go-live as an opening
	                                credit (total = unapplied = QBO's UnappliedAmt, no applications)

deposit                           a bank deposit of received payments (QBO Deposit; ERPNext Journal Entry, see
                                  sync/entities/deposit.py and erpnext/mappers/deposit.py)
	txn_date: str
	bank_account: str | None        local account the money goes to (QBO DepositToAccountRef)
	currency: str
	payments: [ {doc_key: str (local payment id), amount: Decimal} ]   each payment's whole amount, taken out
	                                of the account it was received into (Undeposited Funds)
	fees: [ {account: str | None, amount: Decimal} ]   other lines, signed as QBO has them: a bank fee taken
	                                from the deposit is negative (booked to its expense account), QBO CashBack
	                                comes back as a negative line of its account
	memo: str | None                not compared
	total: Decimal                  payments + fees (what reaches the bank)
	state: "submitted" | "cancelled"
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from nexora_qbo.sync import constants as C

CENT = Decimal("0.01")

# Fields compared by the three-way merge / echo detection, per local type. Everything else (state,
# outstanding, Balance, LinkedTxn, SyncToken, MetaData) is bookkeeping that changes without a person editing
# the document (e.g. a payment applied in QBO bumps the invoice's SyncToken and Balance).
# Fields a local document carries that a QBO record never does (a QBO CreditMemo names no invoice; the
# engine applies it with a zero payment instead). Comparing them with QBO would always "differ".
LOCAL_ONLY_FIELDS = frozenset({"against_invoice"})

CONTENT_FIELDS: dict[str, tuple[str, ...]] = {
	C.CUSTOMER: (
		"display_name",
		"company_name",
		"email",
		"phone",
		"tax_id",
		"currency",
		"terms",
		"notes",
		"billing_address",
		"active",
		"parent",
		"bill_with_parent",
		"taxable",
		"exemption_reason",
	),
	C.ITEM: (
		"name",
		"sku",
		"description",
		"type",
		"rate",
		"income_account",
		"expense_account",
		"asset_account",
		"taxable",
		"active",
	),
	C.INVOICE: (
		"doc_number",
		"customer",
		"txn_date",
		"due_date",
		"currency",
		"exchange_rate",
		"terms",
		"class_",
		"location",
		"memo",
		"lines",
		"tax_total",
		"discount_amount",
		"total",
	),
	C.CREDIT_MEMO: (
		"doc_number",
		"customer",
		"txn_date",
		"currency",
		"exchange_rate",
		"class_",
		"location",
		"memo",
		"lines",
		"tax_total",
		"discount_amount",
		"total",
		"against_invoice",
	),
	C.REFUND_RECEIPT: (
		"doc_number",
		"customer",
		"txn_date",
		"currency",
		"exchange_rate",
		"class_",
		"location",
		"memo",
		"lines",
		"tax_total",
		"discount_amount",
		"total",
		"reference",
		"paid_from",
		"payment_method",
	),
	C.PAYMENT: (
		"customer",
		"txn_date",
		"total",
		"currency",
		"exchange_rate",
		"reference",
		"deposit_account",
		"payment_method",
		"applications",
		"unapplied",
		"deductions",
	),
	C.DEPOSIT: ("txn_date", "bank_account", "currency", "payments", "fees", "total"),
	# what QBO's journal entry carries (the credit notes paid out and the cheque number live on the linking
	# Payment and in the memo: sync/entities/refund.py)
	C.REFUND: (
		"customer",
		"txn_date",
		"total",
		"currency",
		"exchange_rate",
		"paid_from",
	),
}

# compared only when they carry something: records from before these fields keep their content hash
OPTIONAL_CONTENT = {"discount_amount": Decimal("0.00"), "deductions": []}

# Content that, when edited in QBO on a transaction, is a bookkeeper edit of amounts or lines.
TRANSACTION_AMOUNT_FIELDS = ("lines", "total", "tax_total", "applications", "unapplied", "customer", "currency")


# ---------------------------------------------------------------------------------------------------------
# money and values
# ---------------------------------------------------------------------------------------------------------


def money(value: Any) -> Decimal:
	"""Decimal half-up to cents; None/"" → 0. Floats go through str() so 0.1 stays 0.1."""
	if value is None or value == "":
		return Decimal("0.00")
	if isinstance(value, float):
		value = str(value)
	try:
		return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
	except (InvalidOperation, TypeError) as exc:
		raise ValueError(f"not a money amount: {value!r}") from exc


def decimal(value: Any, places: int | None = None) -> Decimal:
	"""A Decimal for quantities and rates (not rounded to cents unless `places` is given)."""
	if value is None or value == "":
		return Decimal(0)
	if isinstance(value, float):
		value = str(value)
	d = Decimal(value)
	if places is not None:
		d = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
	d = d.normalize()
	return d.quantize(Decimal(1)) if d.as_tuple().exponent > 0 else d


def line_amount(qty: Any, rate: Any) -> Decimal:
	"""QBO rejects item lines whose Amount != Qty*UnitPrice: round half-up per line."""
	return money(decimal(qty) * decimal(rate))


def iso_date(value: Any) -> str | None:
	if value in (None, ""):
		return None
	if isinstance(value, datetime):
		return value.date().isoformat()
	if isinstance(value, date):
		return value.isoformat()
	return str(value)[:10]


def _text(value: Any) -> str | None:
	if value is None:
		return None
	s = str(value).strip()
	return s or None


# ---------------------------------------------------------------------------------------------------------
# normalisation: fill defaults and coerce types so that records from both sides compare equal
# ---------------------------------------------------------------------------------------------------------


def _address(addr: dict | None) -> dict | None:
	if not addr:
		return None
	out = {k: _text(addr.get(k)) for k in ("line1", "line2", "city", "region", "postal_code", "country")}
	return out if any(out.values()) else None


def normalize(local_type: str, record: dict) -> dict:
	"""A copy of `record` with every canonical key present and typed (money as Decimal 2 dp)."""
	r = dict(record)
	if local_type == C.CUSTOMER:
		out = {
			"display_name": _text(r.get("display_name")),
			"company_name": _text(r.get("company_name")),
			"email": (_text(r.get("email")) or "").lower() or None,
			"phone": _text(r.get("phone")),
			"tax_id": _text(r.get("tax_id")),
			"currency": _text(r.get("currency")),
			"terms": _text(r.get("terms")),
			"notes": _text(r.get("notes")),
			"billing_address": _address(r.get("billing_address")),
			"active": bool(r.get("active", True)),
			"parent": _text(r.get("parent")),
			"bill_with_parent": bool(r.get("bill_with_parent", False)) and bool(_text(r.get("parent"))),
			"taxable": bool(r.get("taxable", True)),
			"exemption_reason": None if r.get("taxable", True) else _text(r.get("exemption_reason")),
		}
	elif local_type == C.ITEM:
		rate = r.get("rate")
		out = {
			"name": _text(r.get("name")),
			"sku": _text(r.get("sku")),
			"description": _text(r.get("description")),
			"type": r.get("type") or "Service",
			"rate": None if rate in (None, "") else decimal(rate),
			"income_account": _text(r.get("income_account")),
			"expense_account": _text(r.get("expense_account")),
			"asset_account": _text(r.get("asset_account")),
			"taxable": bool(r.get("taxable", False)),
			"active": bool(r.get("active", True)),
		}
	elif local_type in (C.INVOICE, C.CREDIT_MEMO, C.REFUND_RECEIPT):
		lines = [normalize_line(line) for line in r.get("lines") or []]
		out = {
			"doc_number": _text(r.get("doc_number")),
			"customer": _text(r.get("customer")),
			"txn_date": iso_date(r.get("txn_date")),
			"due_date": iso_date(r.get("due_date")) if local_type == C.INVOICE else None,
			"currency": _text(r.get("currency")),
			"exchange_rate": decimal(r.get("exchange_rate") or 1),
			"terms": _text(r.get("terms")) if local_type == C.INVOICE else None,
			"class_": _text(r.get("class_")),
			"location": _text(r.get("location")),
			"memo": _text(r.get("memo")),
			"lines": lines,
			"tax_total": money(r.get("tax_total")),
			"tax_code": _text(r.get("tax_code")),
			"discount_amount": money(r.get("discount_amount")),
			"total": money(r.get("total")) if r.get("total") is not None else money(
				sum((ln["amount"] for ln in lines), Decimal(0)) - money(r.get("discount_amount"))
				+ money(r.get("tax_total"))
			),
			"against_invoice": _text(r.get("against_invoice")) if local_type == C.CREDIT_MEMO else None,
			"state": r.get("state") or "submitted",
			"outstanding": None if r.get("outstanding") is None else money(r.get("outstanding")),
		}
		if local_type == C.REFUND_RECEIPT:  # paid out at once: never open
			out.update(reference=_text(r.get("reference")), paid_from=_text(r.get("paid_from")),
				payment_method=_text(r.get("payment_method")), outstanding=money(0))
	elif local_type == C.PAYMENT:
		apps = [
			{"doc_type": a.get("doc_type") or C.INVOICE, "doc_key": str(a["doc_key"]), "amount": money(a["amount"])}
			for a in r.get("applications") or []
		]
		apps.sort(key=lambda a: (a["doc_type"], a["doc_key"]))
		total = money(r.get("total"))
		applied_cash = sum((a["amount"] for a in apps if a["doc_type"] == C.INVOICE), Decimal(0)) - sum(
			(a["amount"] for a in apps if a["doc_type"] == C.CREDIT_MEMO), Decimal(0)
		)
		unapplied = r.get("unapplied")
		deductions = [
			{"account": _text(d.get("account")), "amount": money(d.get("amount")), "doc_key": _text(d.get("doc_key"))}
			for d in r.get("deductions") or [] if money(d.get("amount"))
		]
		applied_cash -= sum((d["amount"] for d in deductions), Decimal(0))
		out = {
			"customer": _text(r.get("customer")),
			"txn_date": iso_date(r.get("txn_date")),
			"total": total,
			"currency": _text(r.get("currency")),
			"exchange_rate": decimal(r.get("exchange_rate") or 1),
			"reference": _text(r.get("reference")),
			"deposit_account": _text(r.get("deposit_account")),
			"payment_method": _text(r.get("payment_method")),
			"applications": apps,
			"unapplied": money(unapplied) if unapplied is not None else max(money(total - applied_cash), money(0)),
			"deductions": deductions,
			"state": r.get("state") or "submitted",
		}
	elif local_type == C.DEPOSIT:
		pays = sorted(({"doc_key": str(p["doc_key"]), "amount": money(p.get("amount"))} for p in r.get("payments") or []),
			key=lambda p: p["doc_key"])
		fees = sorted(({"account": _text(f.get("account")), "amount": money(f.get("amount"))}
			for f in r.get("fees") or [] if money(f.get("amount"))), key=lambda f: (f["account"] or "", f["amount"]))
		out = {
			"txn_date": iso_date(r.get("txn_date")),
			"bank_account": _text(r.get("bank_account")),
			"currency": _text(r.get("currency")),
			"payments": pays,
			"fees": fees,
			"memo": _text(r.get("memo")),
			"total": money(sum((p["amount"] for p in pays), Decimal(0)) + sum((f["amount"] for f in fees), Decimal(0))),
			"state": r.get("state") or "submitted",
		}
	elif local_type == C.REFUND:
		apps = [
			{"doc_type": a.get("doc_type") or C.CREDIT_MEMO, "doc_key": str(a["doc_key"]), "amount": money(a["amount"])}
			for a in r.get("applications") or []
		]
		apps.sort(key=lambda a: (a["doc_type"], a["doc_key"]))
		out = {
			"customer": _text(r.get("customer")),
			"txn_date": iso_date(r.get("txn_date")),
			"total": money(r.get("total")),
			"currency": _text(r.get("currency")),
			"exchange_rate": decimal(r.get("exchange_rate") or 1),
			"reference": _text(r.get("reference")),
			"paid_from": _text(r.get("paid_from")),
			"payment_method": _text(r.get("payment_method")),
			"applications": apps,
			"state": r.get("state") or "submitted",
		}
	else:
		raise ValueError(f"unknown local type {local_type!r}")
	# keep adapter-specific extras that do not clash
	for k, v in r.items():
		out.setdefault(k, v)
	return out


def normalize_line(line: dict) -> dict:
	qty = decimal(line.get("qty") if line.get("qty") not in (None, "") else 1)
	rate = decimal(line.get("rate") if line.get("rate") not in (None, "") else 0)
	amount = line.get("amount")
	out = {
		"item": _text(line.get("item")),
		"description": _text(line.get("description")),
		"qty": qty,
		"rate": rate,
		"amount": money(amount) if amount not in (None, "") else line_amount(qty, rate),
		"class_": _text(line.get("class_")),
		"service_date": iso_date(line.get("service_date")),
		"taxable": bool(line.get("taxable", False)),
	}
	# outside the US a line carries a real tax code (local tax template name); kept only when set, so that
	# US lines (TAX/NON, said by "taxable") compare as before
	if _text(line.get("tax_code")):
		out["tax_code"] = _text(line.get("tax_code"))
	return out


def content(local_type: str, record: dict | None) -> dict | None:
	"""The compared part of a record: its CONTENT_FIELDS after normalisation."""
	if record is None:
		return None
	n = normalize(local_type, record)
	out = {k: n.get(k) for k in CONTENT_FIELDS[local_type]}
	if out.get("deductions"):
		out["deductions"] = sorted(d["amount"] for d in out["deductions"])  # QBO knows no deduction account
	for k, empty in OPTIONAL_CONTENT.items():
		if k in out and out[k] == empty:
			del out[k]
	return out


def content_hash(local_type: str, record: dict | None) -> str | None:
	c = content(local_type, record)
	return None if c is None else hash_json(c)


def hash_json(value: Any) -> str:
	return hashlib.sha256(dumps(value).encode()).hexdigest()[:32]


# ---------------------------------------------------------------------------------------------------------
# JSON with Decimal round-trip (for snapshots stored by the Store)
# ---------------------------------------------------------------------------------------------------------


def _default(o: Any) -> Any:
	if isinstance(o, Decimal):
		return {"$dec": str(o)}
	if isinstance(o, datetime):
		return {"$dt": o.isoformat()}
	if isinstance(o, date):
		return o.isoformat()
	if isinstance(o, (set, frozenset)):
		return sorted(o)
	raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _hook(d: dict) -> Any:
	if len(d) == 1:
		if "$dec" in d:
			return Decimal(d["$dec"])
		if "$dt" in d:
			return datetime.fromisoformat(d["$dt"])
	return d


def dumps(value: Any) -> str:
	"""Canonical JSON text: sorted keys, Decimal and datetime tagged so that `loads` restores them."""
	return json.dumps(value, default=_default, sort_keys=True, separators=(",", ":"))


def loads(text: str | None) -> Any:
	if text is None or text == "":
		return None
	return json.loads(text, object_hook=_hook)


def plain(value: Any) -> Any:
	"""A JSON-friendly copy for humans (Decimals as strings): used in conflict versions shown in reports."""
	return json.loads(json.dumps(value, default=lambda o: str(o) if isinstance(o, (Decimal, date)) else o))


# ---------------------------------------------------------------------------------------------------------
# stable matching keys
# ---------------------------------------------------------------------------------------------------------

_DELETED_SUFFIX = re.compile(r"\s*\(deleted\)\s*$", re.IGNORECASE)
_ERPNEXT_DUP_SUFFIX = re.compile(r"\s+-\s+\d+$")
_SPACES = re.compile(r"\s+")


def normalize_name(name: str | None) -> str | None:
	"""Case/space-insensitive name, without QBO's " (deleted)" suffix."""
	if not name:
		return None
	n = _DELETED_SUFFIX.sub("", str(name))
	n = _SPACES.sub(" ", n).strip().casefold()
	return n or None


def strip_deleted_suffix(name: str | None) -> str | None:
	"""QBO appends " (deleted)" to inactive name-list records; the record's name is still the original."""
	return None if name is None else _DELETED_SUFFIX.sub("", str(name))


def has_erpnext_dup_suffix(name: str | None) -> bool:
	"""ERPNext names a second "Acme" customer "Acme - 1": such a name never matches by name alone."""
	return bool(name and _ERPNEXT_DUP_SUFFIX.search(str(name)))


def match_keys(local_type: str, record: dict) -> list[tuple[str, str]]:
	"""Stable keys, strongest first, used to find the same real-world record on the other side before
	creating one (no duplicate customers). Ledgers and the engine's QBO-side lookup both use them."""
	r = normalize(local_type, record)
	keys: list[tuple[str, str]] = []
	if local_type == C.CUSTOMER:
		if r.get("email"):
			keys.append(("email", r["email"]))
		if r.get("tax_id"):
			keys.append(("tax_id", _SPACES.sub("", r["tax_id"]).casefold()))
		name = r.get("display_name")
		if name and not has_erpnext_dup_suffix(name):
			keys.append(("name", normalize_name(name)))
	elif local_type == C.ITEM:
		if r.get("name"):
			keys.append(("name", normalize_name(r["name"])))
		if r.get("sku"):
			keys.append(("sku", r["sku"].casefold()))
	elif local_type in (C.INVOICE, C.CREDIT_MEMO, C.REFUND_RECEIPT):
		if r.get("doc_number") and r.get("customer"):
			keys.append(("doc", f"{r['customer']}|{r['doc_number']}"))
	return keys


def lines_equal(a: Iterable[dict], b: Iterable[dict]) -> bool:
	return [normalize_line(x) for x in a] == [normalize_line(x) for x in b]
