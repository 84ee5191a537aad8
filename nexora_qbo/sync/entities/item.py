"""Item ⇄ QBO Item (Service / NonInventory / Inventory), master data."""
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


class ItemSpec(EntitySpec):
	local_type = C.ITEM
	qbo_entity = "Item"
	rank = C.RANK[C.ITEM]
	kind = "master"
	cancel_mode = "deactivate"
	field_keys = {
		"name": ("Name",),
		"sku": ("Sku",),
		"description": ("Description",),
		"type": ("Type",),
		"rate": ("UnitPrice",),
		"income_account": ("IncomeAccountRef",),
		"expense_account": ("ExpenseAccountRef",),
		"asset_account": ("AssetAccountRef",),
		"taxable": ("Taxable",),
		"active": ("Active",),
	}

	def to_qbo(self, record: dict, r: Resolver) -> dict:
		rec = R.normalize(C.ITEM, record)
		s = r.settings
		body = {
			"Name": rec["name"],
			"Sku": rec.get("sku"),
			"Description": rec.get("description"),
			"Type": rec.get("type") or "Service",
			"UnitPrice": rec.get("rate"),
			"IncomeAccountRef": ref(list_to_qbo(s.account_map, rec.get("income_account"), s.default_income_account_id)),
			"ExpenseAccountRef": ref(list_to_qbo(s.account_map, rec.get("expense_account"), s.default_expense_account_id))
			if rec.get("type") == "Inventory" or rec.get("expense_account")
			else None,
			"Taxable": rec.get("taxable", False),
			"Active": rec.get("active", True),
		}
		if rec.get("type") == "Inventory":
			body["AssetAccountRef"] = ref(list_to_qbo(s.account_map, rec.get("asset_account"), s.default_asset_account_id))
			body["TrackQtyOnHand"] = True
			body.setdefault("QtyOnHand", 0)
			body["InvStartDate"] = record.get("inv_start_date") or "2020-01-01"
		return drop_none(body)

	def from_qbo(self, obj: dict, r: Resolver) -> dict:
		s = r.settings
		expense_default = s.default_expense_account_id
		return R.normalize(
			C.ITEM,
			{
				"name": R.strip_deleted_suffix(obj.get("Name")),
				"sku": obj.get("Sku"),
				"description": obj.get("Description"),
				"type": obj.get("Type") or "Service",
				"rate": obj.get("UnitPrice"),
				"income_account": list_from_qbo(s.account_map, ref_value(obj, "IncomeAccountRef"), s.default_income_account_id),
				"expense_account": list_from_qbo(s.account_map, ref_value(obj, "ExpenseAccountRef"), expense_default),
				"asset_account": list_from_qbo(s.account_map, ref_value(obj, "AssetAccountRef"), s.default_asset_account_id),
				"taxable": obj.get("Taxable", False),
				"active": obj.get("Active", True),
			},
		)

	def sparse_update(self, record: dict, fields: list[str], r: Resolver, qbo_id: str, sync_token: str) -> dict:
		if "active" in fields and "name" not in fields:
			fields = [*fields, "name"]  # QBO wants the Name with an (in)activation
		return super().sparse_update(record, fields, r, qbo_id, sync_token)

	def lookup_queries(self, record: dict) -> list[str]:
		rec = R.normalize(C.ITEM, record)
		out = []
		if rec.get("name"):
			out.append(f"select * from Item where Name = {quote(rec['name'])}")
		if rec.get("sku"):
			out.append(f"select * from Item where Sku = {quote(rec['sku'])}")
		return out
