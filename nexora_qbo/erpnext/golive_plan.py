"""The go-live plan on ERPNext: the engine's GoLivePlan (nexora_qbo.sync.golive) kept as a QBO Go-Live Plan
document that a person reads, corrects and confirms, and the two jobs around it.

Why a document: the first import/export decides which ERPNext customer IS which QBO customer and what each one
owes, so a person must see it before anything is written, and what runs must be exactly what that person
confirmed. The preview job only reads QBO and writes this one document (no ledger, map, cursor or outbox row).
While the plan is a Draft, its rows' Action and Local Record can be changed through its form (correct a match,
exclude a record); "Confirm and run" freezes the rows (plan_json) and enqueues the apply job, which runs
that frozen copy and nothing else. After Confirm the plan is read only.
"""

from __future__ import annotations

import json

import frappe
from frappe import _
from frappe.utils import now_datetime

from nexora_qbo.erpnext import constants as K
from nexora_qbo.sync import golive as G
from nexora_qbo.sync import records as R
from nexora_qbo.sync.constants import GO_LIVE_ACTION_LABELS

PLAN = "QBO Go-Live Plan"
DRAFT, CONFIRMED, APPLIED, FAILED = "Draft", "Confirmed", "Applied", "Failed"
SYSTEM_FLAG = "nexora_qbo_plan_system"  # set only by this module's own writes (status, rows, results)
EDITABLE = ("action", "local_id")  # what a person may change on a Draft row
MASTER_ENTITIES = ("Customer", "Item")
LOCAL_DOCTYPE = {"Customer": "Customer", "Item": "Item"}
_ACTION_OF_LABEL = {label: key for key, label in GO_LIVE_ACTION_LABELS.items()}


def action_label(key: str) -> str:
	"""A plan action in the bookkeeper's words the plan form shows and stores (sync/constants)."""
	return GO_LIVE_ACTION_LABELS[key]


def action_key(value: str | None) -> str | None:
	"""The engine's key of a row's Action as the form stores it (its words; a key is accepted as itself)."""
	if value in GO_LIVE_ACTION_LABELS:
		return value
	return _ACTION_OF_LABEL.get(value or "")


def amount_shown(entity: str, amount) -> str:
	"""What the Amount column says: a document's open balance or total; nothing for a customer or item
	(a master has no amount, and "0.00" would read as "owes nothing")."""
	if entity in MASTER_ENTITIES or amount is None:
		return ""
	from frappe.utils import fmt_money

	return fmt_money(R.money(amount))


def system_writes():
	"""Context of this module's own writes of a plan (status, rows built by the preview, the result)."""
	from contextlib import contextmanager

	@contextmanager
	def _cm():
		previous = frappe.flags.get(SYSTEM_FLAG)
		frappe.flags[SYSTEM_FLAG] = True
		try:
			yield
		finally:
			frappe.flags[SYSTEM_FLAG] = previous

	return _cm()


# --------------------------------------------------------------------------------------------------------
# plan <-> document
# --------------------------------------------------------------------------------------------------------


def format_opening_ar(opening_ar: dict) -> str:
	return "\n".join(f"{name}: {amount}" for name, amount in opening_ar.items()) or _("Nothing is open.")


def insert_plan(realm: str, plan: G.GoLivePlan) -> str:
	doc = frappe.new_doc(PLAN)
	doc.realm = realm
	doc.company = plan.company
	doc.status = DRAFT
	doc.go_live_date = plan.go_live_date
	doc.date_chosen = int(plan.date_chosen)
	doc.previewed_on = now_datetime()
	doc.opening_ar = format_opening_ar(plan.opening_ar)
	doc.opening_ar_total = float(sum(plan.opening_ar.values(), R.money(0)))
	for row in plan.rows:
		doc.append(
			"rows",
			{
				"entity": row.entity,
				"local_type": row.local_type,
				"action": action_label(row.action),
				"planned_action": row.action,
				"qbo_id": row.qbo_id,
				"qbo_name": row.qbo_name,
				"local_id": row.local_id,
				"reason": row.reason,
				"amount": None if row.amount is None else float(row.amount),
				"amount_shown": amount_shown(row.entity, row.amount),
				"customer": row.customer,
				"txn_date": row.txn_date,
			},
		)
	with system_writes():
		doc.insert(ignore_permissions=True)
	return doc.name


