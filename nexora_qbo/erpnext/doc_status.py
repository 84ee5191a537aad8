"""A synced document's state in QuickBooks, as the form and the list show it to a bookkeeper.

Why its own module: the state is read from three places (QBO Entity Map, QBO Outbox, QBO Conflict), and
the most urgent one wins: an open review item means QuickBooks may hold another version of the document
(say "In review", never "Synced"); a change still waiting to be sent (or refused) comes next; only then
"In QuickBooks as 1042 · synced 2 min ago". The same computation stamps the document's QBO Sync Status
field, so the list view's indicator and filter agree with the form.
"""

from __future__ import annotations

import json

import frappe
from frappe import _
from frappe.utils import cint, pretty_date

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.qbo_links import qbo_app_url
from nexora_qbo.sync.constants import ACTION_LABELS, CONFLICT_KIND_WORDS

RETRY, OPEN = ACTION_LABELS["retry"], _("Open")
_STAMP = {
	"in_review": K.IN_REVIEW,
	"waiting": "Failed",
	"queued": "Queued",
	"synced": K.SYNCED,
	"voided": "Voided in QBO",
	"deleted": "Deleted in QBO",
}


def _short(text: str | None, limit: int = 140) -> str:
	text = " ".join(str(text or "").split())
	return text if len(text) <= limit else text[: limit - 1] + "…"


def _qbo_number(row) -> str:
	"""What QuickBooks calls the record: its DocNumber or display name from the last synced version."""
	try:
		snap = json.loads(row.base_snapshot or "null") or {}
	except ValueError:
		snap = {}
	if isinstance(snap, dict):
		for key in ("DocNumber", "DisplayName", "Name", "doc_number", "display_name", "name"):
			if snap.get(key):
				return str(snap[key])
	return f"#{row.qbo_id}"


def realm_states(doctype: str, name: str) -> list[dict]:
	"""One state per realm the document belongs to (a Customer or Item can be in several companies' QBO)."""
	if doctype not in K.SYNCED_DOCTYPES or not name:
		return []
	where = {"reference_doctype": doctype, "reference_name": name}
	maps = {
		r.realm: r
		for r in frappe.get_all(
			K.ENTITY_MAP,
			filters=where,
			fields=["realm", "qbo_entity", "qbo_id", "status", "last_synced_on", "base_snapshot"],
		)
	}
	conflicts: dict[str, list] = {}
	for c in frappe.get_all(
		K.CONFLICT,
		filters={**where, "status": "Open"},
		fields=["name", "realm", "kind", "reason"],
		order_by="creation desc",
	):
		conflicts.setdefault(c.realm, []).append(c)
	waiting: dict[str, list] = {}
	for e in frappe.get_all(
		K.OUTBOX,
		filters={**where, "state": ("in", K.WAITING_OUTBOX_STATES)},
		fields=["name", "realm", "state", "action", "attempts", "last_error", "next_attempt_at", "conflict"],
		order_by="creation desc",
	):
		waiting.setdefault(e.realm, []).append(e)
	realms = sorted(set(maps) | set(conflicts) | set(waiting))
	if not realms:
		company = (
			frappe.db.get_value(doctype, name, "company")
			if frappe.get_meta(doctype).has_field("company")
			else None
		)
		realm = frappe.db.get_value(K.REALM, {"company": company}, "name") if company else None
		return [_not_synced(realm)] if realm else []
	env = {
		r.name: r.environment
		for r in frappe.get_all(K.REALM, filters={"name": ("in", realms)}, fields=["name", "environment"])
	}
	return [
		_state(realm, maps.get(realm), conflicts.get(realm, []), waiting.get(realm, []), env.get(realm))
		for realm in realms
	]


def _not_synced(realm: str) -> dict:
	return {
		"realm": realm,
		"state": "not_synced",
		"color": K.DOC_STATE_COLORS["not_synced"],
		"label": _("Not in QuickBooks"),
		"reason": None,
	}


