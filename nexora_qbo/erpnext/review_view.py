"""The review item (QBO Conflict) as an accountant's comparison: what was last synced, what ERPNext has,
what QuickBooks has, with the changed cells marked; invoice lines as a table, one row per line (item name,
description, hours/quantity, rate, amount); names instead of ids; and what each button will do to each book.

Why its own module: the engine keeps canonical records (local ids, "qbo:<id>" for a QuickBooks value that
is not mapped, Decimals as strings); a bookkeeper reads names and amounts. Everything here is escaped HTML
built on the server, so the form only places it.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import frappe
from frappe import _
from frappe.utils import escape_html, fmt_money

from nexora_qbo.erpnext import constants as K
from nexora_qbo.sync.constants import ACTION_EFFECTS, ACTION_EFFECTS_BY_KIND, ACTION_LABELS, CONFLICT_KIND_WORDS

# canonical field -> (label, how its value is named)
FIELDS = {
	"display_name": (_("Name"), None),
	"company_name": (_("Company name"), None),
	"email": (_("E-mail"), None),
	"phone": (_("Phone"), None),
	"billing_address": (_("Billing address"), None),
	"name": (_("Item"), "item"),
	"sku": (_("SKU"), None),
	"description": (_("Description"), None),
	"type": (_("Type"), None),
	"rate": (_("Rate"), "money"),
	"income_account": (_("Income account"), "Account"),
	"expense_account": (_("Expense account"), "Account"),
	"asset_account": (_("Asset account"), "Account"),
	"taxable": (_("Taxable"), "bool"),
	"active": (_("Active"), "bool"),
	"doc_number": (_("Number"), None),
	"customer": (_("Customer"), "customer"),
	"txn_date": (_("Date"), None),
	"due_date": (_("Due date"), None),
	"currency": (_("Currency"), None),
	"exchange_rate": (_("Exchange rate"), None),
	"terms": (_("Payment terms"), "Payment Terms Template"),
	"class_": (_("Class"), "Cost Center"),
	"location": (_("Location"), "Branch"),
	"memo": (_("Memo"), None),
	"tax_total": (_("Tax"), "money"),
	"tax_code": (_("Tax code"), "Sales Taxes and Charges Template"),
	"total": (_("Total"), "money"),
	"against_invoice": (_("Against invoice"), None),
	"reference": (_("Reference"), None),
	"deposit_account": (_("Deposit to"), "Account"),
	"payment_method": (_("Payment method"), "Mode of Payment"),
	"unapplied": (_("Unapplied"), "money"),
	"state": (_("Status"), "state"),
}
# never shown: informational or adapter extras
HIDDEN = {"outstanding", "amended_from", "opening", "qbo_txn_id", "lines", "applications"}
# the description names a timesheet line's worker, week and kind of hours (an item alone does not say whose)
LINE_COLUMNS = (
	("item", _("Item")),
	("description", _("Description")),
	("qty", _("Hours / Qty")),
	("rate", _("Rate")),
	("amount", _("Amount")),
)
STATE_WORDS = {"draft": _("Draft"), "submitted": _("Submitted"), "cancelled": _("Cancelled / voided")}
CHANGED = " class='qbo-changed' style='background-color: var(--yellow-highlight-color, #fff7d6)'"


class Namer:
	"""Turns canonical values into what a bookkeeper recognises, for one realm.

	A QuickBooks list value the realm does not map ("qbo:<id>") is named from QBO's own lists of the realm
	(QBO Reference: terms, classes, locations, tax codes, payment methods, accounts, read at connect, at
	each go-live preview / initial import and daily by the pull, qbo_setup.py): "Net 30", not "terms 2"."""

	def __init__(self, realm: str | None, currency: str | None):
		self.currency = currency
		self.maps: dict[tuple[str, str], str] = {}
		self.qbo_names: dict[tuple[str, str], str] = {}
		if realm:
			for row in frappe.get_all(
				K.REALM_REFERENCE, filters={"parent": realm}, fields=["map_type", "local_value", "qbo_id"]
			):
				self.maps[(row.map_type, str(row.qbo_id))] = row.local_value
			ref_kind = {ref_type: map_type for map_type, (ref_type, _by_company) in K.SUGGESTED_MAPS.items()}
			for row in frappe.get_all(
				K.QBO_REFERENCE, filters={"realm": realm}, fields=["ref_type", "qbo_id", "qbo_name", "full_name"]
			):
				if row.ref_type in ref_kind:
					self.qbo_names[(ref_kind[row.ref_type], str(row.qbo_id))] = row.full_name or row.qbo_name

	def name(self, kind: str | None, value) -> str:
		if value is None or value == "":
			return ""
		if kind == "money":
			return self.money(value)
		if kind == "bool":
			return _("Yes") if value in (True, 1, "1", "true", "True") else _("No")
		if kind == "state":
			return STATE_WORDS.get(str(value), str(value))
		text = str(value)
		if text.startswith("qbo:"):  # a QuickBooks value with no ERPNext counterpart in the realm's maps
			qbo_id = text[4:]
			local = self.maps.get((kind, qbo_id)) if kind else None
			if local:
				return local
			named = self.qbo_names.get((kind, qbo_id)) if kind else None
			if named:
				return named
			what = FIELD_NOUN.get(kind, _("value"))
			return _("QuickBooks {0} {1} (not mapped to ERPNext)").format(what, qbo_id)
		if kind == "customer":
			return frappe.db.get_value("Customer", text, "customer_name") or text
		if kind == "item":
			item_name = frappe.db.get_value("Item", text, "item_name")
			return item_name if item_name and item_name != text else text
		return text

	def money(self, value) -> str:
		try:
			amount = Decimal(str(value))
		except (InvalidOperation, ValueError):
			return str(value)
		return fmt_money(amount, currency=self.currency) if self.currency else f"{amount:,.2f}"


FIELD_NOUN = {
	"Payment Terms Template": _("terms"),
	"Cost Center": _("class"),
	"Branch": _("location"),
	"Account": _("account"),
	"Sales Taxes and Charges Template": _("tax code"),
	"Mode of Payment": _("payment method"),
	"customer": _("customer"),
	"item": _("item"),
}


def _cell(text: str, changed: bool = False) -> str:
	shown = escape_html(text) if text else "<span class='text-muted'>—</span>"
	return f"<td{CHANGED if changed else ''}>{shown}</td>"


def _dict(value) -> dict:
	return value if isinstance(value, dict) else {}


def field_rows(base: dict, local: dict, qbo: dict, namer: Namer) -> list[dict]:
	"""[{label, base, local, qbo, local_changed, qbo_changed}] for the header fields that differ."""
	out = []
	keys = [k for k in FIELDS if k in set(local) | set(qbo)] + sorted(
		k for k in set(local) | set(qbo) if k not in FIELDS and k not in HIDDEN
	)
	for key in keys:
		if key in HIDDEN:
			continue
		lv, qv, bv = local.get(key), qbo.get(key), base.get(key)
		label, kind = FIELDS.get(key, (key.replace("_", " ").capitalize(), None))
		if same_for_a_bookkeeper(kind, lv, qv, bv, namer):
			continue
		out.append(
			{
				"label": label,
				"base": namer.name(kind, bv),
				"local": namer.name(kind, lv),
				"qbo": namer.name(kind, qv),
				"local_changed": bool(base) and _norm(lv) != _norm(bv),
				"qbo_changed": bool(base) and _norm(qv) != _norm(bv),
			}
		)
	return out


def same_for_a_bookkeeper(kind: str | None, lv, qv, bv, namer: Namer) -> bool:
	"""Not a difference: both books name the same thing (ERPNext's "Net 30" and QuickBooks' unmapped term 2
	that QuickBooks calls "Net 30"), or QuickBooks holds a list value ERPNext has no counterpart for, unchanged
	since the last sync, where ERPNext's field is empty (ERPNext cannot hold it; nobody changed anything)."""
	if namer.name(None, lv) == namer.name(None, qv):
		return True
	if kind in K.SUGGESTED_MAPS and namer.name(kind, lv) == namer.name(kind, qv):
		return True  # list values only: two customers or items that share a name are still two
	unmapped = isinstance(qv, str) and qv.startswith("qbo:")
	return unmapped and lv in (None, "") and _norm(qv) == _norm(bv)


