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


def _dimension_doc() -> dict | None:
	"""The Accounting Dimension on Branch, made or not yet fully made, enabled or not."""
	return frappe.db.get_value("Accounting Dimension", {"document_type": K.LOCATION_DIMENSION_DOCTYPE},
		["name", "fieldname", "disabled"], as_dict=True)


def location_hint() -> str | None:
	"""What the realm form says when the site has no usable location dimension (None when it has one)."""
	if location_dimension():
		return None
	dim = _dimension_doc()
	if dim and not dim.disabled:
		# ERPNext adds a new dimension's fields to the accounting documents in a background job (queue long)
		return _(
			"The location dimension ({0}) is being added to invoices, payments and the general ledger by a "
			"background job. Reload this form in a minute; if this stays, choose \u201cCreate location "
			"dimension\u201d again (it only adds what is missing)."
		).format(K.LOCATION_DIMENSION_DOCTYPE)
	if dim:
		return _(
			"QuickBooks locations (Departments) map to the {0} accounting dimension, which is disabled on this "
			"site: locations are neither sent to QuickBooks nor brought in. Choose \u201cCreate location "
			"dimension\u201d to enable it, or enable it under Accounting Dimension."
		).format(K.LOCATION_DIMENSION_DOCTYPE)
	return _(
		"QuickBooks locations (Departments) need a location dimension in ERPNext, and this site has none: "
		"locations are neither sent to QuickBooks nor brought in. Choose \u201cCreate location dimension\u201d "
		"on this form, or create it yourself: Accounting Dimension, New, Reference Document Type \u201c{0}\u201d, "
		"Save. Then add one {0} per QuickBooks location and map them under Reference Maps."
	).format(K.LOCATION_DIMENSION_DOCTYPE)


def make_location_dimension() -> dict:
	"""Create (or enable, or finish) the Accounting Dimension on Branch: {fieldname, ready}. ERPNext adds the
	dimension's field to invoices, payments and GL entries itself (after_insert: in a background job on a live
	site, at once in tests); `ready` says whether the Sales Invoice has it already.

	Why not just insert: a dimension that exists but whose fields are not made yet (the job has not run, or
	failed) or that is disabled reads as "no location dimension", and a second insert is refused by ERPNext
	("Document Type already used as a dimension"): the button must finish what is there instead."""
	existing = location_dimension()
	if existing:
		return {"fieldname": existing, "ready": True}
	dim = _dimension_doc()
	if dim is None:
		doc = frappe.get_doc({"doctype": "Accounting Dimension", "document_type": K.LOCATION_DIMENSION_DOCTYPE})
		doc.insert()
	else:
		doc = frappe.get_doc("Accounting Dimension", dim.name)
		if doc.disabled:
			doc.disabled = 0
			doc.save()
			# what ERPNext's form does when the box is cleared: its fields become editable again
			from erpnext.accounts.doctype.accounting_dimension.accounting_dimension import disable_dimension

			disable_dimension(doc=frappe.as_json(doc.as_dict()))
		if frappe.flags.in_test:
			finish_location_dimension(doc.name)
		else:  # in the background, as ERPNext's after_insert does it (ALTER TABLE on ~40 DocTypes)
			from nexora_qbo.erpnext.jobs import enqueue_once

			enqueue_once("nexora_qbo.erpnext.qbo_setup.finish_location_dimension", f"qbo-location-dimension::{doc.name}",
				queue="long", name=doc.name)
	return {"fieldname": doc.fieldname, "ready": bool(location_dimension())}


def finish_location_dimension(name: str) -> None:
	"""ERPNext's own step that adds a dimension's field to the accounting DocTypes (only the missing ones)."""
	from erpnext.accounts.doctype.accounting_dimension.accounting_dimension import (
		make_dimension_in_accounting_doctypes,
	)

	make_dimension_in_accounting_doctypes(doc=frappe.get_doc("Accounting Dimension", name))