def plan_of(doc) -> dict:
	"""The engine's plan as the document's rows say now (GoLivePlan.to_dict form)."""
	realm_id = frappe.db.get_value(K.REALM, doc.realm, "realm_id")
	return {
		"realm_id": realm_id,
		"company": doc.company,
		"go_live_date": str(doc.go_live_date),
		"date_chosen": bool(doc.date_chosen),
		"opening_ar": {},
		"rows": [
			{
				"entity": r.entity,
				"local_type": r.local_type,
				"action": action_key(r.action),
				"qbo_id": r.qbo_id or None,
				"qbo_name": r.qbo_name or None,
				"local_id": r.local_id or None,
				"reason": r.reason or "",
				"amount": None if r.amount is None or action_key(r.action) not in (G.OPENING, G.CREATE)
				or r.entity in MASTER_ENTITIES else str(R.money(r.amount)),
				"customer": r.customer or None,
				"txn_date": str(r.txn_date) if r.txn_date else None,
			}
			for r in doc.rows
		],
	}


# --------------------------------------------------------------------------------------------------------
# validation of a person's edits (called by the DocType controller)
# --------------------------------------------------------------------------------------------------------


def validate(doc) -> None:
	if frappe.flags.get(SYSTEM_FLAG):
		return
	if doc.is_new():
		frappe.throw(_("A go-live plan is made by the Preview go-live button on the QBO Realm."), frappe.PermissionError)
	before = doc.get_doc_before_save() or frappe.get_doc(PLAN, doc.name)
	if before.status != DRAFT:
		frappe.throw(_("This go-live plan is {0}: it can no longer be changed.").format(_(before.status)))
	for field in ("realm", "company", "status", "go_live_date", "date_chosen", "opening_ar", "plan_json", "result"):
		if not _same(doc.get(field), before.get(field)):
			frappe.throw(_("Only a row's Action and Local Record can be changed on a go-live plan."))
	old = {r.name: r for r in before.rows}
	if sorted(r.name for r in doc.rows if r.name) != sorted(old) or any(not r.name for r in doc.rows):
		frappe.throw(_("Rows cannot be added to or removed from a go-live plan; set a row's Action to {0} instead.").format(
			_(action_label(G.EXCLUDE))))
	for row in doc.rows:
		prev = old[row.name]
		for field in row.as_dict():
			if field in EDITABLE or field in ("modified", "modified_by", "creation", "owner", "idx", "docstatus"):
				continue
			if not _same(row.get(field), prev.get(field)):
				frappe.throw(_("Row {0}: only its Action and Local Record can be changed.").format(row.idx))
		_validate_row(row)
		row.action = action_label(action_key(row.action))  # a key sent by a script is stored as its words


def _same(a, b) -> bool:
	"""Equal as the form and the database carry them (200 vs 200.0, a date vs its ISO text, None vs "")."""
	from frappe.utils import flt

	if isinstance(a, (int, float)) or isinstance(b, (int, float)):
		return flt(a) == flt(b)
	return str(a or "") == str(b or "")


def _validate_row(row) -> None:
	planned = row.planned_action
	allowed = {planned, G.EXCLUDE}
	if row.entity in MASTER_ENTITIES and row.qbo_id:
		allowed |= {G.LINK, G.IMPORT}
	action = action_key(row.action)
	if action not in allowed:
		frappe.throw(
			_("Row {0} ({1} {2}): the action can be {3}.").format(
				row.idx, row.entity, row.qbo_name or row.local_id,
				", ".join(_(action_label(a)) for a in G.ACTIONS if a in allowed)
			)
		)
	if action == G.LINK:
		doctype = LOCAL_DOCTYPE.get(row.entity)
		if not row.local_id or not doctype or not frappe.db.exists(doctype, row.local_id):
			frappe.throw(
				_("Row {0}: choose the ERPNext {1} to link {2} to (Local Record).").format(
					row.idx, _(doctype or row.entity), row.qbo_name
				)
			)
	if action == G.IMPORT:
		row.local_id = None


# --------------------------------------------------------------------------------------------------------
# the two jobs
# --------------------------------------------------------------------------------------------------------


def enqueue_preview(realm: str, user: str) -> None:
	from nexora_qbo.erpnext.jobs import enqueue_once

	enqueue_once("nexora_qbo.erpnext.golive_plan.build_preview", f"qbo-golive-preview::{realm}", realm=realm, user=user)


