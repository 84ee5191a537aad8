"""Payment Entry (Receive, from a Customer) <-> canonical payment record.

Applications are the Payment Entry References to Sales Invoices (invoices; credit notes with a negative
allocation), so partial and multi-invoice payments allocate exactly as QBO applied them and ERPNext's
Payment Ledger moves each invoice's outstanding_amount. What QBO left unapplied stays an unallocated
amount (an advance) on the Payment Entry.

QBO payments are imported as SUBMITTED Payment Entries; ERPNext's own validation refuses an allocation
larger than an invoice's outstanding amount, and that refusal reaches the review queue with ERPNext's
message. A QBO payment of 0 that only applies credit memos to invoices has no Payment Entry equivalent
(the paid amount is mandatory): it is booked the way ERPNext's Payment Reconciliation books a credit note,
as a "Credit Note" Journal Entry (`apply_credit`), whose name is then the payment's local id.
"""

from __future__ import annotations

from decimal import Decimal

import frappe
from frappe.utils import cint, getdate

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.mappers import (
	RETRY_STEP,
	CannotCancel,
	CompanyContext,
	LedgerError,
	MissingMasterData,
	account_of,
	dec,
	inbound_write,
	local_value,
	mark_origin,
	submit_journal_entry,
)
from nexora_qbo.erpnext.mappers import opening_credit, parent_payment
from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R

DOCTYPE = "Payment Entry"
SI = "Sales Invoice"
JE = "Journal Entry"
NO_REFERENCE = "QBO"  # older rows: reference_no when QBO had no PaymentRefNum (read back as "no reference")
# reference_no ERPNext requires for bank accounts when QBO has no PaymentRefNum: the payment's own number
FALLBACK_PREFIX = K.QBO_PAYMENT_REFERENCE.split("{")[0]


def reference_no(rec: dict) -> str:
	"""The QuickBooks payment's reference number, else its own transaction number (never a bare "QBO")."""
	if rec.get("reference"):
		return str(rec["reference"])
	if rec.get("qbo_txn_id"):
		return K.QBO_PAYMENT_REFERENCE.format(number=rec["qbo_txn_id"])
	return NO_REFERENCE


def _own_reference(value: str | None) -> str | None:
	"""reference_no as QuickBooks' PaymentRefNum: our fallbacks are not a reference QuickBooks had."""
	if not value or value == NO_REFERENCE or value.startswith(FALLBACK_PREFIX):
		return None
	return value


def to_record(ctx: CompanyContext, name: str) -> dict | None:
	if not frappe.db.exists(DOCTYPE, name):
		if frappe.db.exists(JE, name):
			if opening_credit.is_opening_credit(name):
				return opening_credit.to_record(ctx, name)
			if parent_payment.is_parent_payment(name):
				return parent_payment.to_record(ctx, name)
			return _credit_record(ctx, name)
		return None
	doc = frappe.get_doc(DOCTYPE, name)
	if doc.company != ctx.company or doc.payment_type != "Receive" or doc.party_type != "Customer":
		return None
	apps = []
	for ref in doc.references:
		if ref.reference_doctype != SI or not dec(ref.allocated_amount):
			continue
		is_return = cint(frappe.db.get_value(SI, ref.reference_name, "is_return"))
		apps.append(
			{
				"doc_type": C.CREDIT_MEMO if is_return else C.INVOICE,
				"doc_key": ref.reference_name,
				"amount": abs(dec(ref.allocated_amount)),
			}
		)
	state = {0: "draft", 1: "submitted", 2: "cancelled"}[cint(doc.docstatus)]
	reference = _own_reference(doc.reference_no)
	return R.normalize(
		C.PAYMENT,
		{
			"customer": doc.party,
			"txn_date": doc.posting_date,
			"total": dec(doc.paid_amount),
			"currency": doc.paid_from_account_currency or ctx.currency,
			"exchange_rate": dec(doc.source_exchange_rate or 1),
			"reference": reference,
			"deposit_account": _deposit_account_of(ctx, doc.paid_to),
			"payment_method": ctx.mapped("payment_method_map", doc.mode_of_payment),
			"applications": apps,
			"unapplied": dec(doc.unallocated_amount),
			# short-pay deductions (write-off, bank charge): QBO gets a credit memo each (sync/deductions.py)
			"deductions": [
				{"account": d.account, "amount": dec(d.amount)}
				for d in doc.get("deductions") or []
				if dec(d.amount)
			],
			"state": state,
			"amended_from": doc.get("amended_from") or None,
		},
	)


