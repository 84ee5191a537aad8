"""Item <-> canonical item record.

name is the item_code. The income/expense accounts come from the Item Default row of the realm's company
(carried only when the realm maps that account to a QBO Account; an unmapped account means "the realm's
default", which is how it is sent). The rate is the Item Price of the realm's selling price list. QBO
types: Inventory <-> is_stock_item=1; Service and NonInventory are both non-stock items in ERPNext, so for a
mapped item QBO's last-synced type is kept (an ERPNext edit never turns a NonInventory item into a
Service), and a new local non-stock item is a Service.
"""

from __future__ import annotations

import frappe
from frappe.utils import cint

from nexora_qbo.erpnext.mappers import (
	disable_master,
	CompanyContext,
	LedgerError,
	account_of,
	dec,
	inbound_write,
	is_qbo_placeholder,
	mark_origin,
	text,
)
from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R

DOCTYPE = "Item"


def price_list(ctx: CompanyContext) -> str:
	return (
		ctx.default("selling_price_list")
		or frappe.db.get_single_value("Selling Settings", "selling_price_list")
		or "Standard Selling"
	)


def _item_default(name: str, company: str) -> dict:
	row = frappe.db.get_value(
		"Item Default",
		{"parent": name, "parenttype": DOCTYPE, "company": company},
		["income_account", "expense_account", "selling_cost_center"],
		as_dict=True,
	)
	return row or {}


def _rate(ctx: CompanyContext, name: str):
	rate = frappe.db.get_value(
		"Item Price", {"item_code": name, "price_list": price_list(ctx), "selling": 1}, "price_list_rate"
	)
	return None if rate is None else dec(rate)


def to_record(ctx: CompanyContext, name: str) -> dict | None:
	if not frappe.db.exists(DOCTYPE, name):
		return None
	doc = frappe.db.get_value(
		DOCTYPE,
		name,
		["name", "item_code", "item_name", "description", "is_stock_item", "disabled"],
		as_dict=True,
	)
	defaults = _item_default(name, ctx.company)
	description = text(doc.description)
	if description == doc.item_name or description == doc.item_code:
		description = None  # ERPNext fills the description with the name when none is given
	return R.normalize(
		C.ITEM,
		{
			"name": doc.item_code,
			"sku": None,
			"description": description,
			"type": "Inventory" if cint(doc.is_stock_item) else "Service",
			"rate": _rate(ctx, name),
			"income_account": ctx.mapped("account_map", defaults.get("income_account")),
			"expense_account": ctx.mapped("account_map", defaults.get("expense_account")),
			"asset_account": None,
			"taxable": False,
			"active": not cint(doc.disabled),
		},
	)


def carry_from_base(ctx: CompanyContext, record: dict, base: dict | None) -> dict:
	"""Fields ERPNext cannot hold keep QBO's last-synced value (module docstring)."""
	if not base:
		return record
	out = dict(record)
	if out.get("type") != "Inventory" and base.get("type") in ("Service", "NonInventory"):
		out["type"] = base["type"]
	for key in ("sku", "taxable", "asset_account"):
		out[key] = base.get(key)
	for key in ("description", "rate"):
		if out.get(key) is None:
			out[key] = base.get(key)
	for key in ("income_account", "expense_account"):
		if out.get(key) is None and is_qbo_placeholder(base.get(key)):
			out[key] = base[key]
	return R.normalize(C.ITEM, out)


def list_ids(ctx: CompanyContext) -> list[str]:
	return frappe.get_all(
		DOCTYPE,
		filters={"disabled": 0, "is_sales_item": 1, "has_variants": 0},
		pluck="name",
		order_by="creation asc",
	)


def find_match(ctx: CompanyContext, record: dict) -> str | None:
	"""By item_code, then item_name (case and space insensitive); ambiguous -> None."""
	keys = R.match_keys(C.ITEM, record)
	if not keys:
		return None
	from nexora_qbo.erpnext.mappers.customer import name_candidates

	for key, value in keys:
		if key == "name":
			for field in ("item_code", "item_name"):
				rows = name_candidates(DOCTYPE, field, value)
				hits = sorted({r.name for r in rows if R.normalize_name(r.get(field)) == value})
				if len(hits) == 1:
					return hits[0]
				if len(hits) > 1:
					return None
		elif key == "sku":
			hits = sorted(frappe.get_all(DOCTYPE, filters={"item_code": value}, pluck="name"))
			if len(hits) == 1:
				return hits[0]
	return None


