"""A sale taken back and paid out at once: QBO RefundReceipt ⇄ ERPNext return Sales Invoice + Payment Entry "Pay".

What a RefundReceipt is in QBO's books (sandbox/entities/refund.py; python-quickbooks
quickbooks/objects/refundreceipt.py): the lines of a sales receipt in reverse — its item lines reduce the
items' income accounts (and tax), `DepositToAccountRef` is the account the money leaves, A/R is never
touched. The ERPNext document that moves the same accounts by the same amounts is a credit note (Sales
Invoice is_return=1) with the same items, quantities, rates and tax, paid out at once by a Payment Entry
"Pay" to the customer referencing it, from the account mapped to DepositToAccountRef, with PaymentRefNum as
its reference and the mapped payment method. Income, the bank and A/R then move identically in both books
(the return invoice's outstanding is 0 as soon as it is paid out, as the RefundReceipt's Balance is 0).

Local record (records.py `refund_receipt`): the credit note's fields plus reference / paid_from /
payment_method. It is born in QBO: an ERPNext credit note and its refund are a credit_memo and a refund
(refund.py), never one of these, so nothing local creates one; an update ("keep ERPNext's version" of a
review item) sends the same shape back.
"""
from __future__ import annotations

from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.entities.base import Resolver, list_from_qbo, list_to_qbo, mapped_from_qbo, ref, ref_value
from nexora_qbo.sync.entities.sales_doc import SalesDocSpec


class RefundReceiptSpec(SalesDocSpec):
	local_type = C.REFUND_RECEIPT
	qbo_entity = "RefundReceipt"
	rank = C.RANK[C.REFUND_RECEIPT]
	cancel_mode = "delete"  # RefundReceipt is deletable, not voidable, through the API (qbo-api.md §1)
	field_keys = {**{k: v for k, v in SalesDocSpec.field_keys.items() if k not in ("due_date", "terms")},
		"reference": ("PaymentRefNum",), "paid_from": ("DepositToAccountRef",),
		"payment_method": ("PaymentMethodRef",)}

	def to_qbo(self, record: dict, r: Resolver) -> dict:
		rec = R.normalize(C.REFUND_RECEIPT, record)
		s = r.settings
		body = self._header_to_qbo(rec, r)
		body["PaymentRefNum"] = rec.get("reference")
		body["DepositToAccountRef"] = ref(list_to_qbo(s.account_map, rec.get("paid_from"), s.default_deposit_account_id))
		body["PaymentMethodRef"] = ref(list_to_qbo(s.payment_method_map, rec.get("payment_method")))
		return {k: v for k, v in body.items() if v is not None}

	def from_qbo(self, obj: dict, r: Resolver) -> dict:
		s = r.settings
		rec = self._header_from_qbo(obj, r)
		rec.update(
			reference=obj.get("PaymentRefNum"),
			paid_from=mapped_from_qbo(s.account_map, ref_value(obj, "DepositToAccountRef"), s.default_deposit_account_id),
			payment_method=list_from_qbo(s.payment_method_map, ref_value(obj, "PaymentMethodRef")),
			qbo_txn_id=obj.get("Id"),
			outstanding=0,
		)
		return R.normalize(C.REFUND_RECEIPT, rec)


__all__ = ["RefundReceiptSpec"]