def list_ids(ctx: CompanyContext, since=None) -> list[str]:
	filters = {"company": ctx.company, "docstatus": 1, "payment_type": "Receive", "party_type": "Customer"}
	if since:
		filters["posting_date"] = (">=", getdate(since))
	return frappe.get_all(DOCTYPE, filters=filters, pluck="name", order_by="posting_date asc, creation asc")


def find_match(ctx: CompanyContext, record: dict) -> str | None:
	"""Payments have no document number shared with QBO: never matched, always imported once (mapped)."""
	return None


def _deposit_account_of(ctx: CompanyContext, paid_to: str | None) -> str | None:
	"""The account a Payment Entry received into, as the canonical record carries it: a mapped account by
	name; the realm's Payment Account, unmapped, as None ("QBO's default deposit account": a QBO payment to
	that default is booked into it, _deposit_account); any other unmapped account by name, so that the push
	makes it a review item naming it (sync/entities/payment._deposit_to) instead of QBO's default receiving
	money ERPNext holds elsewhere (issue 13)."""
	if not paid_to or paid_to in ctx.map_of("account_map"):
		return paid_to or None
	return None if paid_to == ctx.default("payment_account") else paid_to


def _deposit_account(ctx: CompanyContext, rec: dict, mode_of_payment: str | None) -> str | None:
	value = rec.get("deposit_account")
	# "qbo:<id>" = a QBO account the realm does not map and that is not the realm's default deposit account
	# (that one comes as None). Only when the default is known: a realm gone live without the initial import has
	# none yet, and then QBO's Undeposited Funds itself arrives as "qbo:<id>" (booked in the Payment Account).
	if value and str(value).startswith("qbo:") and getattr(ctx.settings, "default_deposit_account_id", None):
		raise MissingMasterData(
			f"QuickBooks deposited this payment to its account {str(value)[4:]}, which is not mapped to an ERPNext "
			f"account of {ctx.company}, so ERPNext cannot book the money in the same account. Map the QuickBooks "
			f"account to an ERPNext account on the realm's account mapping, {RETRY_STEP}."
		)
	account = account_of(ctx.company, value) or ctx.default("payment_account")
	if not account and mode_of_payment:
		account = frappe.db.get_value(
			"Mode of Payment Account", {"parent": mode_of_payment, "company": ctx.company}, "default_account"
		)
	return account


