# Copyright (c) 2026, Nexora QBO and contributors
# For license information, please see license.txt
"""QBO Conflict: the review queue. A person reads the reason and both versions side by side, then picks
an action; the action is recorded (who, when, note) and the engine's resolve runs in a job under the realm
lock. Rows are written by the sync, never edited by hand (no write permission for any role).
"""

from __future__ import annotations

import json

import frappe
from frappe import _
from frappe.utils import escape_html, now_datetime

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.guards import EngineOwnedDocument, refuse_unless_engine
from nexora_qbo.sync.constants import CONFLICT_KIND_WORDS, RESOLUTION_WORDS


class QBOConflict(EngineOwnedDocument):
	def onload(self):
		from nexora_qbo.erpnext import review_view

		self.set_onload("diff_html", review_view.render(self))
		actions = review_view.actions(self)
		self.set_onload("actions", actions)
		self.set_onload("actions_html", review_view.render_actions(actions))
		self.set_onload("kind_words", CONFLICT_KIND_WORDS.get(self.kind, ""))
		self.set_onload("resolution_words", RESOLUTION_WORDS.get(self.resolution or "", self.resolution or ""))
		self.set_onload("requested_label", K.CONFLICT_ACTION_LABELS.get(self.requested_action or "", ""))
		self.set_onload(
			"audit_count",
			frappe.db.count(K.SYNC_LOG, {"reference_doctype": self.reference_doctype, "reference_name": self.reference_name})
			if self.reference_name
			else frappe.db.count(K.SYNC_LOG, {"conflict": self.name}),
		)
		env = frappe.db.get_value(K.REALM, self.realm, "environment") if self.realm else None
		from nexora_qbo.erpnext.qbo_links import qbo_app_url

		self.set_onload("qbo_url", qbo_app_url(env, self.qbo_entity, self.qbo_id))
		from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import is_manager

		self.set_onload("can_resolve", is_manager() and self.status == "Open")

	def validate(self):
		refuse_unless_engine(self, "created or edited")
		if self.local_type:
			self.reference_doctype = K.LOCAL_DOCTYPE.get(self.local_type, self.reference_doctype)
		self.kind_label = CONFLICT_KIND_WORDS.get(self.kind, self.kind)
		self.resolution_label = RESOLUTION_WORDS.get(self.resolution or "", self.resolution or None)

	def on_trash(self):
		# deleting a conflict would strand the outbox entries parked on it
		refuse_unless_engine(self, "deleted")

	def action_buttons(self) -> list[dict]:
		# the engine says what it can do for this item; closing it without action is always possible
		allowed = [a for a in (self.allowed_actions or "").split(",") if a]
		if "dismiss" not in allowed:
			allowed.append("dismiss")
		return [{"action": a, "label": K.CONFLICT_ACTION_LABELS.get(a, a)} for a in allowed]

	def render_diff(self) -> str:
		"""Field differences as an HTML table: last synced | ERPNext | QuickBooks (escaped)."""
		diffs = _loads(self.diffs) or []
		if not diffs:
			diffs = compute_diffs(
				_loads(self.base_version), _loads(self.local_version), _loads(self.qbo_version)
			)
		if not diffs:
			return f"<p class='text-muted'>{escape_html(_('No field differences recorded.'))}</p>"
		head = "".join(
			f"<th>{escape_html(label)}</th>"
			for label in (_("Field"), _("Last Synced"), _("ERPNext"), _("QuickBooks"))
		)
		rows = []
		for d in diffs:
			local, qbo, base = d.get("local"), d.get("qbo"), d.get("base")
			rows.append(
				"<tr>"
				f"<td><b>{escape_html(str(d.get('field')))}</b></td>"
				f"<td>{_cell(base)}</td>"
				f"<td{_mark(local, base)}>{_cell(local)}</td>"
				f"<td{_mark(qbo, base)}>{_cell(qbo)}</td>"
				"</tr>"
			)
		return (
			"<table class='table table-bordered table-sm qbo-conflict-diff'>"
			f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
		)


def _loads(value):
	if not value:
		return None
	if isinstance(value, (dict, list)):
		return value
	from nexora_qbo.sync.records import loads, plain

	return plain(loads(value))


def _cell(value) -> str:
	if value is None or value == "":
		return "<span class='text-muted'>—</span>"
	if isinstance(value, (dict, list)):
		text = escape_html(json.dumps(value, indent=1, default=str))
		return f"<pre style='white-space:pre-wrap;margin:0'>{text}</pre>"
	return escape_html(str(value))


def _mark(value, base) -> str:
	return " style='background-color: var(--yellow-highlight-color, #fff7d6)'" if value != base else ""


