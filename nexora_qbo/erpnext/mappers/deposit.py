"""A bank deposit of received payments <-> an ERPNext "Bank Entry" Journal Entry.

Why a Journal Entry: a QBO Bank Deposit moves money between two balance-sheet accounts (Undeposited Funds to
the bank) and books the fee the bank kept; it changes no receivable. ERPNext has no deposit document; the
bookkeeper's own way to record "these cheques went to the bank today, less the card fee" is a Bank Entry:
	Dr the bank            the net amount the statement shows (one line, so bank reconciliation matches it)
	Dr the fee account     each fee (a QBO fee line of -12.50 is a 12.50 debit; cash back likewise)
	Cr Undeposited Funds   one row per payment deposited, its whole amount, from the account the Payment Entry
	                       received it into (its paid_to), with Reference Type "Payment Entry" and the Payment
	                       Entry's name: that reference is how the entry says WHICH received payments it
	                       deposits (Journal Entry Account offers "Payment Entry" as a reference type in v15)
Why that reference is harmless to receivables (ERPNext v15 source): a Journal Entry row's "Payment Entry"
reference is not one of the types JournalEntry.validate_reference_doc checks, its GL Entry on the (non-receivable)
Undeposited Funds account carries against_voucher_type "Payment Entry", which GLEntry.on_update never uses to
update an outstanding (only Sales/Purchase Invoice, Journal Entry, Fees), and no Payment Ledger Entry is made for
a non-receivable account: no invoice's outstanding, no customer's balance and no payment's allocation moves.

A deposited payment cannot be cancelled before its deposit (`refuse_cancel_of_deposited`, the Payment Entry's
before_cancel), as QBO refuses to void a deposited payment. ERPNext alone does not reliably refuse: its
back-link check runs after on_cancel, and with Accounts Settings "Unlink Payment on Cancellation of Invoice"
on, AccountsController.on_cancel first strips the reference from the deposit's row, leaving a submitted deposit
of a cancelled payment (Undeposited Funds short by its amount). Any submitted Journal Entry of this shape (a
credit row referencing a customer's Payment Entry) is a deposit for the sync, whether the sync or a person made it.

A deposit QBO changed is followed (sync/entities/deposit.py): the entry is cancelled and amended (ERPNext's
own trail of a corrected document), and the mapping moves to the amendment.
"""

from __future__ import annotations

import frappe
from frappe.utils import cint

from nexora_qbo.erpnext.mappers import (
	RETRY_STEP,
	CompanyContext,
	LedgerError,
	MissingMasterData,
	account_of,
	dec,
	inbound_write,
	mark_origin,
	submit_journal_entry,
)
from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R

JE = "Journal Entry"
PE = "Payment Entry"
VOUCHER_TYPE = "Bank Entry"
REFERENCE = "QBO Deposit {number}"  # the Journal Entry's Reference No (ERPNext requires one on a Bank Entry)
BANK_TYPES = ("Bank", "Cash")


def is_deposit(doc) -> bool:
	"""A Journal Entry that deposits received payments: a credit row referencing a customer's Payment Entry."""
	return any(row.get("reference_type") == PE and row.get("reference_name") and dec(row.get("credit_in_account_currency"))
		for row in doc.get("accounts") or [])


def list_ids(ctx: CompanyContext, since=None) -> list[str]:
	filters = {"company": ctx.company, "docstatus": 1}
	if since:
		filters["posting_date"] = (">=", since)
	names = frappe.get_all(JE, filters=filters, pluck="name", order_by="posting_date asc, name asc")
	rows = set(frappe.get_all("Journal Entry Account", filters={"parent": ("in", names or [""]), "reference_type": PE,
		"credit_in_account_currency": (">", 0)}, pluck="parent"))
	return [n for n in names if n in rows]


def to_record(ctx: CompanyContext, name: str) -> dict | None:
	if not frappe.db.exists(JE, name):
		return None
	je = frappe.get_doc(JE, name)
	if je.company != ctx.company or not is_deposit(je):
		return None
	payments, fees, bank = [], [], None
	for row in je.accounts:
		amount = dec(row.credit_in_account_currency) - dec(row.debit_in_account_currency)
		if row.reference_type == PE and row.reference_name and amount > 0:
			payments.append({"doc_key": row.reference_name, "amount": amount})
		elif bank is None and amount < 0 and frappe.get_cached_value("Account", row.account, "account_type") in BANK_TYPES:
			bank = row.account
		else:
			fees.append({"account": row.account, "amount": amount})
	return R.normalize(C.DEPOSIT, {
		"txn_date": je.posting_date,
		"bank_account": bank,
		"currency": ctx.currency,
		"payments": payments,
		"fees": fees,
		"memo": je.user_remark,
		"state": {0: "draft", 1: "submitted", 2: "cancelled"}[cint(je.docstatus)],
		"amended_from": je.amended_from,
	})


def _account(ctx: CompanyContext, value, what: str, label: str) -> str:
	acc = account_of(ctx.company, value)
	if not acc:
		raise MissingMasterData(f"{label}: its {what} {value!r} is not an account of {ctx.company}. Map the QuickBooks "
			f"account to an ERPNext account on the realm, {RETRY_STEP}.")
	return acc