def upsert(ctx: CompanyContext, local_id: str | None, record: dict) -> str:
	rec = R.normalize(C.PAYMENT, record)
	label = (
		f"the QuickBooks payment of {rec.get('total')} from {rec.get('customer')} on {rec.get('txn_date')}"
	)
	if local_id is not None and frappe.db.exists(JE, local_id) and opening_credit.is_opening_credit(local_id):
		return opening_credit.apply(ctx, local_id, rec, label)
	if local_id is None and rec.get("opening"):
		return opening_credit.insert(ctx, rec, label)
	if local_id is not None:
		current = to_record(ctx, local_id)
		if current is None:
			raise LedgerError(f"{label}: the Payment Entry {local_id} no longer exists in ERPNext.")
		if _only_allocations_added(current, rec):
			return allocate(ctx, local_id, current, rec, label)
		if R.content(C.PAYMENT, current) != R.content(C.PAYMENT, rec):
			raise LedgerError(
				f"{label} changed in QuickBooks, but {local_id} is submitted in ERPNext and cannot be edited."
			)
		return local_id
	customer = rec.get("customer")
	if not customer or not frappe.db.exists("Customer", customer):
		raise MissingMasterData(
			f"{label}: the customer is not in ERPNext yet. Bring it in from QuickBooks (Sync Now on the QBO Realm) "
			f"or create it, {RETRY_STEP}."
		)
	if not rec["total"]:
		return apply_credit(ctx, rec, label)
	if parent_payment.for_jobs(rec):  # a parent pays its jobs' invoices: one Journal Entry (parent_payment.py)
		mode = local_value("Mode of Payment", rec.get("payment_method")) or ctx.default("mode_of_payment")
		return parent_payment.book(ctx, rec, label, _deposit_account(ctx, rec, mode), mode)
	for app in rec["applications"]:
		row = frappe.db.get_value(SI, app["doc_key"], ["docstatus", "customer", "is_return"], as_dict=True)
		if not row or row.docstatus != 1:
			raise MissingMasterData(
				f"{label} pays {app['doc_key']}, which is not a submitted Sales Invoice in ERPNext."
			)
		if row.customer != customer:
			raise LedgerError(
				f"{label} pays {app['doc_key']}, which belongs to another customer ({row.customer})."
			)
	from erpnext.accounts.party import get_party_account

	mode = local_value("Mode of Payment", rec.get("payment_method")) or ctx.default("mode_of_payment")
	paid_to = _deposit_account(ctx, rec, mode)
	if not paid_to:
		raise MissingMasterData(
			f"{label}: no bank/cash account to deposit to. Set the Payment Account on the QBO Realm of "
			f"{ctx.company} (or map QuickBooks' deposit account), {RETRY_STEP}."
		)
	with inbound_write(label):
		pe = frappe.new_doc(DOCTYPE)
		pe.payment_type = "Receive"
		pe.company = ctx.company
		pe.posting_date = rec["txn_date"]
		pe.party_type = "Customer"
		pe.party = customer
		pe.paid_from = get_party_account("Customer", customer, ctx.company) or ctx.default(
			"receivable_account"
		)
		pe.paid_to = paid_to
		pe.mode_of_payment = mode
		# QBO's ExchangeRate (home per foreign unit) is the receivable's rate; a home-currency bank/cash
		# account receives the home amount (a foreign one the same foreign amount): ERPNext copies
		# paid_amount into received_amount only when both accounts share a currency
		rate = dec(rec.get("exchange_rate") or 1)
		target_rate = (
			Decimal(1)
			if _currency(paid_to) == frappe.get_cached_value("Company", ctx.company, "default_currency")
			else rate
		)
		pe.paid_amount = float(rec["total"])
		pe.received_amount = float(R.money(dec(rec["total"]) * rate / target_rate))
		pe.source_exchange_rate = float(rate)
		pe.target_exchange_rate = float(target_rate)
		pe.reference_no = reference_no(rec)
		pe.reference_date = rec["txn_date"]  # the QuickBooks payment's own date
		for app in rec["applications"]:
			sign = -1 if app["doc_type"] == C.CREDIT_MEMO else 1
			pe.append(
				"references",
				{
					"reference_doctype": SI,
					"reference_name": app["doc_key"],
					"allocated_amount": float(app["amount"]) * sign,
				},
			)
		pe.setup_party_account_field()
		pe.set_missing_values()
		pe.set_missing_ref_details(force=True)
		mark_origin(pe)
		pe.insert()
		unapplied = R.money(pe.unallocated_amount)
		if unapplied != R.money(rec["unapplied"]):
			raise LedgerError(
				f"{label}: ERPNext leaves {unapplied} unallocated but QuickBooks says {rec['unapplied']}; "
				f"the payment was not booked."
			)
		mark_origin(pe)
		pe.submit()
	return pe.name


def _applied(record: dict) -> dict[tuple[str, str], Decimal]:
	out: dict[tuple[str, str], Decimal] = {}
	for a in record.get("applications") or []:
		key = (a["doc_type"], a["doc_key"])
		out[key] = out.get(key, Decimal(0)) + R.money(a["amount"])
	return out