def _norm(value) -> str:
	if value is None or value == "":
		return ""
	try:
		return str(Decimal(str(value)).normalize())
	except (InvalidOperation, ValueError):
		return str(value)


def line_rows(local: dict, qbo: dict, namer: Namer) -> list[dict]:
	"""One row per line position: each side's item name, description, hours/qty, rate, amount; changed cells
	marked."""
	ll, ql = local.get("lines") or [], qbo.get("lines") or []
	rows = []
	for i in range(max(len(ll), len(ql))):
		lrow, qrow = (ll[i] if i < len(ll) else None), (ql[i] if i < len(ql) else None)
		row = {"n": i + 1, "local": {}, "qbo": {}, "changed": {}}
		for key, _label in LINE_COLUMNS:
			lv, qv = (lrow or {}).get(key), (qrow or {}).get(key)
			kind = "item" if key == "item" else ("money" if key in ("rate", "amount") else None)
			row["local"][key] = namer.name(kind, lv) if lrow else ""
			row["qbo"][key] = namer.name(kind, qv) if qrow else ""
			row["changed"][key] = lrow is None or qrow is None or _norm(lv) != _norm(qv)
		rows.append(row)
	return rows


def render(doc) -> str:
	"""The whole comparison for a QBO Conflict document (escaped HTML)."""
	from nexora_qbo.nexora_qbo.doctype.qbo_conflict.qbo_conflict import _loads

	base, local, qbo = (_dict(_loads(doc.get(f))) for f in ("base_version", "local_version", "qbo_version"))
	currency = local.get("currency") or qbo.get("currency") or (
		frappe.db.get_value(K.REALM, doc.realm, "home_currency") if doc.realm else None
	)
	namer = Namer(doc.realm, currency)
	parts = [f"<p><b>{escape_html(CONFLICT_KIND_WORDS.get(doc.kind, _('Review item')))}</b></p>"]
	fields = field_rows(base, local, qbo, namer) if (local or qbo) else []
	if not fields and not (local or qbo):
		for d in _loads(doc.get("diffs")) or []:  # an item with only a diff list
			fields.append(
				{
					"label": FIELDS.get(d.get("field"), (str(d.get("field")), None))[0],
					"base": namer.name(None, d.get("base")),
					"local": namer.name(None, d.get("local")),
					"qbo": namer.name(None, d.get("qbo")),
					"local_changed": d.get("local") != d.get("base"),
					"qbo_changed": d.get("qbo") != d.get("base"),
				}
			)
	if fields:
		head = "".join(
			f"<th>{escape_html(h)}</th>" for h in (_("Field"), _("Last synced"), _("ERPNext"), _("QuickBooks"))
		)
		body = "".join(
			f"<tr><td><b>{escape_html(f['label'])}</b></td>{_cell(f['base'])}"
			f"{_cell(f['local'], f['local_changed'])}{_cell(f['qbo'], f['qbo_changed'])}</tr>"
			for f in fields
		)
		parts.append(
			"<table class='table table-bordered table-sm qbo-conflict-fields'>"
			f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
		)
	lines = line_rows(local, qbo, namer) if (local.get("lines") or qbo.get("lines")) else []
	if lines:
		sub = "".join(f"<th>{escape_html(label)}</th>" for _k, label in LINE_COLUMNS)
		body = ""
		for r in lines:
			cells = "".join(_cell(r["local"][k], r["changed"][k] and bool(r["local"][k])) for k, _l in LINE_COLUMNS)
			cells += "".join(_cell(r["qbo"][k], r["changed"][k] and bool(r["qbo"][k])) for k, _l in LINE_COLUMNS)
			body += f"<tr><td>{r['n']}</td>{cells}</tr>"
		parts.append(
			f"<p class='text-muted' style='margin-top:8px'>{escape_html(_('Lines'))}</p>"
			"<table class='table table-bordered table-sm qbo-conflict-lines'><thead>"
			f"<tr><th rowspan='2'>#</th><th colspan='{len(LINE_COLUMNS)}'>{_('ERPNext')}</th>"
			f"<th colspan='{len(LINE_COLUMNS)}'>{_('QuickBooks')}</th></tr>"
			f"<tr>{sub}{sub}</tr></thead><tbody>{body}</tbody></table>"
		)
	if not fields and not lines:
		parts.append(f"<p class='text-muted'>{escape_html(_('Both versions agree field by field.'))}</p>")
	parts.append(
		f"<p class='text-muted small'>{escape_html(_('Highlighted: changed since the last sync (fields) or different between the books (lines).'))}</p>"
	)
	return "".join(parts)


def actions(doc) -> list[dict]:
	"""The buttons of an item with what each does to each book: [{action, label, erpnext, quickbooks}]."""
	allowed = [a for a in (doc.allowed_actions or "").split(",") if a]
	if "dismiss" not in allowed:
		allowed.append("dismiss")
	out = []
	for a in allowed:
		erpnext, quickbooks = ACTION_EFFECTS_BY_KIND.get(doc.kind, {}).get(a) or ACTION_EFFECTS.get(a, ("", ""))
		out.append({"action": a, "label": ACTION_LABELS.get(a, a), "erpnext": _(erpnext), "quickbooks": _(quickbooks)})
	return out


def render_actions(items: list[dict]) -> str:
	rows = "".join(
		f"<tr><td><b>{escape_html(a['label'])}</b></td><td>{escape_html(a['erpnext'])}</td>"
		f"<td>{escape_html(a['quickbooks'])}</td></tr>"
		for a in items
	)
	head = "".join(f"<th>{escape_html(h)}</th>" for h in (_("Button"), _("In ERPNext"), _("In QuickBooks")))
	return (
		"<table class='table table-bordered table-sm qbo-conflict-actions'>"
		f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
	)
