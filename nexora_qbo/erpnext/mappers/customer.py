"""Customer <-> canonical customer record.

display_name is `customer_name`, never the document name: ERPNext names a second "Acme" customer
"Acme - 1" (Selling Settings naming by customer name), and such a suffixed name is never used to match a
QBO customer. Email and phone live on the primary Contact, the billing address on the primary Address
(both linked through Dynamic Links), notes in `customer_details`, the tax id in `tax_id`, the currency in
`default_currency`, terms in `payment_terms` (only when the realm maps the template to a QBO term).
"""

from __future__ import annotations

import frappe

from nexora_qbo.erpnext import constants as K
from frappe.utils import cint

from nexora_qbo.erpnext.mappers import (
	disable_master,
	CompanyContext,
	LedgerError,
	inbound_write,
	is_qbo_placeholder,
	local_value,
	mark_origin,
	text,
)
from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R

DOCTYPE = "Customer"


# ----------------------------------------------------------------------------------------------------------
# read
# ----------------------------------------------------------------------------------------------------------


def to_record(ctx: CompanyContext, name: str) -> dict | None:
	if not frappe.db.exists(DOCTYPE, name):
		return None
	doc = frappe.get_doc(DOCTYPE, name)
	email, phone = _contact_values(doc)
	return R.normalize(
		C.CUSTOMER,
		{
			"display_name": doc.customer_name,
			"company_name": doc.customer_name if doc.customer_type == "Company" else None,
			"email": email,
			"phone": phone,
			"tax_id": doc.tax_id,
			"currency": doc.default_currency,
			"terms": ctx.mapped("terms_map", doc.payment_terms),
			"notes": text(doc.customer_details),
			"billing_address": _address_values(doc),
			"active": not cint(doc.disabled),
			# issue 11: a client's job site is a QBO sub-customer; exempt customers are QBO Taxable=false
			"parent": doc.get(K.CF_PARENT_CUSTOMER) or None,
			"bill_with_parent": bool(cint(doc.get(K.CF_BILL_WITH_PARENT))),
			"taxable": not cint(doc.get(K.CF_TAX_EXEMPT)),
			"exemption_reason": doc.get(K.CF_EXEMPTION_REASON) or None,
		},
	)


def _primary_contact(doc) -> str | None:
	if doc.customer_primary_contact and frappe.db.exists("Contact", doc.customer_primary_contact):
		return doc.customer_primary_contact
	rows = frappe.get_all(
		"Dynamic Link",
		filters={"link_doctype": DOCTYPE, "link_name": doc.name, "parenttype": "Contact"},
		pluck="parent",
		order_by="creation asc",
		limit=1,
	)
	return rows[0] if rows else None


def _contact_values(doc) -> tuple[str | None, str | None]:
	contact = _primary_contact(doc)
	if not contact:
		return doc.email_id or None, doc.mobile_no or None
	c = frappe.db.get_value("Contact", contact, ["email_id", "phone", "mobile_no"], as_dict=True)
	return (c.email_id or doc.email_id or None), (c.phone or c.mobile_no or doc.mobile_no or None)


def _primary_address(doc) -> str | None:
	if doc.customer_primary_address and frappe.db.exists("Address", doc.customer_primary_address):
		return doc.customer_primary_address
	rows = frappe.get_all(
		"Dynamic Link",
		filters={"link_doctype": DOCTYPE, "link_name": doc.name, "parenttype": "Address"},
		pluck="parent",
		order_by="creation asc",
		limit=1,
	)
	return rows[0] if rows else None


def _address_values(doc) -> dict | None:
	name = _primary_address(doc)
	if not name:
		return None
	a = frappe.db.get_value(
		"Address",
		name,
		["address_line1", "address_line2", "city", "state", "pincode", "country"],
		as_dict=True,
	)
	return {
		"line1": a.address_line1,
		"line2": a.address_line2,
		"city": a.city,
		"region": a.state,
		"postal_code": a.pincode,
		"country": a.country,
	}


def resolve_country(value: str | None) -> str | None:
	"""QBO's free-text Country ("US", "USA", "United States") as an ERPNext Country name."""
	if not value:
		return None
	if frappe.db.exists("Country", value):
		return value
	code = value.strip().lower()
	if code in ("usa", "u.s.a.", "u.s."):
		code = "us"
	found = frappe.db.get_value("Country", {"code": code}, "name")
	return found


