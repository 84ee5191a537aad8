"""Short-pay deductions of an ERPNext Payment Entry (write-off, bank charge) reach QBO as credit memos.

Why: ERPNext closes a short-paid invoice with one Payment Entry whose references allocate the invoice in
full while `paid_amount` is what the bank received and the Payment Entry Deductions carry the rest (to a
write-off or bank-charge account). QBO's Payment has no deduction: sent as is, the invoice would keep the
deducted amount open in QBO while ERPNext shows it paid. QBO's own way is a credit memo applied by the same
payment (Payment lines: the invoice for the full amount, the credit memo for the deduction), so the invoice's
Balance follows ERPNext to the cent and the deduction posts to the same account in both books: the credit
memo's only line uses a QBO service item "Deduction: <account>" whose income account is the QBO account the
realm maps the ERPNext deduction account to (debit that account, credit A/R, as the Payment Entry does).

The credit memo and the helper item belong to the payment, not to any ERPNext document: they are mapped under
local keys "<payment>#deduction-<n>" (credit note) and "#deduction-item:<account>" (item), so the pull
recognises them (no local document: never imported as a second credit note or a new item) and the payment
read back from QBO shows the deduction again (PaymentSpec.from_qbo). Writes carry deterministic requestids,
the item is looked up by name first, so a retry after a lost answer never creates a second one.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.entities.base import list_to_qbo, quote
from nexora_qbo.sync.entities.payment import deduction_key
from nexora_qbo.sync.outbox import request_id
from nexora_qbo.sync.ports import Mapping

if TYPE_CHECKING:
	from nexora_qbo.sync.services import RealmContext

ITEM_PREFIX = "Deduction "
ITEM_KEY = "#deduction-item:"


def _map(ctx: RealmContext, local_type: str, local_id: str, entity: str, obj: dict, now) -> Mapping:
	m = Mapping.ours(ctx.realm_id, local_type, local_id, entity, obj, now)
	ctx.services.store.save_mapping(m)
	return m


def _item(ctx: RealmContext, account: str | None, now) -> str:
	"""The QBO service item whose income account is the mapped deduction account (found or created once)."""
	store = ctx.services.store
	key = f"{ITEM_KEY}{account or 'default'}"
	m = store.get_mapping(ctx.realm_id, C.ITEM, key)
	if m is not None:
		return m.qbo_id
	s = ctx.settings
	account_id = list_to_qbo(s.account_map, account, s.default_income_account_id)
	name = f"{ITEM_PREFIX}{account or 'other'}".replace(":", " -")[:100]  # QBO refuses ":" in names
	found = ctx.client.query(f"select * from Item where Name = {quote(name)}").records
	obj = found[0] if found else ctx.client.create("Item", {"Name": name, "Type": "Service",
		"IncomeAccountRef": {"value": account_id}}, request_id=request_id(ctx.realm_id, C.ITEM, key, "create", 0))
	return _map(ctx, C.ITEM, key, "Item", obj, now).qbo_id


def ensure_deductions(ctx: RealmContext, payment_id: str, record: dict, now, generation: int = 0) -> dict:
	"""Create (or find) the credit memo of each deduction of the payment and return the record with each
	deduction's doc_key set, ready for PaymentSpec.to_qbo (the given record is updated in place too)."""
	rec = R.normalize(C.PAYMENT, record)
	if not rec.get("deductions"):
		return record
	store = ctx.services.store
	out = []
	for n, d in enumerate(rec["deductions"], start=1):
		key = deduction_key(payment_id, n)
		if store.get_mapping(ctx.realm_id, C.CREDIT_MEMO, key) is None:
			item_id = _item(ctx, d.get("account"), now)
			note = f"Deduction {n} of payment {payment_id} ({d.get('account') or 'write-off'}), Nexora QBO"
			# PrivateNote is not queryable in QBO: the deterministic requestid makes a retry replay the create
			obj = ctx.client.create("CreditMemo", {
				"CustomerRef": {"value": ctx.qbo_ref(C.CUSTOMER, rec["customer"])},
				"TxnDate": rec.get("txn_date"),
				"PrivateNote": note,
				"Line": [{"DetailType": "SalesItemLineDetail", "Amount": d["amount"],
					"Description": f"Deduction from payment {payment_id}",
					"SalesItemLineDetail": {"ItemRef": {"value": item_id}, "TaxCodeRef": {"value": "NON"}}}],
				"TxnTaxDetail": {"TotalTax": R.money(0)},
			}, request_id=request_id(ctx.realm_id, C.CREDIT_MEMO, key, "create", generation))
			_map(ctx, C.CREDIT_MEMO, key, "CreditMemo", obj, now)
		out.append({**d, "doc_key": key})
	record["deductions"] = out
	return record


__all__ = ["ensure_deductions"]