def _state(realm: str, m, conflicts: list, waiting: list, environment: str | None) -> dict:
	out = {"realm": realm, "qbo_id": m.qbo_id if m else None, "qbo_url": None, "reason": None}
	if m:
		out["qbo_number"] = _qbo_number(m)
		out["qbo_url"] = qbo_app_url(environment, m.qbo_entity, m.qbo_id)
		out["synced_on"] = m.last_synced_on
	if conflicts:
		c = conflicts[0]
		reason = _short(c.reason) or CONFLICT_KIND_WORDS.get(c.kind, "")
		# the one-line headline says what happened in a few words (the full reason is the line's tooltip and
		# the review item's first paragraph): a 140-character reason cut off mid-sentence helps nobody
		what = _(CONFLICT_KIND_WORDS[c.kind]) if c.kind in CONFLICT_KIND_WORDS else reason
		out.update(
			state="in_review",
			conflict=str(c.name),
			reason=reason,
			action=OPEN,
			label=_("In review: {0}").format(what),
		)
	elif any(e.state in ("failed", "parked") for e in waiting):
		e = next(e for e in waiting if e.state in ("failed", "parked"))
		reason = _short(e.last_error) or _("QuickBooks has not accepted this change yet")
		out.update(
			state="waiting",
			outbox=str(e.name),
			reason=reason,
			action=RETRY,
			label=_("Waiting: {0}").format(reason),
		)
	elif waiting:
		out.update(state="queued", label=_("Waiting to be sent to QuickBooks"), outbox=str(waiting[0].name))
	elif m and m.status in ("voided", "deleted"):
		out.update(
			state=m.status,
			label=_("Voided in QuickBooks") if m.status == "voided" else _("Deleted in QuickBooks"),
		)
	elif m:
		label = _("In QuickBooks as {0}").format(out["qbo_number"])
		if m.last_synced_on:
			label += " · " + _("synced {0}").format(pretty_date(m.last_synced_on))
		out.update(state="synced", label=label)
	else:
		return _not_synced(realm)
	out["color"] = K.DOC_STATE_COLORS[out["state"]]
	return out


def stamp_value(doctype: str, name: str) -> str | None:
	"""The QBO Sync Status the document should show now (the most urgent realm state wins)."""
	order = list(K.DOC_STATE_COLORS)
	states = [s for s in realm_states(doctype, name) if s["state"] in _STAMP]
	if not states:
		return None
	return _STAMP[min(states, key=lambda s: order.index(s["state"]))["state"]]


def restamp(doctype: str | None, name: str | None) -> None:
	"""Write the computed status onto the document (no hooks, no modified bump)."""
	if not doctype or not name or not frappe.get_meta(doctype).has_field(K.CF_SYNC_STATUS):
		return
	value = stamp_value(doctype, name)
	if value and frappe.db.exists(doctype, name):
		frappe.db.set_value(doctype, name, K.CF_SYNC_STATUS, value, update_modified=False)


@frappe.whitelist()
def get_document_state(doctype: str, name: str) -> list[dict]:
	"""The form's QBO line(s) for a document the user may read."""
	frappe.has_permission(doctype, "read", name, throw=True)
	states = realm_states(doctype, name)
	can_act = bool(set(frappe.get_roles()) & set(K.MANAGER_ROLES))
	for s in states:
		s["can_retry"] = can_act and s["state"] == "waiting"
		s["audit_count"] = cint(
			frappe.db.count(K.SYNC_LOG, {"reference_doctype": doctype, "reference_name": name})
		)
	return states


@frappe.whitelist(methods=["POST"])
def retry_document(doctype: str, name: str) -> dict:
	"""The form's "Retry": send the document's waiting change again now (managers only)."""
	from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import check_manager

	check_manager()
	frappe.has_permission(doctype, "read", name, throw=True)
	from nexora_qbo.erpnext import jobs
	from nexora_qbo.erpnext.guards import engine_writes

	realms = set()
	with engine_writes():
		for e in frappe.get_all(
			K.OUTBOX,
			filters={"reference_doctype": doctype, "reference_name": name, "state": "failed"},
			fields=["name", "realm"],
		):
			# due now, whatever the time zone of the stored times
			frappe.db.set_value(K.OUTBOX, e.name, "next_attempt_at", "2000-01-01 00:00:00", update_modified=False)
			realms.add(e.realm)
	for realm in realms:
		realm_id = frappe.db.get_value(K.REALM, realm, "realm_id")
		if realm_id:
			jobs.enqueue_realm(realm_id, "push", after_commit=True)
	return {"queued": sorted(realms)}
