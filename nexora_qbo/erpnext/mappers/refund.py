"""Refunds to a customer on ERPNext (sync/entities/refund.py and refund_receipt.py say why these shapes).

refund          a Payment Entry "Pay" to a Customer whose references pay out return Sales Invoices (credit
                notes): its local id is the Payment Entry. Made in ERPNext only (QBO's journal entries are
                never imported: `upsert` refuses); QBO gets a JournalEntry to A/R + a linking zero Payment.
refund_receipt  a QBO RefundReceipt: a return Sales Invoice with the RefundReceipt's lines (built by the
                sales invoice mapper, so items, qty, rate and tax are the same as any credit note's), paid out
                at once by a Payment Entry "Pay" referencing it (ERPNext's own get_payment_entry, as the
                credit note's "Payment" button makes it), from the account mapped to DepositToAccountRef, with
                PaymentRefNum as reference_no and the mapped mode of payment. The local id is the return
                invoice; both documents are written in one savepoint, so a refusal leaves neither behind.
"""

from __future__ import annotations

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
)
from nexora_qbo.erpnext.mappers import sales_invoice as invoice_mapper
from nexora_qbo.erpnext.mappers.payment_entry import _own_reference, reference_no
from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.entities.refund import REFUNDS_ARE_MADE_HERE

PE = "Payment Entry"
SI = "Sales Invoice"
_STATE = {0: "draft", 1: "submitted", 2: "cancelled"}


def is_refund(doc) -> bool:
	return doc.get("payment_type") == "Pay" and doc.get("party_type") == "Customer"


def _pe(ctx: CompanyContext, name: str):
	if not name or not frappe.db.exists(PE, name):
		return None
	doc = frappe.get_doc(PE, name)
	if doc.company != ctx.company or not is_refund(doc):
		return None
	return doc


def _payout_of(si: str):
	"""The submitted Payment Entry "Pay" that pays out a return invoice (a refund receipt's), or None."""
	rows = frappe.get_all("Payment Entry Reference", filters={"reference_doctype": SI, "reference_name": si,
		"docstatus": 1, "parenttype": PE}, pluck="parent")
	for name in rows:
		if frappe.db.get_value(PE, name, "payment_type") == "Pay":
			return frappe.get_doc(PE, name)
	return None


# --------------------------------------------------------------------------------------------------- refund
def to_record(ctx: CompanyContext, name: str) -> dict | None:
	doc = _pe(ctx, name)
	if doc is None:
		return None
	apps = []
	for ref in doc.references:
		if ref.reference_doctype != SI or not dec(ref.allocated_amount):
			continue
		if cint(frappe.db.get_value(SI, ref.reference_name, "is_return")):
			apps.append({"doc_type": C.CREDIT_MEMO, "doc_key": ref.reference_name, "amount": abs(dec(ref.allocated_amount))})
	return R.normalize(C.REFUND, {
		"customer": doc.party,
		"txn_date": doc.posting_date,
		"total": dec(doc.paid_amount),
		"currency": doc.paid_to_account_currency or ctx.currency,
		"exchange_rate": dec(doc.target_exchange_rate or 1),
		"reference": _own_reference(doc.reference_no),
		"paid_from": ctx.mapped("account_map", doc.paid_from),
		"payment_method": ctx.mapped("payment_method_map", doc.mode_of_payment),
		"applications": apps,
		"state": _STATE[cint(doc.docstatus)],
		"amended_from": doc.get("amended_from") or None,
	})


def list_ids(ctx: CompanyContext, since=None, exclude: set | None = None) -> list[str]:
	"""Refunds of credit notes made in ERPNext (not the payouts of refund receipts brought from QBO)."""
	filters = {"company": ctx.company, "docstatus": 1, "payment_type": "Pay", "party_type": "Customer"}
	if since:
		filters["posting_date"] = (">=", getdate(since))
	names = frappe.get_all(PE, filters=filters, pluck="name", order_by="posting_date asc, creation asc")
	if not exclude:
		return names
	paid_out = set(frappe.get_all("Payment Entry Reference", filters={"parent": ("in", names or [""]),
		"reference_doctype": SI, "reference_name": ("in", list(exclude))}, pluck="parent")) if names else set()
	return [n for n in names if n not in paid_out]


def upsert(ctx: CompanyContext, local_id: str | None, record: dict) -> str:
	if local_id is None:
		raise LedgerError(REFUNDS_ARE_MADE_HERE)
	current = to_record(ctx, local_id)
	if current is None:
		raise LedgerError(f"the refund {local_id} no longer exists in ERPNext.")
	if R.content(C.REFUND, current) != R.content(C.REFUND, record):
		raise LedgerError(f"the refund {local_id} changed in QuickBooks, but it is submitted in ERPNext and "
			"cannot be edited. Change it in ERPNext (cancel and amend), then choose \u201cDismiss\u201d")
	return local_id