def _only_allocations_added(current: dict, rec: dict) -> bool:
	"""True when QBO's version differs from the submitted Payment Entry only by money newly applied to invoices
	out of the unallocated amount (a later allocation, sync/allocations.py)."""
	a, b = R.content(C.PAYMENT, current), R.content(C.PAYMENT, rec)
	if a == b or {k for k in set(a) | set(b) if a.get(k) != b.get(k)} - {"applications", "unapplied"}:
		return False
	have, want = _applied(current), _applied(rec)
	if any(want.get(k, Decimal(0)) < v for k, v in have.items()):
		return False
	return all(k[0] == C.INVOICE for k, v in want.items() if v > have.get(k, Decimal(0)))


def allocate(ctx: CompanyContext, name: str, current: dict, rec: dict, label: str) -> str:
	"""Book QBO's later application of a submitted Payment Entry's unallocated amount the way ERPNext's Payment
	Reconciliation does (erpnext.accounts.utils.reconcile_against_document): the entry gains a reference row per
	invoice, the invoice's outstanding and the Payment Ledger follow, the entry itself is never re-saved by us."""
	from erpnext.accounts.utils import reconcile_against_document

	have, want = _applied(current), _applied(rec)
	adds = {k[1]: R.money(v - have.get(k, Decimal(0))) for k, v in want.items() if v > have.get(k, Decimal(0))}
	with inbound_write(label):
		for invoice, amount in sorted(adds.items()):
			pe = frappe.get_doc(DOCTYPE, name)
			si = frappe.db.get_value(SI, invoice, ["docstatus", "customer", "outstanding_amount"], as_dict=True)
			if not si or si.docstatus != 1 or si.customer != pe.party:
				raise MissingMasterData(f"{label} applies {amount} to {invoice}, which is not a submitted invoice of "
					f"{pe.party} in ERPNext.")
			if dec(pe.unallocated_amount) < amount or dec(si.outstanding_amount) < amount:
				raise LedgerError(f"{label}: {name} has {pe.unallocated_amount} unallocated and {invoice} "
					f"{si.outstanding_amount} outstanding, so {amount} cannot be allocated. Reconcile it by hand "
					f"(Payment Reconciliation), then choose \u201cDismiss\u201d.")
			reconcile_against_document([frappe._dict({
				"voucher_type": DOCTYPE, "voucher_no": name, "voucher_detail_no": None,
				"against_voucher_type": SI, "against_voucher": invoice, "account": pe.paid_from,
				"exchange_rate": pe.source_exchange_rate or 1, "party_type": "Customer", "party": pe.party,
				"is_advance": "No", "dr_or_cr": "credit_in_account_currency",
				"unreconciled_amount": float(dec(pe.unallocated_amount)),
				"unadjusted_amount": float(dec(pe.unallocated_amount)),
				"allocated_amount": float(amount), "difference_amount": 0, "difference_account": None,
				"cost_center": pe.cost_center,
			})])
	return name


def _currency(account: str) -> str | None:
	return frappe.get_cached_value("Account", account, "account_currency")


def cancel(ctx: CompanyContext, local_id: str, reason: str) -> None:
	if not frappe.db.exists(DOCTYPE, local_id):
		if frappe.db.exists(JE, local_id) and cint(frappe.db.get_value(JE, local_id, "docstatus")) == 1:
			with inbound_write(f"cancelling the credit application {local_id}"):
				je = frappe.get_doc(JE, local_id)
				mark_origin(je)
				je.add_comment("Comment", f"Cancelled by the QuickBooks sync: {reason}")
				je.cancel()
		return
	docstatus = cint(frappe.db.get_value(DOCTYPE, local_id, "docstatus"))
	if docstatus == 2:
		return
	with inbound_write(f"cancelling the payment {local_id}"):
		doc = frappe.get_doc(DOCTYPE, local_id)
		mark_origin(doc)
		if docstatus == 0:
			frappe.delete_doc(DOCTYPE, local_id, ignore_permissions=True, flags={"nexora_qbo_origin": "qbo"})
			return
		doc.add_comment("Comment", f"Cancelled by the QuickBooks sync: {reason}")
		try:
			doc.cancel()
		except frappe.LinkExistsError as exc:
			raise CannotCancel(
				f"The payment {local_id} was {reason}, but ERPNext cannot cancel it: {exc}"
			) from exc


