"""Customer ⇄ QBO Customer (master data, merged field by field)."""
from __future__ import annotations

from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.entities.base import (
	EntitySpec,
	Resolver,
	drop_none,
	list_from_qbo,
	list_to_qbo,
	quote,
	ref,
	ref_value,
)

_ADDR = (("line1", "Line1"), ("line2", "Line2"), ("city", "City"), ("region", "CountrySubDivisionCode"),
	("postal_code", "PostalCode"), ("country", "Country"))


class CustomerSpec(EntitySpec):
	local_type = C.CUSTOMER
	qbo_entity = "Customer"
	rank = C.RANK[C.CUSTOMER]
	kind = "master"
	cancel_mode = "deactivate"
	field_keys = {
		"display_name": ("DisplayName",),
		"company_name": ("CompanyName",),
		"email": ("PrimaryEmailAddr",),
		"phone": ("PrimaryPhone",),
		"tax_id": ("ResaleNum",),
		"currency": ("CurrencyRef",),
		"terms": ("SalesTermRef",),
		"notes": ("Notes",),
		"billing_address": ("BillAddr",),
		"active": ("Active",),
		"parent": ("ParentRef", "Job"),
		"bill_with_parent": ("BillWithParent",),
		"taxable": ("Taxable",),
		"exemption_reason": ("TaxExemptionReasonId",),
	}

	def to_qbo(self, record: dict, r: Resolver) -> dict:
		rec = R.normalize(C.CUSTOMER, record)
		addr = rec.get("billing_address")
		body = {
			"DisplayName": rec["display_name"],
			"CompanyName": rec.get("company_name"),
			"PrimaryEmailAddr": {"Address": rec["email"]} if rec.get("email") else None,
			"PrimaryPhone": {"FreeFormNumber": rec["phone"]} if rec.get("phone") else None,
			"ResaleNum": rec.get("tax_id"),
			"CurrencyRef": ref(rec.get("currency")),
			"SalesTermRef": ref(list_to_qbo(r.settings.terms_map, rec.get("terms"))),
			"Notes": rec.get("notes"),
			"BillAddr": drop_none({q: addr.get(c) for c, q in _ADDR}) if addr else None,
			"Active": rec.get("active", True),
			# a job (sub-customer): its parent must be in QBO first (push resolves the dependency)
			"Job": True if rec.get("parent") else None,
			"ParentRef": ref(r.qbo_ref(C.CUSTOMER, rec["parent"])) if rec.get("parent") else None,
			"BillWithParent": True if rec.get("bill_with_parent") else (False if rec.get("parent") else None),
			"Taxable": rec.get("taxable", True),
			"TaxExemptionReasonId": rec.get("exemption_reason") if not rec.get("taxable", True) else None,
		}
		return drop_none(body)

	def from_qbo(self, obj: dict, r: Resolver) -> dict:
		addr = obj.get("BillAddr") or None
		return R.normalize(
			C.CUSTOMER,
			{
				# QBO renames inactive customers "X (deleted)"; the name is still "X" (no rename ping-pong)
				"display_name": R.strip_deleted_suffix(obj.get("DisplayName")),
				"company_name": obj.get("CompanyName"),
				"email": (obj.get("PrimaryEmailAddr") or {}).get("Address"),
				"phone": (obj.get("PrimaryPhone") or {}).get("FreeFormNumber"),
				"tax_id": obj.get("ResaleNum"),
				"currency": ref_value(obj, "CurrencyRef"),
				"terms": list_from_qbo(r.settings.terms_map, ref_value(obj, "SalesTermRef")),
				"notes": obj.get("Notes"),
				"billing_address": {c: addr.get(q) for c, q in _ADDR} if addr else None,
				"active": obj.get("Active", True),
				# the parent is imported first when it is not in ERPNext yet (local_ref reads it)
				"parent": r.local_ref("Customer", ref_value(obj, "ParentRef")) if obj.get("Job") and ref_value(obj, "ParentRef") else None,
				"bill_with_parent": bool(obj.get("BillWithParent")),
				"taxable": obj.get("Taxable", True) is not False,
				"exemption_reason": None if obj.get("TaxExemptionReasonId") in (None, "") else str(obj["TaxExemptionReasonId"]),
			},
		)

	def sparse_update(self, record: dict, fields: list[str], r: Resolver, qbo_id: str, sync_token: str) -> dict:
		# (re)activation needs the name repeated so QBO drops or keeps its " (deleted)" suffix correctly
		if "active" in fields and "display_name" not in fields:
			fields = [*fields, "display_name"]
		return super().sparse_update(record, fields, r, qbo_id, sync_token)

	def local_view(self, record: dict, r: Resolver) -> dict:
		rec = R.normalize(C.CUSTOMER, record)
		if rec.get("currency") is None:
			rec["currency"] = r.settings.home_currency  # QBO assigns the home currency at creation
		return rec

	def lookup_queries(self, record: dict) -> list[str]:
		name = R.normalize(C.CUSTOMER, record).get("display_name")
		if not name:
			return []
		return [f"select * from Customer where DisplayName = {quote(name)}"]