def carry_from_base(ctx: CompanyContext, record: dict, base: dict | None) -> dict:
	"""Fields ERPNext cannot hold keep QBO's last-synced value, so they never look like a local edit:
	CompanyName, unmapped terms, an address ERPNext could not store, QBO's spelling of the
	country (or no country, where ERPNext filled in the company's)."""
	if not base:
		return record
	out = dict(record)
	# ERPNext has no company-name field (it is derived from customer_type): always QBO's own value
	out["company_name"] = base.get("company_name")
	if out.get("terms") is None and is_qbo_placeholder(base.get("terms")):
		out["terms"] = base["terms"]
	if out.get("currency") is None:
		out["currency"] = base.get("currency")
	baddr, laddr = base.get("billing_address"), out.get("billing_address")
	if laddr is None:
		out["billing_address"] = baddr
	elif baddr:
		laddr = dict(laddr)
		if baddr.get("country") is None and laddr.get("country") in (None, ctx.country):
			laddr["country"] = None
		elif resolve_country(baddr.get("country")) == laddr.get("country"):
			laddr["country"] = baddr.get("country")
		out["billing_address"] = laddr
	return R.normalize(C.CUSTOMER, out)


# ----------------------------------------------------------------------------------------------------------
# list / match
# ----------------------------------------------------------------------------------------------------------


def list_ids(ctx: CompanyContext) -> list[str]:
	"""Customers are shared by all companies in ERPNext: every active, external customer is exported (an
	internal customer is another company of the group, not a QBO customer)."""
	return frappe.get_all(
		DOCTYPE, filters={"disabled": 0, "is_internal_customer": 0}, pluck="name", order_by="creation asc"
	)


def find_match(ctx: CompanyContext, record: dict) -> str | None:
	"""By the customer's stable keys, strongest first: email, tax id, exact (normalised) customer_name.
	A key matching two customers is ambiguous: None (a person decides; never guess)."""
	for key, value in R.match_keys(C.CUSTOMER, record):
		if key == "email":
			hits = _by_email(value)
		elif key == "tax_id":
			rows = frappe.db.sql(
				"select name, tax_id from `tabCustomer` where replace(tax_id, ' ', '') = %s",
				(value,),
				as_dict=True,
			)
			hits = [r.name for r in rows if "".join(str(r.tax_id).split()).casefold() == value]
		else:
			hits = [
				r.name
				for r in name_candidates(DOCTYPE, "customer_name", value)
				if R.normalize_name(r.customer_name) == value and not R.has_erpnext_dup_suffix(r.name)
			]
		hits = sorted(set(hits))
		if len(hits) == 1:
			return hits[0]
		if len(hits) > 1:
			return None
	return None


def name_candidates(doctype: str, field: str, normalized: str) -> list:
	"""Rows whose `field` may equal a normalised name: the database narrows (case-insensitive collation, any
	run of spaces), Python decides with records.normalize_name. Never a scan of the whole table."""

	def like(part: str) -> str:
		return part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

	pattern = "%".join(like(part) for part in normalized.split(" "))
	return frappe.db.sql(
		f"select name, `{field}` from `tab{doctype}` where `{field}` like %s", (f"%{pattern}%",), as_dict=True
	)


def _by_email(email: str) -> list[str]:
	direct = frappe.db.sql("select name from `tabCustomer` where lower(email_id)=%s", (email,), pluck=True)
	via_contact = frappe.db.sql(
		"""select distinct dl.link_name from `tabContact Email` ce
		join `tabDynamic Link` dl on dl.parent = ce.parent and dl.parenttype = 'Contact'
		where lower(ce.email_id) = %s and dl.link_doctype = 'Customer'""",
		(email,),
		pluck=True,
	)
	return list(set(direct) | set(via_contact))


# ----------------------------------------------------------------------------------------------------------
# write (from QBO)
# ----------------------------------------------------------------------------------------------------------


def upsert(ctx: CompanyContext, local_id: str | None, record: dict) -> str:
	rec = R.normalize(C.CUSTOMER, record)
	if not rec.get("display_name"):
		raise LedgerError("The QuickBooks customer has no display name, so it cannot be created in ERPNext.")
	with inbound_write(f"the customer {rec['display_name']!r}"):
		if local_id is None:
			doc = frappe.new_doc(DOCTYPE)
			doc.customer_group = ctx.default("customer_group") or _root("Customer Group")
			doc.territory = ctx.default("territory") or _root("Territory")
		else:
			if not frappe.db.exists(DOCTYPE, local_id):
				raise LedgerError(f"The customer {local_id} no longer exists in ERPNext.")
			doc = frappe.get_doc(DOCTYPE, local_id)
		doc.customer_name = rec["display_name"]
		if (
			doc.is_new()
		):  # later, ERPNext's own choice stands (QBO's CompanyName is carried, see carry_from_base)
			doc.customer_type = "Company" if rec.get("company_name") else "Individual"
		doc.tax_id = rec.get("tax_id")
		currency = local_value("Currency", rec.get("currency"))
		if currency and (doc.is_new() or not doc.default_currency):
			doc.default_currency = currency
		terms = local_value("Payment Terms Template", rec.get("terms"))
		if terms or rec.get("terms") is None:
			doc.payment_terms = terms
		doc.customer_details = rec.get("notes")
		doc.disabled = 0 if rec.get("active", True) else 1
		if doc.meta.has_field(K.CF_PARENT_CUSTOMER):  # custom fields made at install (erpnext/setup.py)
			doc.set(K.CF_PARENT_CUSTOMER, rec.get("parent"))
			doc.set(K.CF_BILL_WITH_PARENT, 1 if rec.get("bill_with_parent") else 0)
			doc.set(K.CF_TAX_EXEMPT, 0 if rec.get("taxable", True) else 1)
			doc.set(K.CF_EXEMPTION_REASON, rec.get("exemption_reason"))
		mark_origin(doc)
		doc.save() if not doc.is_new() else doc.insert()
		_sync_contact(doc, rec.get("email"), rec.get("phone"))
		_sync_address(ctx, doc, rec.get("billing_address"))
	return doc.name


