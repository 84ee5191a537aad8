"""A parent customer's QBO payment that pays its jobs' invoices -> one "Bank Entry" Journal Entry.

Why a Journal Entry, not one Payment Entry per job: ERPNext ties a Payment Entry to one party and refuses a
reference to an invoice of another party, so the cheque a client sends for all its job sites cannot be one
Payment Entry. A Journal Entry is ERPNext's own way to book one receipt for several parties: one bank row
(the whole deposit, as the bank statement shows it, so bank reconciliation sees one line, like QBO's one
Payment), one receivable row per job invoice with that job as party and the invoice as reference (ERPNext's
Payment Ledger then moves each invoice's outstanding amount, so each job's receivable ties out), and what QBO
left unapplied as an advance row of the parent (the parent's open credit, as QBO keeps it). One QBO Payment
stays one ERPNext document: the entity map stays one-to-one, a re-read finds it (nothing is booked twice), a
void in QBO cancels it. One Payment Entry per job would split one deposit into several bank lines, need a
one-to-many map the Store does not have, and leave the unapplied money on none of them.

The payer is kept in `pay_to_recd_from` (the Journal Entry's own "Pay To / Recd From"), so the canonical
record reads back exactly as QBO has it (customer = the parent). Home currency only; a foreign-currency
parent payment is refused with the next step (book it by hand).
"""

from __future__ import annotations

import frappe
from frappe.utils import cint

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.mappers import (
	CompanyContext,
	LedgerError,
	MissingMasterData,
	dec,
	inbound_write,
	submit_journal_entry,
)
from nexora_qbo.sync import constants as C
from nexora_qbo.sync import parent_payments
from nexora_qbo.sync import records as R

JE = "Journal Entry"
SI = "Sales Invoice"
VOUCHER_TYPE = "Bank Entry"
NO_REFERENCE = "QBO"
REMARK = "QuickBooks: payment from "  # how our Journal Entries of this kind are told from a person's


def owner_of(app: dict) -> str | None:
	return frappe.db.get_value(SI, app["doc_key"], "customer") if app.get("doc_key") else None


def parent_of(customer: str) -> str | None:
	if not frappe.get_meta("Customer").has_field(K.CF_PARENT_CUSTOMER):
		return None
	return frappe.db.get_value("Customer", customer, K.CF_PARENT_CUSTOMER) or None


def is_parent_payment(name: str) -> bool:
	row = frappe.db.get_value(JE, name, ["voucher_type", "pay_to_recd_from", "user_remark"], as_dict=True)
	return bool(row and row.voucher_type == VOUCHER_TYPE and row.pay_to_recd_from
		and str(row.user_remark or "").startswith(REMARK))


def check(rec: dict) -> None:
	reason = parent_payments.refusal(rec, owner_of, parent_of)
	if reason:
		raise LedgerError(reason)


def for_jobs(rec: dict) -> bool:
	"""The payment pays a document of another customer than the payer (a job's invoice)."""
	return parent_payments.for_jobs(rec, owner_of)


def book(ctx: CompanyContext, rec: dict, label: str, paid_to: str | None, mode: str | None) -> str:
	check(rec)
	if not paid_to:
		raise MissingMasterData(
			f"{label}: no bank/cash account to deposit to. Set the Payment Account on the QBO Realm of "
			f"{ctx.company} (or map QuickBooks' deposit account), then choose \u201cRetry\u201d on its review item."
		)
	return insert(ctx, rec, label, paid_to, mode)