def cancel(ctx: CompanyContext, local_id: str, reason: str) -> None:
	doc = _pe(ctx, local_id)
	if doc is None or cint(doc.docstatus) != 1:
		return
	with inbound_write(f"cancelling the refund {local_id}"):
		mark_origin(doc)
		doc.add_comment("Comment", f"Cancelled by the QuickBooks sync: {reason}")
		try:
			doc.cancel()
		except frappe.LinkExistsError as exc:
			raise CannotCancel(f"The refund {local_id} was {reason}, but ERPNext cannot cancel it: {exc}") from exc


# ------------------------------------------------------------------------------------------- refund receipt
def receipt_to_record(ctx: CompanyContext, name: str) -> dict | None:
	rec = invoice_mapper.to_record(ctx, C.CREDIT_MEMO, name)
	if rec is None:
		return None
	pe = _payout_of(name)
	rec = dict(rec)
	rec.pop("against_invoice", None)
	rec.update(
		reference=_own_reference(pe.reference_no) if pe else None,
		paid_from=ctx.mapped("account_map", pe.paid_from) if pe else None,
		payment_method=ctx.mapped("payment_method_map", pe.mode_of_payment) if pe else None,
	)
	return R.normalize(C.REFUND_RECEIPT, rec)


def upsert_receipt(ctx: CompanyContext, local_id: str | None, record: dict) -> str:
	rec = R.normalize(C.REFUND_RECEIPT, record)
	label = f"the QuickBooks refund receipt {rec.get('doc_number') or ''}".strip()
	if local_id is not None:
		current = receipt_to_record(ctx, local_id)
		if current is None:
			raise LedgerError(f"{label}: the ERPNext credit note {local_id} no longer exists.")
		if R.content(C.REFUND_RECEIPT, current) != R.content(C.REFUND_RECEIPT, rec):
			raise LedgerError(f"{label} changed in QuickBooks, but its credit note {local_id} and refund are "
				"submitted in ERPNext and cannot be edited")
		return local_id
	mode = local_value("Mode of Payment", rec.get("payment_method")) or ctx.default("mode_of_payment")
	bank = account_of(ctx.company, rec.get("paid_from")) or ctx.default("payment_account")
	if not bank and mode:
		bank = frappe.db.get_value("Mode of Payment Account", {"parent": mode, "company": ctx.company}, "default_account")
	if not bank:
		raise MissingMasterData(f"{label}: no bank/cash account to refund from. Map QuickBooks' \u201cRefund from\u201d "
			f"account on the QBO Realm of {ctx.company} (or set its Payment Account), {RETRY_STEP}.")
	credit = {k: v for k, v in rec.items() if k not in ("reference", "paid_from", "payment_method", "outstanding")}
	from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry

	with inbound_write(label):
		si = invoice_mapper.upsert(ctx, C.CREDIT_MEMO, None, credit)
		pe = get_payment_entry(SI, si, ignore_permissions=True)
		pe.posting_date = rec["txn_date"]
		pe.reference_date = rec["txn_date"]
		pe.reference_no = reference_no(rec)
		pe.paid_from = bank
		pe.paid_from_account_currency = frappe.get_cached_value("Account", bank, "account_currency")
		pe.paid_from_account_type = frappe.get_cached_value("Account", bank, "account_type")
		pe.mode_of_payment = mode
		pe.setup_party_account_field()
		pe.set_missing_values()
		mark_origin(pe)
		pe.insert()
		if R.money(pe.paid_amount) != R.money(rec["total"]):
			raise LedgerError(f"{label}: ERPNext would pay out {R.money(pe.paid_amount)} but QuickBooks refunded "
				f"{rec['total']}; nothing was booked.")
		mark_origin(pe)
		pe.submit()
		if R.money(frappe.db.get_value(SI, si, "outstanding_amount")) != 0:
			raise LedgerError(f"{label}: the credit note {si} would stay open in ERPNext; nothing was booked.")
	return si


def cancel_receipt(ctx: CompanyContext, local_id: str, reason: str) -> None:
	"""The refund receipt was deleted in QuickBooks: its payout first, then the credit note."""
	pe = _payout_of(local_id)
	if pe is not None:
		cancel(ctx, pe.name, reason)
	invoice_mapper.cancel(ctx, C.CREDIT_MEMO, local_id, reason)


def receipt_ids(ctx: CompanyContext) -> set[str]:
	"""Return invoices that are refund receipts brought from QBO (mapped so)."""
	if not ctx.realm:
		return set()
	return set(frappe.get_all(K.ENTITY_MAP, filters={"realm": ctx.realm, "local_type": C.REFUND_RECEIPT},
		pluck="reference_name"))


__all__ = ["cancel", "cancel_receipt", "is_refund", "list_ids", "receipt_ids", "receipt_to_record", "to_record",
	"upsert", "upsert_receipt"]