def _root(doctype: str) -> str:
	from frappe.utils.nestedset import get_root_of

	return get_root_of(doctype)


def _sync_contact(doc, email: str | None, phone: str | None) -> None:
	contact_name = _primary_contact(doc)
	if not contact_name:
		if not email and not phone:
			return
		contact = frappe.new_doc("Contact")
		if doc.customer_type == "Individual":
			parts = (doc.customer_name or "").split(" ", 1)
			contact.first_name = parts[0]
			contact.last_name = parts[1] if len(parts) > 1 else None
		else:
			contact.first_name = doc.customer_name
			contact.company_name = doc.customer_name
		contact.is_primary_contact = 1
		contact.append("links", {"link_doctype": DOCTYPE, "link_name": doc.name})
	else:
		contact = frappe.get_doc("Contact", contact_name)
	_set_primary(contact, "email_ids", "email_id", email, "is_primary")
	_set_primary(contact, "phone_nos", "phone", phone, "is_primary_phone")
	mark_origin(contact)
	contact.save() if not contact.is_new() else contact.insert()
	values = {"customer_primary_contact": contact.name, "email_id": email, "mobile_no": phone}
	frappe.db.set_value(DOCTYPE, doc.name, values, update_modified=False)
	doc.update(values)


def _set_primary(contact, table: str, fieldname: str, value: str | None, flag: str) -> None:
	rows = contact.get(table) or []
	for row in rows:
		row.set(flag, 0)
	if not value:
		contact.set(table, [r for r in rows if (r.get(fieldname) or "") != ""])
		return
	match = next((r for r in rows if (r.get(fieldname) or "").lower() == value.lower()), None)
	if match is None:
		match = contact.append(table, {fieldname: value})
	match.set(flag, 1)


def _sync_address(ctx: CompanyContext, doc, addr: dict | None) -> None:
	if not addr or not addr.get("line1"):
		return
	if not addr.get("city"):
		return  # ERPNext requires a city; the record keeps QBO's address through the mapping's base
	name = _primary_address(doc)
	address = frappe.get_doc("Address", name) if name else frappe.new_doc("Address")
	if address.is_new():
		address.address_title = doc.customer_name
		address.address_type = "Billing"
		address.is_primary_address = 1
		address.append("links", {"link_doctype": DOCTYPE, "link_name": doc.name})
	address.address_line1 = addr.get("line1")
	address.address_line2 = addr.get("line2")
	address.city = addr.get("city")
	address.state = addr.get("region")
	address.pincode = addr.get("postal_code")
	address.country = resolve_country(addr.get("country")) or address.country or ctx.country
	mark_origin(address)
	address.save() if not address.is_new() else address.insert()
	if doc.customer_primary_address != address.name:
		frappe.db.set_value(
			DOCTYPE, doc.name, "customer_primary_address", address.name, update_modified=False
		)
		doc.customer_primary_address = address.name


def disable(ctx: CompanyContext, local_id: str, reason: str) -> None:
	disable_master(DOCTYPE, "customer", local_id, reason)


def merge(source: str, target: str) -> None:
	"""QBO merged customer `source` into `target` (sync/customer_merge.py): ERPNext's own merge, a rename with
	merge=True, which re-points every Sales Invoice, Payment Entry, Contact and Address link to `target` and
	deletes `source`. Inbound: nothing of it echoes back to QBO."""
	if not frappe.db.exists("Customer", target):
		raise LedgerError(f"Customer {target} does not exist, so {source} cannot be merged into it")
	from frappe.model.rename_doc import rename_doc

	with inbound_write(f"the merge of customer {source!r} into {target!r}"):
		rename_doc("Customer", source, target, merge=True, force=True, ignore_permissions=True,
			show_alert=False, rebuild_search=False)