def upsert(ctx: CompanyContext, local_id: str | None, record: dict) -> str:
	rec = R.normalize(C.ITEM, record)
	if not rec.get("name"):
		raise LedgerError("The QuickBooks item has no name, so it cannot be created in ERPNext.")
	with inbound_write(f"the item {rec['name']!r}"):
		if local_id is None:
			code = rec["name"][:140]
			if frappe.db.exists(DOCTYPE, code):
				code = f"{code} ({rec.get('sku') or 'QBO'})"[:140]
			doc = frappe.new_doc(DOCTYPE)
			doc.item_code = code
			doc.item_group = ctx.default("item_group") or _root("Item Group")
			doc.stock_uom = _uom(ctx, rec.get("type"))
			doc.is_stock_item = 1 if rec.get("type") == "Inventory" else 0
			doc.is_sales_item = 1
			doc.is_purchase_item = 0 if rec.get("type") == "Service" else 1
			doc.include_item_in_manufacturing = 0
		else:
			if not frappe.db.exists(DOCTYPE, local_id):
				raise LedgerError(f"The item {local_id} no longer exists in ERPNext.")
			doc = frappe.get_doc(DOCTYPE, local_id)
		doc.item_name = rec["name"][:140]
		# no description in QBO -> ERPNext's default (the name), which reads back as "no description": a
		# description the bookkeeper cleared is never pushed back to QBO
		doc.description = rec.get("description") or doc.item_name
		doc.disabled = 0 if rec.get("active", True) else 1
		_set_defaults(ctx, doc, rec)
		mark_origin(doc)
		doc.save() if not doc.is_new() else doc.insert()
		if rec.get("rate") is not None:
			_set_price(ctx, doc.name, rec["rate"])
	return doc.name


def _uom(ctx: CompanyContext, qbo_type: str | None) -> str:
	"""QBO quantities may be fractional (7.5 hours): a service or non-inventory item gets a UOM that allows
	fractions (the realm's, or "Hour"), since ERPNext's default "Nos" must be a whole number."""
	wanted = ctx.default("stock_uom") or "Nos"
	if qbo_type == "Inventory" or not cint(frappe.db.get_value("UOM", wanted, "must_be_whole_number")):
		return wanted
	for candidate in ("Hour", "Unit", "Day"):
		if frappe.db.exists("UOM", candidate) and not cint(
			frappe.db.get_value("UOM", candidate, "must_be_whole_number")
		):
			return candidate
	return wanted


def _root(doctype: str) -> str:
	from frappe.utils.nestedset import get_root_of

	return get_root_of(doctype)


def _set_defaults(ctx: CompanyContext, doc, rec: dict) -> None:
	income = account_of(ctx.company, rec.get("income_account"))
	expense = account_of(ctx.company, rec.get("expense_account"))
	row = next((r for r in doc.get("item_defaults") or [] if r.company == ctx.company), None)
	if row is None:
		if not income and not expense:
			return
		row = doc.append(
			"item_defaults", {"company": ctx.company, "default_warehouse": _warehouse(ctx.company)}
		)
	elif (
		row.default_warehouse
		and frappe.db.get_value("Warehouse", row.default_warehouse, "company") != ctx.company
	):
		row.default_warehouse = _warehouse(ctx.company)
	if income:
		row.income_account = income
	if expense:
		row.expense_account = expense


def _warehouse(company: str) -> str | None:
	"""A leaf warehouse of the company (ERPNext refuses an Item Default whose warehouse is another company's)."""
	abbr = frappe.get_cached_value("Company", company, "abbr")
	if frappe.db.exists("Warehouse", f"Stores - {abbr}"):
		return f"Stores - {abbr}"
	return frappe.db.get_value("Warehouse", {"company": company, "is_group": 0}, "name")


def _set_price(ctx: CompanyContext, item_code: str, rate) -> None:
	pl = price_list(ctx)
	if not frappe.db.exists("Price List", pl):
		return
	name = frappe.db.get_value("Item Price", {"item_code": item_code, "price_list": pl, "selling": 1})
	price = frappe.get_doc("Item Price", name) if name else frappe.new_doc("Item Price")
	if price.is_new():
		price.item_code = item_code
		price.price_list = pl
	if price.price_list_rate is not None and dec(price.price_list_rate) == dec(rate) and not price.is_new():
		return
	price.price_list_rate = rate
	mark_origin(price)
	price.save() if not price.is_new() else price.insert()


def disable(ctx: CompanyContext, local_id: str, reason: str) -> None:
	disable_master(DOCTYPE, "item", local_id, reason)
