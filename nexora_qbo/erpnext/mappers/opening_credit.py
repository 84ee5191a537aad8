"""An unapplied QBO payment at go-live -> an opening Journal Entry crediting the customer (its opening credit).

Why a Journal Entry and not a Payment Entry: a Payment Entry of type Receive must deposit into a bank or
cash account, so it would book the money a second time (the bank's opening balance already holds it). What
is still owed back to, or held for, the customer at go-live is an opening balance, and ERPNext books opening
balances as Journal Entries with is_opening "Yes" against the Temporary Opening account (the same account the
opening invoices use, so Temporary Opening nets to zero once the opening books are in). One row credits the
receivable with the customer as party and no reference (an advance, is_advance "Yes": ERPNext's Payment
Reconciliation and the invoice's "Get Advances" both offer it); the other debits Temporary Opening.

A later application of that credit in QBO is booked the way Payment Reconciliation books it
(erpnext.accounts.utils.reconcile_against_document): the credit row is split and the new row references
the Sales Invoice, so the invoice's outstanding and the Payment Ledger move exactly as if a person had
reconciled it in ERPNext. The Journal Entry's name is the payment's local id (its mapping to the QBO payment).
"""

from __future__ import annotations

from decimal import Decimal

import frappe
from frappe.utils import cint

from nexora_qbo.erpnext.mappers import RETRY_STEP, LedgerError, MissingMasterData, dec, inbound_write, mark_origin
from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R

JE = "Journal Entry"
SI = "Sales Invoice"
VOUCHER_TYPE = "Opening Entry"


def is_opening_credit(name: str) -> bool:
	row = frappe.db.get_value(JE, name, ["voucher_type", "is_opening"], as_dict=True)
	return bool(row) and row.voucher_type == VOUCHER_TYPE and row.is_opening == "Yes"


def _party_rows(je) -> list:
	return [r for r in je.accounts if r.party_type == "Customer" and r.party]


def to_record(ctx, name: str) -> dict | None:
	je = frappe.get_doc(JE, name)
	rows = _party_rows(je)
	if je.company != ctx.company or not rows:
		return None
	apps = [
		{"doc_type": C.INVOICE, "doc_key": r.reference_name, "amount": dec(r.credit_in_account_currency)}
		for r in rows
		if r.reference_type == SI and dec(r.credit_in_account_currency)
	]
	unapplied = sum(
		(dec(r.credit_in_account_currency) - dec(r.debit_in_account_currency) for r in rows if not r.reference_type),
		Decimal(0),
	)
	total = sum((dec(r.credit_in_account_currency) - dec(r.debit_in_account_currency) for r in rows), Decimal(0))
	state = {0: "draft", 1: "submitted", 2: "cancelled"}[cint(je.docstatus)]
	return R.normalize(
		C.PAYMENT,
		{
			"customer": rows[0].party,
			"txn_date": je.posting_date,
			"total": total,
			"currency": rows[0].account_currency or ctx.currency,
			"exchange_rate": dec(rows[0].exchange_rate or 1),
			"reference": je.cheque_no or None,
			"applications": apps,
			"unapplied": unapplied,
			"state": state,
			"opening": True,
		},
	)


def insert(ctx, rec: dict, label: str) -> str:
	"""The opening credit: Cr receivable (customer, no reference) / Dr Temporary Opening, is_opening Yes."""
	from erpnext.accounts.party import get_party_account

	from nexora_qbo.erpnext.mappers.sales_invoice import temporary_opening_account

	customer = rec.get("customer")
	if not customer or not frappe.db.exists("Customer", customer):
		raise MissingMasterData(
			f"{label}: the customer is not in ERPNext yet. Import it (go-live preview), then run the go-live again."
		)
	if rec.get("applications"):
		raise LedgerError(f"{label}: an opening credit carries no applications; nothing was booked.")
	amount = R.money(rec.get("total"))
	rate = dec(rec.get("exchange_rate") or 1)
	receivable = get_party_account("Customer", customer, ctx.company) or ctx.default("receivable_account")
	opening = temporary_opening_account(ctx, label)
	home = frappe.get_cached_value("Company", ctx.company, "default_currency")
	with inbound_write(label):
		je = frappe.new_doc(JE)
		je.voucher_type = VOUCHER_TYPE
		je.is_opening = "Yes"
		je.company = ctx.company
		je.posting_date = rec["txn_date"]
		je.multi_currency = int(frappe.get_cached_value("Account", receivable, "account_currency") != home)
		je.cheque_no = rec.get("reference") or None
		je.cheque_date = rec["txn_date"] if rec.get("reference") else None
		je.user_remark = f"Opening balance: {label}, still unapplied in QuickBooks at go-live"
		je.append(
			"accounts",
			{
				"account": receivable,
				"party_type": "Customer",
				"party": customer,
				"is_advance": "Yes",
				"exchange_rate": float(rate),
				"credit_in_account_currency": float(amount),
				"cost_center": ctx.default("cost_center"),
			},
		)
		je.append(
			"accounts",
			{
				"account": opening,
				"debit_in_account_currency": float(R.money(amount * rate)),
				"cost_center": ctx.default("cost_center"),
			},
		)
		mark_origin(je)
		je.insert()
		mark_origin(je)
		je.submit()
	return je.name


