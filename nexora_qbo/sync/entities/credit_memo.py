"""Credit note (Sales Invoice return) ⇄ QBO CreditMemo.

QBO cannot void a CreditMemo through the API (void exists for Invoice, Payment, SalesReceipt, BillPayment
only), so a local cancel deletes it. QBO has no "against invoice" link on a CreditMemo: the local original is
kept in PrivateNote for the bookkeeper, and QBO-created credit memos arrive with against_invoice None (their
credit is applied by a zero Payment, which arrives as a payment with a credit_memo application).
"""
from __future__ import annotations

from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.entities.base import Resolver
from nexora_qbo.sync.entities.sales_doc import SalesDocSpec


class CreditMemoSpec(SalesDocSpec):
	local_type = C.CREDIT_MEMO
	qbo_entity = "CreditMemo"
	rank = C.RANK[C.CREDIT_MEMO]
	cancel_mode = "delete"
	field_keys = {k: v for k, v in SalesDocSpec.field_keys.items() if k not in ("due_date", "terms")}

	def to_qbo(self, record: dict, r: Resolver) -> dict:
		rec = R.normalize(C.CREDIT_MEMO, record)
		body = self._header_to_qbo(rec, r)
		if rec.get("against_invoice"):
			body["PrivateNote"] = f"Credit note against {rec['against_invoice']}"
		return {k: v for k, v in body.items() if v is not None}

	def from_qbo(self, obj: dict, r: Resolver) -> dict:
		rec = self._header_from_qbo(obj, r)
		rec["outstanding"] = obj.get("RemainingCredit", obj.get("Balance"))
		return R.normalize(C.CREDIT_MEMO, rec)