def compute_diffs(base: dict | None, local: dict | None, qbo: dict | None) -> list[dict]:
	"""Fields whose ERPNext and QuickBooks values differ (used when the engine recorded no diff list)."""
	if not isinstance(local, dict) and not isinstance(qbo, dict):
		return []
	base, local, qbo = base or {}, local or {}, qbo or {}
	out = []
	for field in sorted(set(local) | set(qbo)):
		if field in ("state", "outstanding"):
			continue
		if local.get(field) != qbo.get(field):
			out.append(
				{"field": field, "base": base.get(field), "local": local.get(field), "qbo": qbo.get(field)}
			)
	return out


# --------------------------------------------------------------------------------------------------------
# engine <-> row conversion (used by the Frappe Store, part B)
# --------------------------------------------------------------------------------------------------------


def conflict_to_fields(conflict, realm: str) -> dict:
	from nexora_qbo.erpnext.token_store import to_db_datetime
	from nexora_qbo.sync.records import dumps

	status = {v: k for k, v in K.CONFLICT_STATUS_LABELS.items()}

	def dump(value):
		return None if value is None else dumps(value)

	return {
		"realm": realm,
		"local_type": conflict.local_type,
		"reference_doctype": K.LOCAL_DOCTYPE.get(conflict.local_type) if conflict.local_type else None,
		"reference_name": conflict.local_id,
		"qbo_entity": conflict.qbo_entity,
		"qbo_id": conflict.qbo_id,
		"kind": conflict.kind,
		"kind_label": CONFLICT_KIND_WORDS.get(conflict.kind, conflict.kind),
		"resolution_label": RESOLUTION_WORDS.get(conflict.resolution or "", conflict.resolution or None),
		"reason": conflict.reason,
		"local_version": dump(conflict.local_version),
		"qbo_version": dump(conflict.qbo_version),
		"base_version": dump(conflict.base_version),
		"diffs": dump(conflict.diffs or []),
		"status": status.get(conflict.status, conflict.status),
		"resolution": conflict.resolution,
		"allowed_actions": ",".join(conflict.actions or []),
		"outbox": int(conflict.outbox_id) if conflict.outbox_id else None,
		"created_at": to_db_datetime(conflict.created_at),
		"resolved_on": to_db_datetime(conflict.resolved_at),
		"resolved_by": conflict.resolved_by,
	}


def row_to_conflict(row, realm_id: str):
	from nexora_qbo.erpnext.token_store import from_db_datetime
	from nexora_qbo.sync.ports import Conflict
	from nexora_qbo.sync.records import loads

	return Conflict(
		realm_id=realm_id,
		local_type=row.local_type or None,
		local_id=row.reference_name or None,
		qbo_entity=row.qbo_entity or None,
		qbo_id=row.qbo_id or None,
		kind=row.kind,
		reason=row.reason,
		local_version=loads(row.local_version),
		qbo_version=loads(row.qbo_version),
		base_version=loads(row.base_version),
		diffs=loads(row.diffs) or [],
		status=K.CONFLICT_STATUS_LABELS.get(row.status, row.status),
		resolution=row.resolution or None,
		actions=[a for a in (row.allowed_actions or "").split(",") if a],
		outbox_id=str(row.outbox) if row.outbox else None,
		created_at=from_db_datetime(row.created_at),
		resolved_at=from_db_datetime(row.resolved_on),
		resolved_by=row.resolved_by or None,
		id=str(row.name),
	)


# --------------------------------------------------------------------------------------------------------
# the action buttons
# --------------------------------------------------------------------------------------------------------


@frappe.whitelist(methods=["POST"])
def resolve(conflict: str, action: str, note: str | None = None) -> dict:
	"""Record who asked for what, then let the engine act in a job (it needs QBO and the realm lock)."""
	from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import check_manager

	check_manager()
	doc = frappe.get_doc(K.CONFLICT, conflict)
	doc.check_permission("read")
	if doc.status != "Open":
		frappe.throw(_("This review item is already {0}.").format(_(doc.status)))
	allowed = [b["action"] for b in doc.action_buttons()]
	if action not in allowed:
		frappe.throw(
			_("{0} is not possible for this review item.").format(K.CONFLICT_ACTION_LABELS.get(action, action))
		)

	realm_id = frappe.db.get_value(K.REALM, doc.realm, "realm_id")
	user = frappe.session.user
	frappe.db.set_value(
		K.CONFLICT,
		doc.name,
		{
			"requested_action": action,
			"requested_by": user,
			"requested_on": now_datetime(),
			"resolution_note": note,
		},
	)
	label = K.CONFLICT_ACTION_LABELS.get(action, action)
	doc.add_comment(
		"Info",
		_("{0} chose \u201c{1}\u201d{2}").format(user, label, f": {escape_html(note)}" if note else ""),
	)

	from nexora_qbo.erpnext import jobs

	jobs.enqueue_resolve(realm_id, str(doc.name), action, user, note)
	return {"queued": True}