def upsert(ctx: CompanyContext, local_id: str | None, rec: dict) -> str:
	"""Book (or, for a deposit QBO changed, cancel and amend) the Journal Entry of a QBO deposit."""
	label = f"QuickBooks deposit {rec.get('qbo_txn_id') or ''} of {rec.get('txn_date')}".replace("  ", " ")
	if (rec.get("currency") or ctx.currency) != ctx.currency:
		raise LedgerError(f"{label} is in {rec.get('currency')}; the sync books deposits in {ctx.currency} only. Book it "
			f"by hand as a Journal Entry, then choose \u201c{C.ACTION_LABELS[C.ACTION_DISMISS]}\u201d.")
	cost_center = ctx.default("cost_center")
	bank = _account(ctx, rec.get("bank_account"), "bank account", label)
	rows = [{"account": bank, "debit_in_account_currency": float(R.money(rec["total"])), "cost_center": cost_center}]
	for fee in rec.get("fees") or []:
		acc = _account(ctx, fee.get("account"), "fee account", label)
		amount = R.money(fee["amount"])
		key = "debit_in_account_currency" if amount < 0 else "credit_in_account_currency"
		rows.append({"account": acc, key: float(abs(amount)), "cost_center": cost_center})
	for pay in rec.get("payments") or []:
		pe = frappe.db.get_value(PE, pay["doc_key"], ["docstatus", "paid_to", "paid_amount", "company"], as_dict=True)
		if not pe or pe.docstatus != 1 or pe.company != ctx.company:
			raise MissingMasterData(f"{label} deposits {pay['doc_key']}, which is not a submitted Payment Entry of "
				f"{ctx.company}; {RETRY_STEP} once the payment is in ERPNext.")
		if R.money(pe.paid_amount) != R.money(pay["amount"]):
			raise LedgerError(f"{label} deposits {pay['amount']} of {pay['doc_key']}, whose amount in ERPNext is "
				f"{pe.paid_amount}; correct the payment first, {RETRY_STEP}.")
		rows.append({"account": pe.paid_to, "credit_in_account_currency": float(R.money(pay["amount"])),
			"reference_type": PE, "reference_name": pay["doc_key"], "cost_center": cost_center})
	with inbound_write(label):
		amended_from = None
		if local_id and frappe.db.exists(JE, local_id):
			old = frappe.get_doc(JE, local_id)
			if old.docstatus == 1:
				mark_origin(old)
				old.cancel()
			amended_from = local_id
		je = frappe.new_doc(JE)
		je.voucher_type = VOUCHER_TYPE
		je.company = ctx.company
		je.posting_date = rec["txn_date"]
		je.cheque_no = REFERENCE.format(number=rec.get("qbo_txn_id") or "")
		je.cheque_date = rec["txn_date"]
		je.user_remark = rec.get("memo") or f"Bank deposit from QuickBooks ({label})"
		je.amended_from = amended_from
		submit_journal_entry(je, rows)
	return je.name


def cancel(ctx: CompanyContext, local_id: str, reason: str) -> None:
	"""The deposit was deleted in QBO: the payments go back to Undeposited Funds here too."""
	if not frappe.db.exists(JE, local_id):
		return
	with inbound_write(f"cancelling the deposit {local_id}"):
		je = frappe.get_doc(JE, local_id)
		if je.docstatus != 1:
			return
		mark_origin(je)
		je.add_comment("Comment", f"Cancelled by the QuickBooks sync: {reason}")
		je.cancel()


def deposits_of(payment: str) -> list[str]:
	"""The submitted Journal Entries that deposit the Payment Entry `payment`."""
	return sorted(set(frappe.get_all("Journal Entry Account", filters={"reference_type": PE, "reference_name": payment,
		"docstatus": 1, "credit_in_account_currency": (">", 0), "parenttype": JE}, pluck="parent")))


def refuse_cancel_of_deposited(doc) -> None:
	"""A Payment Entry in a submitted bank deposit is not cancelled (QBO refuses to void it too): the deposit
	would stay, moving money that was never received out of Undeposited Funds."""
	deposits = deposits_of(doc.name)
	if deposits:
		frappe.throw(
			f"This payment is in bank deposit {', '.join(deposits)}; cancel the deposit first.",
			title="Payment in a bank deposit",
		)


def account_balances(company: str, accounts, as_of=None) -> dict:
	"""debit - credit per named account from ERPNext's general ledger (non-cancelled GL Entries)."""
	accounts = list(accounts)
	out = {a: R.money(0) for a in accounts}
	filters = {"company": company, "is_cancelled": 0, "account": ("in", accounts or [""])}
	if as_of is not None:
		filters["posting_date"] = ("<=", as_of)
	for row in frappe.get_all("GL Entry", filters=filters, fields=["account", "sum(debit) - sum(credit) as balance"],
			group_by="account"):
		out[row.account] = R.money(row.balance)
	return out


__all__ = ["account_balances", "cancel", "deposits_of", "is_deposit", "list_ids", "refuse_cancel_of_deposited", "to_record", "upsert"]
