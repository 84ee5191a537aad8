"""Sales Invoice → QBO Invoice (pushed once; QBO-created invoices are imported so payments can use them)."""
from __future__ import annotations

from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.entities.base import Resolver, list_from_qbo, list_to_qbo, ref, ref_value
from nexora_qbo.sync.entities.sales_doc import SalesDocSpec


class InvoiceSpec(SalesDocSpec):
	local_type = C.INVOICE
	qbo_entity = "Invoice"
	rank = C.RANK[C.INVOICE]
	cancel_mode = "void"  # Invoice: POST ?operation=void keeps the audit trail

	def to_qbo(self, record: dict, r: Resolver) -> dict:
		rec = R.normalize(C.INVOICE, record)
		body = self._header_to_qbo(rec, r)
		if rec.get("due_date"):
			body["DueDate"] = rec["due_date"]
		term = list_to_qbo(r.settings.terms_map, rec.get("terms"))
		if term:
			body["SalesTermRef"] = ref(term)
		return {k: v for k, v in body.items() if v is not None}

	def from_qbo(self, obj: dict, r: Resolver) -> dict:
		rec = self._header_from_qbo(obj, r)
		rec["due_date"] = obj.get("DueDate")
		rec["terms"] = list_from_qbo(r.settings.terms_map, ref_value(obj, "SalesTermRef"))
		return R.normalize(C.INVOICE, rec)