# ----------------------------------------------------------------------------------------------------------
# a QBO payment of 0 that applies credit memos to invoices -> a "Credit Note" Journal Entry
# ----------------------------------------------------------------------------------------------------------


def apply_credit(ctx: CompanyContext, rec: dict, label: str) -> str:
	"""QBO applies a credit memo to an invoice with a zero Payment (lines: the invoice +x, the credit memo
	+x). ERPNext cannot submit a Payment Entry of 0; it books the same thing as Payment Reconciliation does
	(erpnext...payment_reconciliation.reconcile_dr_cr_note): a Journal Entry of type "Credit Note" that
	credits the receivable against the invoice and debits it against the credit note, so both outstanding
	amounts follow through the Payment Ledger. Its name is the payment's local id."""
	invoices = [a for a in rec["applications"] if a["doc_type"] == C.INVOICE]
	notes = [a for a in rec["applications"] if a["doc_type"] == C.CREDIT_MEMO]
	applied = sum((a["amount"] for a in invoices), R.money(0))
	credited = sum((a["amount"] for a in notes), R.money(0))
	if not invoices or not notes or applied != credited:
		raise LedgerError(
			f"{label} moves no money and does not apply credit memos to invoices one to one (invoices "
			f"{applied}, credits {credited}); book it by hand (Payment Reconciliation), then dismiss this item."
		)
	rows = []
	for app in invoices + notes:
		doc = frappe.db.get_value(
			SI,
			app["doc_key"],
			["docstatus", "customer", "is_return", "debit_to", "outstanding_amount", "cost_center"],
			as_dict=True,
		)
		is_note = app["doc_type"] == C.CREDIT_MEMO
		if not doc or doc.docstatus != 1 or bool(doc.is_return) != is_note:
			what = "credit note" if is_note else "invoice"
			raise MissingMasterData(
				f"{label} applies {app['doc_key']}, which is not a submitted {what} in ERPNext."
			)
		if doc.customer != rec["customer"]:
			raise LedgerError(
				f"{label} applies {app['doc_key']}, which belongs to another customer ({doc.customer})."
			)
		if R.money(abs(dec(doc.outstanding_amount))) < app["amount"]:
			raise LedgerError(
				f"{label} applies {app['amount']} of {app['doc_key']}, but only "
				f"{R.money(abs(dec(doc.outstanding_amount)))} is open in ERPNext; nothing was booked."
			)
		rows.append(
			{
				"account": doc.debit_to,
				"party_type": "Customer",
				"party": rec["customer"],
				("debit_in_account_currency" if is_note else "credit_in_account_currency"): float(
					app["amount"]
				),
				"reference_type": SI,
				"reference_name": app["doc_key"],
				"cost_center": doc.cost_center or ctx.default("cost_center"),
			}
		)
	with inbound_write(label):
		je = frappe.new_doc(JE)
		je.voucher_type = "Credit Note"
		je.company = ctx.company
		je.posting_date = rec["txn_date"]
		je.user_remark = f"QuickBooks: credit applied ({label})"
		submit_journal_entry(je, rows)
	return je.name


def _credit_record(ctx: CompanyContext, name: str) -> dict | None:
	je = frappe.get_doc(JE, name)
	if je.company != ctx.company or je.voucher_type != "Credit Note":
		return None
	apps, customer = [], None
	for row in je.accounts:
		if row.reference_type != SI or row.party_type != "Customer":
			continue
		customer = row.party
		is_note = bool(dec(row.debit_in_account_currency))
		amount = dec(row.debit_in_account_currency) if is_note else dec(row.credit_in_account_currency)
		apps.append(
			{
				"doc_type": C.CREDIT_MEMO if is_note else C.INVOICE,
				"doc_key": row.reference_name,
				"amount": amount,
			}
		)
	state = {0: "draft", 1: "submitted", 2: "cancelled"}[cint(je.docstatus)]
	return R.normalize(
		C.PAYMENT,
		{
			"customer": customer,
			"txn_date": je.posting_date,
			"total": 0,
			"currency": ctx.currency,
			"exchange_rate": 1,
			"applications": apps,
			"unapplied": 0,
			"state": state,
		},
	)