def apply(ctx, name: str, rec: dict, label: str) -> str:
	"""Book the applications QBO added to the opening credit: each one reconciles part of the credit row with
	the Sales Invoice, exactly as Payment Reconciliation would. Anything else is refused (the engine only sends
	added applications; see nexora_qbo.sync.opening_payment)."""
	from erpnext.accounts.utils import reconcile_against_document

	current = to_record(ctx, name)
	if current is None or current["state"] != "submitted":
		raise LedgerError(f"{label}: the opening credit {name} is not a submitted Journal Entry in ERPNext.")
	have: dict[str, Decimal] = {}
	for a in current["applications"]:
		have[a["doc_key"]] = have.get(a["doc_key"], Decimal(0)) + R.money(a["amount"])
	wanted: dict[str, Decimal] = {}
	for a in rec.get("applications") or []:
		if a["doc_type"] != C.INVOICE:
			raise LedgerError(f"{label} applies the credit to a credit note; apply it by hand, then dismiss this item.")
		wanted[a["doc_key"]] = wanted.get(a["doc_key"], Decimal(0)) + R.money(a["amount"])
	adds = {k: R.money(v - have.get(k, Decimal(0))) for k, v in wanted.items()}
	if any(v < 0 for v in adds.values()) or set(have) - set(wanted):
		raise LedgerError(
			f"{label}: QuickBooks removed part of an application of the opening credit {name}; ERPNext does not undo a "
			f"reconciliation by itself. Unreconcile it in ERPNext (Unreconcile Payment), {RETRY_STEP}."
		)
	with inbound_write(label):
		for invoice, amount in sorted(adds.items()):
			if not amount:
				continue
			si = frappe.db.get_value(SI, invoice, ["docstatus", "customer", "debit_to", "outstanding_amount"], as_dict=True)
			if not si or si.docstatus != 1 or si.customer != current["customer"]:
				raise MissingMasterData(
					f"{label} applies {amount} to {invoice}, which is not a submitted invoice of {current['customer']}."
				)
			je = frappe.get_doc(JE, name)
			row = next(
				(r for r in _party_rows(je) if not r.reference_type and dec(r.credit_in_account_currency) >= amount),
				None,
			)
			if row is None:
				raise LedgerError(f"{label}: the opening credit {name} has less than {amount} left to apply.")
			reconcile_against_document(
				[
					frappe._dict(
						{
							"voucher_type": JE,
							"voucher_no": name,
							"voucher_detail_no": row.name,
							"against_voucher_type": SI,
							"against_voucher": invoice,
							"account": row.account,
							"exchange_rate": row.exchange_rate,
							"party_type": "Customer",
							"party": current["customer"],
							"is_advance": row.is_advance,
							"dr_or_cr": "credit_in_account_currency",
							"unreconciled_amount": float(dec(row.credit_in_account_currency)),
							"unadjusted_amount": float(dec(row.credit_in_account_currency)),
							"allocated_amount": float(amount),
							"difference_amount": 0,
							"cost_center": row.cost_center,
						}
					)
				]
			)
	return name


def open_credits(company: str, as_of=None) -> list[dict]:
	"""Journal Entry rows that leave a customer's receivable credited with no invoice (opening credits and any
	other unreconciled JE credit), per Journal Entry, as the AR tie-out counts them: negative, like a payment's
	unallocated amount. One query."""
	conditions = ["je.company = %(company)s", "je.docstatus = 1", "jea.party_type = 'Customer'",
		"ifnull(jea.reference_type, '') = ''", "acc.account_type = 'Receivable'"]
	if as_of is not None:
		conditions.append("je.posting_date <= %(as_of)s")
	rows = frappe.db.sql(
		f"""select je.name, jea.party, jea.account_currency, je.posting_date,
			sum(jea.credit_in_account_currency - jea.debit_in_account_currency) as open_credit,
			max(jea.exchange_rate) as exchange_rate
		from `tabJournal Entry Account` jea
		join `tabJournal Entry` je on je.name = jea.parent
		join `tabAccount` acc on acc.name = jea.account
		where {' and '.join(conditions)}
		group by je.name, jea.party, jea.account_currency, je.posting_date
		having open_credit != 0
		order by je.posting_date, je.name""",
		{"company": company, "as_of": as_of},
		as_dict=True,
	)
	return rows
