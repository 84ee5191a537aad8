# Copyright (c) 2026, Nexora QBO and contributors
# For license information, please see license.txt
"""QBO Sync Reconciliation: one realm, one month. The numbers come from the engine's own report function
(nexora_qbo.sync.report.month_report), fed by a read-only view of the Nexora QBO DocTypes, so the desk
report and the demo's printout can never disagree about what "synced" or "awaiting review" means.
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import getdate

from nexora_qbo.erpnext import constants as K
from nexora_qbo.sync import constants as C
from nexora_qbo.erpnext.qbo_links import qbo_app_url  # noqa: F401 (used below, and by callers of this report)

SECTIONS = {
	"synced": _("Synced"),
	"auto_resolved": _("Resolved automatically"),
	"resolved": _("Resolved by a person"),
	"awaiting_review": _("Awaiting review"),
	"failures": _("Still failing (queued for retry or parked)"),
	"exchange_errors": _("QuickBooks errors (HTTP)"),
}


def execute(filters=None):
	filters = frappe._dict(filters or {})
	if not filters.realm:
		return columns(), [], _("Choose a realm."), None, []
	realm_id = frappe.db.get_value(K.REALM, filters.realm, "realm_id")
	if not realm_id:
		return columns(), [], _("{0} was never connected to QuickBooks.").format(filters.realm), None, []
	year, month = parse_month(filters.month)

	from nexora_qbo.sync.report import month_report

	data = month_report(ReportStore(filters.realm, realm_id), realm_id, year, month)
	if filters.view == VIEW_TIE_OUT:
		environment = frappe.db.get_value(K.REALM, filters.realm, "environment")
		return tie_out_columns(), tie_out_rows(data, environment), None, trend_chart(data), summary(data)
	return columns(), rows(data), None, chart(data), summary(data)


VIEW_TIE_OUT = "AR tie-out"  # the report's "View" filter: the month-end tie-out's differences and the trend


def parse_month(value) -> tuple[int, int]:
	"""'2026-11' (the filter) or any date in the month."""
	if value and len(str(value)) == 7:
		year, month = str(value).split("-")
		return int(year), int(month)
	day = getdate(value) if value else getdate()
	return day.year, day.month


def tie_out_columns() -> list[dict]:
	"""The AR tie-out view: what differs, by how much in each book, and why (no sync-only columns)."""
	money = {"fieldtype": "Currency", "width": 120}
	return [
		{"label": _("Section"), "fieldname": "section", "fieldtype": "Data", "width": 170},
		{"label": _("Document"), "fieldname": "document", "fieldtype": "Data", "width": 200},
		{"label": _("ERPNext"), "fieldname": "erpnext_amount", **money},
		{"label": _("QuickBooks"), "fieldname": "qbo_amount", **money},
		{"label": _("Difference"), "fieldname": "difference", **money},
		{"label": _("Cause"), "fieldname": "action", "fieldtype": "Data", "width": 200},
		{"label": _("Explanation"), "fieldname": "detail", "fieldtype": "Data", "width": 380},
		{"label": _("Review Item"), "fieldname": "conflict", "fieldtype": "Link", "options": K.CONFLICT, "width": 100},
		{"label": _("ERPNext Type"), "fieldname": "reference_doctype", "fieldtype": "Link", "options": "DocType",
			"hidden": 1},
		{"label": _("In ERPNext"), "fieldname": "reference_name", "fieldtype": "Dynamic Link",
			"options": "reference_doctype", "width": 170},
		{"label": _("In QuickBooks"), "fieldname": "qbo_link", "fieldtype": "HTML", "width": 140},
	]


def columns() -> list[dict]:
	return [
		{"label": _("Section"), "fieldname": "section", "fieldtype": "Data", "width": 200},
		{"label": _("QBO Entity"), "fieldname": "entity", "fieldtype": "Data", "width": 110},
		{"label": _("Direction"), "fieldname": "direction", "fieldtype": "Data", "width": 130},
		{"label": _("Action"), "fieldname": "action", "fieldtype": "Data", "width": 100},
		{"label": _("Count"), "fieldname": "count", "fieldtype": "Int", "width": 80},
		{"label": _("Document"), "fieldname": "document", "fieldtype": "Data", "width": 180},
		{"label": _("Detail"), "fieldname": "detail", "fieldtype": "Data", "width": 420},
		{
			"label": _("Conflict"),
			"fieldname": "conflict",
			"fieldtype": "Link",
			"options": K.CONFLICT,
			"width": 90,
		},
		{"label": _("Outbox"), "fieldname": "outbox", "fieldtype": "Link", "options": K.OUTBOX, "width": 90},
		{"label": _("ERPNext"), "fieldname": "erpnext_amount", "fieldtype": "Float", "precision": 2, "width": 110},
		{"label": _("QuickBooks"), "fieldname": "qbo_amount", "fieldtype": "Float", "precision": 2, "width": 110},
		{"label": _("Difference"), "fieldname": "difference", "fieldtype": "Float", "precision": 2, "width": 110},
		{"label": _("ERPNext Type"), "fieldname": "reference_doctype", "fieldtype": "Link", "options": "DocType",
			"width": 110},
		{"label": _("ERPNext Document"), "fieldname": "reference_name", "fieldtype": "Dynamic Link",
			"options": "reference_doctype", "width": 170},
		{"label": _("QuickBooks Document"), "fieldname": "qbo_link", "fieldtype": "HTML", "width": 150},
	]


# an outbox entry's state in a bookkeeper's words (the engine's state names never reach the report)
OUTBOX_STATE_WORDS = {
	C.FAILED: "failed, retried automatically",
	C.PARKED: "held for review",
}


def _direction(value: str | None) -> str:
	return {"outbound": _("ERPNext → QBO"), "inbound": _("QBO → ERPNext")}.get(value or "", value or "")


def rows(data: dict) -> list[dict]:
	out = []
	for r in data.get("synced_by_action", []):
		out.append(
			{
				"section": SECTIONS["synced"],
				"entity": r["entity"],
				"direction": _direction(r["direction"]),
				"action": r["action"],
				"count": r["count"],
			}
		)
	for key in ("auto_resolved", "resolved", "awaiting_review"):
		for c in data.get(key, []):
			out.append(
				{
					"section": SECTIONS[key],
					"entity": (c.get("qbo") or "").split(" ")[0],
					"action": _(C.CONFLICT_KIND_WORDS.get(c.get("kind"), c.get("kind") or "")),
					"count": 1,
					"document": c.get("document"),
					"detail": c.get("reason"),
					"conflict": c.get("id"),
				}
			)
	for f in data.get("failures", []):
		out.append(
			{
				"section": SECTIONS["failures"],
				"action": f["action"],
				"count": 1,
				"document": f["document"],
				"detail": _("{0}, {1} attempts: {2}").format(
					_(OUTBOX_STATE_WORDS.get(f["state"], f["state"])), f["attempts"], f.get("error") or ""
				),
				"outbox": f["outbox_id"],
			}
		)
	for e in data.get("exchange_errors", []):
		out.append(
			{
				"section": SECTIONS["exchange_errors"],
				"action": _(C.EXCHANGE_OUTCOME_WORDS.get(e["outcome"], e["outcome"])),
				"count": e["count"],
				"detail": f"code {e['code']}" if e.get("code") else "",
			}
		)
	return out


def tie_out_rows(data: dict, environment: str | None) -> list[dict]:
	"""One row per difference of the month-end tie-out, with its cause and links to both documents."""
	from frappe.utils import escape_html

	tie = data.get("tie_out")
	if not tie:
		return [{"section": _("AR tie-out"), "detail": _("No tie-out ran this month yet. It runs every night; "
			"click Run tie-out now to compare ERPNext's receivables with QuickBooks' A/R today.")}]
	# the totals come first, always: Frappe draws a report's chart only when it has rows, so a month whose
	# books tie (no difference) would show neither the chart nor that they tie
	home = tie["totals"]["home"]
	ties = not tie["counts"]["differences"]
	out = [{
		"section": _("AR tie-out: totals"),
		"action": _("Books tie") if ties else differ_words(tie["differences"], tie["counts"]["unexplained"]),
		"count": tie["counts"]["differences"],
		"document": _("As of {0}").format(tie["as_of"]),
		"detail": _("ERPNext's receivables equal QuickBooks' A/R, per invoice and per customer.") if ties else
			_("The rows below say, per document and customer, what differs and why."),
		"erpnext_amount": float(home["erpnext"] or 0),
		"qbo_amount": float(home["qbo"] or 0),
		"difference": float(home["difference"] or 0),
	}]
	for d in tie["differences"]:
		url = qbo_app_url(environment, d.get("qbo_entity"), d.get("qbo_id"))
		label = f"{d.get('qbo_entity') or ''} {d.get('doc_number') or d.get('qbo_id') or ''}".strip()
		local_type = d.get("local_type")
		out.append({
			"section": _("AR tie-out: unexplained") if d.get("cause") == "unexplained" else _("AR tie-out: explained"),
			"entity": d.get("qbo_entity"),
			"action": _(C.CAUSE_WORDS.get(d.get("cause"), d.get("cause") or "")),
			"count": 1,
			"document": d.get("label"),
			"detail": d.get("explanation"),
			"conflict": d.get("conflict_id"),
			"erpnext_amount": float(d.get("erpnext") or 0),
			"qbo_amount": float(d.get("qbo") or 0),
			"difference": float(d.get("difference") or 0),
			"reference_doctype": K.LOCAL_DOCTYPE.get(local_type) if d.get("local_id") else None,
			"reference_name": d.get("local_id"),
			"qbo_link": (f'<a href="{escape_html(url)}" target="_blank" rel="noopener">{escape_html(label)}</a>'
				if url else escape_html(label)),
		})
	return out


def differ_words(differences: list[dict], unexplained: int) -> str:
	"""What differs, as a bookkeeper counts it: documents and customers apart (a customer's row is the sum of its
	documents', so "2 differences" for one invoice of one customer would read as two problems)."""
	documents = sum(1 for d in differences if d.get("level") == "document")
	customers = sum(1 for d in differences if d.get("level") == "customer")
	parts = []
	if documents:
		parts.append(_("1 document differs") if documents == 1 else _("{0} documents differ").format(documents))
	if customers:
		parts.append(_("1 customer differs") if customers == 1 else _("{0} customers differ").format(customers))
	explained = _("all explained") if not unexplained else _("{0} unexplained").format(unexplained)
	return ", ".join(parts + [explained])


def trend_chart(data: dict) -> dict | None:
	"""ERPNext AR and QuickBooks A/R per day the tie-out ran in the month (home currency)."""
	trend = data.get("tie_out_trend") or []
	if not trend:
		return None
	return {
		"data": {
			"labels": [p["as_of"] for p in trend],
			"datasets": [
				{"name": _("ERPNext AR"), "values": [float(p["erpnext"]) for p in trend]},
				{"name": _("QuickBooks A/R"), "values": [float(p["qbo"]) for p in trend]},
				{"name": _("Difference"), "values": [float(p["difference"]) for p in trend]},
			],
		},
		"type": "line" if len(trend) > 1 else "bar",  # one day's line is an invisible dot
	}


def chart(data: dict) -> dict | None:
	entities = sorted({r["entity"] for r in data.get("synced", [])})
	if not entities:
		return None
	counts = {(r["entity"], r["direction"]): r["count"] for r in data.get("synced", [])}
	return {
		"data": {
			"labels": entities,
			"datasets": [
				{"name": _("ERPNext → QBO"), "values": [counts.get((e, "outbound"), 0) for e in entities]},
				{"name": _("QBO → ERPNext"), "values": [counts.get((e, "inbound"), 0) for e in entities]},
			],
		},
		"type": "bar",
		"barOptions": {"stacked": 1},
	}


def summary(data: dict) -> list[dict]:
	out_n = sum(r["count"] for r in data.get("synced", []) if r["direction"] == "outbound")
	in_n = sum(r["count"] for r in data.get("synced", []) if r["direction"] == "inbound")
	waiting = len(data.get("awaiting_review", []))
	failing = len(data.get("failures", []))
	return [
		{"value": out_n, "label": _("Sent to QuickBooks"), "datatype": "Int", "indicator": "Blue"},
		{"value": in_n, "label": _("Received from QuickBooks"), "datatype": "Int", "indicator": "Blue"},
		{
			"value": len(data.get("auto_resolved", [])),
			"label": _("Resolved automatically"),
			"datatype": "Int",
			"indicator": "Green",
		},
		{
			"value": waiting,
			"label": _("Awaiting review"),
			"datatype": "Int",
			"indicator": "Red" if waiting else "Green",
		},
		{
			"value": failing,
			"label": _("Still failing"),
			"datatype": "Int",
			"indicator": "Red" if failing else "Green",
		},
		*tie_out_cards(data),
		{
			"value": data.get("exchanges", 0),
			"label": _("HTTP exchanges"),
			"datatype": "Int",
			"indicator": "Grey",
		},
	]


def tie_out_cards(data: dict) -> list[dict]:
	"""The month-end tie-out's two cards: the AR difference (home currency) and how many are unexplained."""
	tie = data.get("tie_out")
	if not tie:
		return [{"value": _("not run yet"), "label": _("AR difference"), "datatype": "Data", "indicator": "Grey"}]
	home = tie["totals"]["home"]
	unexplained = tie["counts"]["unexplained"]
	return [
		{
			"value": float(home["difference"]),
			"label": _("AR difference ({0})").format(tie["as_of"]),
			"datatype": "Currency",
			"currency": tie["totals"].get("home_currency"),
			"indicator": "Green" if not tie["counts"]["differences"] else "Orange",
		},
		{
			"value": unexplained,
			"label": _("Unexplained"),
			"datatype": "Int",
			"indicator": "Red" if unexplained else "Green",
		},
	]


class ReportStore:
	"""The read methods month_report needs, on the DocTypes of one realm (nothing else is reachable, so a
	report can only ever show its own realm's data)."""

	def __init__(self, realm: str, realm_id: str):
		self.realm = realm
		self.realm_id = realm_id

	def _check(self, realm_id: str) -> None:
		if realm_id != self.realm_id:
			raise ValueError("the report store serves one realm")

	def get_settings(self, realm_id: str):
		self._check(realm_id)
		return frappe.get_doc(K.REALM, self.realm).to_settings()

	def list_events(self, realm_id: str, since=None, until=None):
		from nexora_qbo.nexora_qbo.doctype.qbo_sync_event.qbo_sync_event import row_to_event

		self._check(realm_id)
		rows = frappe.get_all(
			K.SYNC_EVENT,
			filters=self._period(since, until),
			or_filters=self._this_company(),
			fields=["*"],
			order_by="timestamp asc",
		)
		return [row_to_event(r, realm_id) for r in rows]

	def list_audit(self, realm_id: str, since=None, until=None):
		from nexora_qbo.nexora_qbo.doctype.qbo_sync_log.qbo_sync_log import fields_to_audit_row

		self._check(realm_id)
		rows = frappe.get_all(
			K.SYNC_LOG,
			filters=self._period(since, until),
			or_filters=self._this_company(),
			fields=["*"],
			order_by="timestamp asc",
		)
		return [fields_to_audit_row(frappe._dict(r)) for r in rows]

	def audit_summary(self, realm_id: str, since=None, until=None):
		"""(outcome, error_code, count) grouped in the database over the covering index named in the QBO Sync
		Log DocType (realm, timestamp, outcome, error_code): a month of a million rows reads no payload."""
		self._check(realm_id)
		rows = frappe.get_all(
			K.SYNC_LOG,
			filters=self._period(since, until),
			or_filters=self._this_company(),
			fields=["outcome", "error_code", "count(name) as n"],
			group_by="outcome, error_code",
			order_by="outcome asc",
		)
		out = [(r.outcome or "ok", str(r.error_code) if r.error_code not in (None, "") else None, int(r.n)) for r in rows]
		return sorted(out, key=lambda t: (t[0], t[1] or ""))

	def list_conflicts(self, realm_id: str, status=None, local_type=None, local_id=None):
		from nexora_qbo.nexora_qbo.doctype.qbo_conflict.qbo_conflict import row_to_conflict

		self._check(realm_id)
		filters: dict = {"realm": self.realm}
		if status:
			filters["status"] = {v: k for k, v in K.CONFLICT_STATUS_LABELS.items()}.get(status, status)
		if local_type:
			filters["local_type"] = local_type
		if local_id:
			filters["reference_name"] = local_id
		rows = frappe.get_all(K.CONFLICT, filters=filters, fields=["*"], order_by="name asc")
		return [row_to_conflict(r, realm_id) for r in rows]

	def list_outbox(self, realm_id: str, states=None, local_type=None, local_id=None):
		from nexora_qbo.nexora_qbo.doctype.qbo_outbox.qbo_outbox import OutboxRows

		self._check(realm_id)
		return OutboxRows().list_outbox(realm_id, states, local_type, local_id)

	def list_tie_outs(self, realm_id: str, since=None, until=None):
		from nexora_qbo.erpnext.store import FrappeStore

		self._check(realm_id)
		return FrappeStore().list_tie_outs(realm_id, since, until)

	def _this_company(self) -> list:
		"""Rows of the realm's current QBO company only (a reset realm keeps the old company's history)."""
		return [["qbo_realm_id", "=", self.realm_id], ["qbo_realm_id", "is", "not set"]]

	def _period(self, since, until) -> list:
		from nexora_qbo.erpnext.token_store import to_db_datetime

		filters = [["realm", "=", self.realm]]
		if since:
			filters.append(["timestamp", ">=", to_db_datetime(since)])
		if until:
			filters.append(["timestamp", "<", to_db_datetime(until)])
		return filters