def build_preview(realm: str, user: str | None = None, **_) -> str:
	"""Job: read QBO and the books, write only the plan document (and QBO's set-up and lists, qbo_setup.py)."""
	from nexora_qbo.erpnext.jobs import build_engine

	from nexora_qbo.erpnext import qbo_setup

	realm_id = frappe.db.get_value(K.REALM, realm, "realm_id")
	engine = build_engine()
	qbo_setup.read_setup(engine, realm_id)  # the import maps by QBO's set-up: read it first (each import)
	plan = engine.go_live_preview(realm_id)
	name = insert_plan(realm, plan)
	if user:
		frappe.publish_realtime("nexora_qbo_go_live_plan", {"realm": realm, "plan": name}, user=user)
	return name


def confirm(name: str, user: str) -> None:
	"""Freeze the rows as they are now and enqueue exactly that plan."""
	doc = frappe.get_doc(PLAN, name)
	if doc.status != DRAFT:
		frappe.throw(_("This go-live plan is {0}: it was confirmed already.").format(_(doc.status)))
	open_plans = frappe.get_all(PLAN, filters={"realm": doc.realm, "status": CONFIRMED, "name": ("!=", name)}, limit=1)
	if open_plans:
		frappe.throw(_("Another go-live plan of this realm ({0}) is running; wait for it to finish.").format(open_plans[0].name))
	with system_writes():
		doc.plan_json = json.dumps(plan_of(doc), sort_keys=True)
		doc.status = CONFIRMED
		doc.confirmed_by = user
		doc.confirmed_on = now_datetime()
		doc.save(ignore_permissions=True)
	# the realm's checklist and both forms' bars follow the plan from now on (no stale bar of an earlier run)
	frappe.db.set_value(K.REALM, doc.realm, "initial_import_status", K.IMPORT_QUEUED, update_modified=False)
	frappe.cache.delete_value(K.IMPORT_PROGRESS_CACHE_KEY + doc.realm)
	from nexora_qbo.erpnext.jobs import enqueue_once

	enqueue_once("nexora_qbo.erpnext.golive_plan.apply_plan", f"qbo-golive-apply::{name}", name=name, user=user)


def apply_plan(name: str, user: str | None = None, **_) -> dict:
	"""Job: run the frozen plan (plan_json) and record the outcome on the plan."""
	from nexora_qbo.erpnext.events import inbound
	from nexora_qbo.erpnext.jobs import build_engine

	doc = frappe.get_doc(PLAN, name)
	if doc.status != CONFIRMED:
		return {"skipped": f"plan is {doc.status}"}
	plan = json.loads(doc.plan_json)
	progress = _progress_to(doc.realm, name, user)
	_set_import_status(doc.realm, K.IMPORT_RUNNING)
	try:
		with inbound():
			counts = build_engine().apply_go_live(plan["realm_id"], plan, progress)
	except Exception as exc:
		frappe.db.rollback()
		from nexora_qbo.erpnext.mappers import plain_error

		_finish(name, FAILED, frappe._("The go-live stopped: {0}. Correct the cause, then preview the go-live again.").format(plain_error(exc)))
		_set_import_status(doc.realm, K.IMPORT_FAILED)
		progress.finish(frappe._("The go-live stopped; see the plan's result"))
		raise
	_finish(name, APPLIED, G.format_result(counts))  # in words: the form and its history show it
	_set_import_status(doc.realm, K.IMPORT_DONE)
	progress.finish(frappe._("Go-live finished"))
	return counts


class _progress_to:
	"""The apply job's progress, published exactly as the initial import's (jobs._progress: the realm form's
	bar, and the plan form's, which poll it where the realtime server is not running)."""

	def __init__(self, realm: str, plan: str, user: str | None):
		self.realm, self.plan, self.user, self.total = realm, plan, user, 1

	def __call__(self, done: int, total: int, message: str) -> None:
		from nexora_qbo.erpnext.jobs import _progress

		self.total = total
		_progress(self.realm, self.user, done, total, message, plan=self.plan)

	def finish(self, message: str) -> None:
		from nexora_qbo.erpnext.jobs import _progress

		_progress(self.realm, self.user, self.total, self.total, message, finished=True, plan=self.plan)


def _set_import_status(realm: str, status: str) -> None:
	"""The realm's Initial import step (its setup checklist) follows the go-live: seen at once, whatever the
	job's transaction does next."""
	from nexora_qbo.erpnext.token_store import set_values_autonomously

	set_values_autonomously(K.REALM, realm, {"initial_import_status": status})


def _finish(name: str, status: str, result: str) -> None:
	doc = frappe.get_doc(PLAN, name)
	with system_writes():
		doc.status = status
		doc.result = result
		doc.save(ignore_permissions=True)
