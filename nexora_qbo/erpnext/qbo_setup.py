"""QBO's set-up (Preferences) and lists (classes, locations, terms, tax codes, payment methods, accounts) as the
Frappe layer keeps them: when they are read, the suggested mappings the realm form shows, and the location
dimension a realm needs.

Cadence, and why: Preferences and the lists are read at connect (the companyinfo job), on each import (the
import job and the go-live preview), when a person asks ("Read QuickBooks settings" on the realm), and by the
scheduled pull at most once a day (K.REFERENCE_REFRESH_HOURS). Not on every 5-minute tick: the lists change
when someone sets up the company (a new class, a new term), not with daily bookkeeping; a refresh is eight
requests per realm (Preferences, CompanyInfo, six list queries) and eight audit rows, so every tick would
add ~2,300 audit rows a day per realm and spend the realm's request budget on data that almost never moves.
A person who just added a class in QBO presses the button rather than waiting for the daily refresh.
"""

from __future__ import annotations

from datetime import timedelta

import frappe
from frappe import _
from frappe.utils import get_datetime, now_datetime

from nexora_qbo.erpnext import constants as K


def read_setup(engine, realm_id: str) -> dict:
	"""Preferences onto the realm (the mapping follows them) and the reference lists into QBO Reference."""
	prefs = engine.read_preferences(realm_id)
	counts = engine.refresh_references(realm_id)
	realm = frappe.db.get_value(K.REALM, {"realm_id": realm_id}, "name")
	from nexora_qbo.erpnext.token_store import set_values_autonomously

	set_values_autonomously(K.REALM, realm, {K.REFERENCES_REFRESHED_FIELD: now_datetime()})
	return {"preferences": prefs, "references": counts}


def due(realm: str, now=None) -> bool:
	"""The scheduled pull refreshes the set-up when it was never read or is older than the cadence."""
	last = frappe.db.get_value(K.REALM, realm, K.REFERENCES_REFRESHED_FIELD)
	if not last:
		return True
	return get_datetime(now or now_datetime()) - get_datetime(last) >= timedelta(hours=K.REFERENCE_REFRESH_HOURS)


# ------------------------------------------------------------------------------------ suggested mappings
def suggested_maps(realm: str) -> list[dict]:
	"""Local values not mapped yet whose name matches exactly one active QBO entry (sync/references.suggest):
	{map_type, local_value, qbo_reference, qbo_id, qbo_name}, for a person to confirm on the realm form."""
	from nexora_qbo.sync.references import suggest

	doc = frappe.get_doc(K.REALM, realm)
	mapped = {(r.map_type, r.local_value) for r in doc.reference_maps}
	out = []
	for map_type, (ref_type, by_company) in K.SUGGESTED_MAPS.items():
		refs = frappe.get_all(K.QBO_REFERENCE, filters={"realm": realm, "ref_type": ref_type},
			fields=["name", "qbo_id", "qbo_name", "full_name", "active"])
		if not refs or not frappe.db.exists("DocType", map_type):
			continue
		filters = {"company": doc.company} if by_company and frappe.get_meta(map_type).has_field("company") else {}
		if frappe.get_meta(map_type).has_field("is_group"):
			filters["is_group"] = 0
		local = [n for n in frappe.get_all(map_type, filters=filters, pluck="name") if (map_type, n) not in mapped]
		rows = [{"qbo_id": r.qbo_id, "name": r.qbo_name, "full_name": r.full_name, "active": bool(r.active)} for r in refs]
		by_id = {r.qbo_id: r for r in refs}
		for local_value, qbo_id in sorted(suggest(local, rows).items()):
			ref = by_id[qbo_id]
			out.append({"map_type": map_type, "local_value": local_value, "qbo_reference": ref.name,
				"qbo_id": qbo_id, "qbo_name": ref.full_name or ref.qbo_name})
	return out


def add_maps(realm: str, rows: list[dict]) -> int:
	"""Append the rows a person confirmed (each must be a current suggestion) to the realm's reference maps."""
	current = {(s["map_type"], s["local_value"]): s for s in suggested_maps(realm)}
	doc = frappe.get_doc(K.REALM, realm)
	added = 0
	for row in rows or []:
		s = current.get((row.get("map_type"), row.get("local_value")))
		if not s:
			continue
		doc.append("reference_maps", {k: s[k] for k in ("map_type", "local_value", "qbo_reference", "qbo_id", "qbo_name")})
		added += 1
	if added:
		doc.save()
	return added


# ------------------------------------------------------------------------------------ location dimension
def location_dimension() -> str | None:
	"""The fieldname of the ERPNext Accounting Dimension QBO locations map to, or None."""
	from nexora_qbo.erpnext.mappers.sales_invoice import location_field

	return location_field()


def location_hint() -> str | None:
	"""What the realm form says when the site has no location dimension (None when it has one)."""
	if location_dimension():
		return None
	return _(
		"QuickBooks locations (Departments) need a location dimension in ERPNext, and this site has none: "
		"locations are neither sent to QuickBooks nor brought in. Choose \u201cCreate location dimension\u201d "
		"on this form, or create it yourself: Accounting Dimension, New, Reference Document Type \u201c{0}\u201d, "
		"Save. Then add one {0} per QuickBooks location and map them under Reference Maps."
	).format(K.LOCATION_DIMENSION_DOCTYPE)


def make_location_dimension() -> str:
	"""Create the Accounting Dimension on Branch (ERPNext adds the field to invoices, payments, GL entries)."""
	existing = location_dimension()
	if existing:
		return existing
	doc = frappe.get_doc({"doctype": "Accounting Dimension", "document_type": K.LOCATION_DIMENSION_DOCTYPE})
	doc.insert()
	return doc.fieldname