def insert(ctx: CompanyContext, rec: dict, label: str, paid_to: str, mode: str | None) -> str:
	"""Book the payment: bank debit (total), a receivable row per application with the document's customer,
	the unapplied remainder as the payer's advance."""
	if (rec.get("currency") or ctx.currency) != ctx.currency:
		raise LedgerError(
			f"{label} is in {rec.get('currency')} and pays the invoices of several job customers; ERPNext books "
			f"that as a Journal Entry, which the sync makes in {ctx.currency} only. Book it by hand as a Journal "
			f"Entry, then dismiss this item."
		)
	rows = [{"account": paid_to, "debit_in_account_currency": float(rec["total"])}]
	for app in rec["applications"]:
		doc = frappe.db.get_value(
			SI, app["doc_key"], ["docstatus", "customer", "is_return", "debit_to", "cost_center"], as_dict=True
		)
		is_note = app["doc_type"] == C.CREDIT_MEMO
		if not doc or doc.docstatus != 1 or bool(doc.is_return) != is_note:
			raise MissingMasterData(f"{label} pays {app['doc_key']}, which is not a submitted Sales Invoice in ERPNext.")
		rows.append(
			{
				"account": doc.debit_to,
				"party_type": "Customer",
				"party": doc.customer,
				("debit_in_account_currency" if is_note else "credit_in_account_currency"): float(app["amount"]),
				"reference_type": SI,
				"reference_name": app["doc_key"],
				"cost_center": doc.cost_center or ctx.default("cost_center"),
			}
		)
	unapplied = R.money(rec.get("unapplied") or 0)
	if unapplied:
		from erpnext.accounts.party import get_party_account

		rows.append(
			{
				"account": get_party_account("Customer", rec["customer"], ctx.company) or ctx.default("receivable_account"),
				"party_type": "Customer",
				"party": rec["customer"],
				"credit_in_account_currency": float(unapplied),
				"is_advance": "Yes",
				"cost_center": ctx.default("cost_center"),
			}
		)
	with inbound_write(label):
		je = frappe.new_doc(JE)
		je.voucher_type = VOUCHER_TYPE
		je.company = ctx.company
		je.posting_date = rec["txn_date"]
		je.pay_to_recd_from = rec["customer"]
		je.mode_of_payment = mode
		je.cheque_no = rec.get("reference") or NO_REFERENCE
		je.cheque_date = rec["txn_date"]
		je.user_remark = f"{REMARK}{rec['customer']} for its jobs' invoices ({label})"
		submit_journal_entry(je, rows)
		# ERPNext fills "Pay To / Recd From" with the first party row's name (a job); the receipt is the payer's,
		# and the canonical record reads the payer back from here
		frappe.db.set_value(JE, je.name, "pay_to_recd_from", rec["customer"], update_modified=False)
	return je.name


def to_record(ctx: CompanyContext, name: str) -> dict | None:
	je = frappe.get_doc(JE, name)
	if je.company != ctx.company:
		return None
	apps, total, unapplied, bank = [], dec(0), dec(0), None
	for row in je.accounts:
		if row.party_type == "Customer" and row.reference_type == SI:
			is_note = bool(dec(row.debit_in_account_currency))
			amount = dec(row.debit_in_account_currency) if is_note else dec(row.credit_in_account_currency)
			apps.append({"doc_type": C.CREDIT_MEMO if is_note else C.INVOICE, "doc_key": row.reference_name,
				"amount": amount})
		elif row.party_type == "Customer":
			unapplied += dec(row.credit_in_account_currency) - dec(row.debit_in_account_currency)
		elif dec(row.debit_in_account_currency):
			total += dec(row.debit_in_account_currency)
			bank = row.account
	return R.normalize(
		C.PAYMENT,
		{
			"customer": je.pay_to_recd_from,
			"txn_date": je.posting_date,
			"total": total,
			"currency": ctx.currency,
			"exchange_rate": 1,
			"reference": je.cheque_no if je.cheque_no != NO_REFERENCE else None,
			"deposit_account": ctx.mapped("account_map", bank),
			"payment_method": ctx.mapped("payment_method_map", je.get("mode_of_payment")),
			"applications": apps,
			"unapplied": unapplied,
			"deductions": [],
			"state": {0: "draft", 1: "submitted", 2: "cancelled"}[cint(je.docstatus)],
		},
	)


__all__ = ["book", "check", "for_jobs", "insert", "is_parent_payment", "to_record"]
