# Copyright (c) 2026, Nexora QBO and contributors
# For license information, please see license.txt
"""QBO Sync Log: exactly one row per HTTP exchange with QBO (invariant 3). Written once, never edited.

Nobody may change or delete a row: no role has write/delete/create permission, and the controller refuses
edits and deletions even for Administrator. The only deletion is the retention purge (`clear_old_logs`),
which honours QBO Settings.log_retention_days (default ~7 years) whatever Log Settings asks for.

Rows are written with `append_audit_row`, autonomously (own connection, own commit), so that the audit trail
survives a rollback of the job that made the exchange (the Store port's `append_audit` contract).
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import add_days, cint, now_datetime

from nexora_qbo.erpnext import constants as K

_PURGE_FLAG = "nexora_qbo_log_purge"


# The reconciliation report counts a realm's month by outcome and error code in SQL; this covering index
# (leftmost realm, then the period, then the current-company filter and the grouped columns) answers it from
# the index alone, so a month over 1,000,000 rows reads no row (created by on_doctype_update at migrate;
# outcome and error_code also carry their own search_index in the DocType JSON). Without qbo_realm_id in it,
# the report's "this QBO company" filter made MariaDB read every row of the month (4.3 s over 1M rows).
REPORT_INDEX = ("realm_month_summary", ["realm", "timestamp", "qbo_realm_id", "outcome", "error_code"])


def on_doctype_update():
	frappe.db.add_index(K.SYNC_LOG, REPORT_INDEX[1], index_name=REPORT_INDEX[0])


class QBOSyncLog(Document):
	def save(self, *args, **kwargs):
		# insert() does not come through here; any save of an existing row is an edit. Refused before
		# Frappe's own checks (links, timestamps) so the reason is always this one.
		if not self.is_new():
			frappe.throw(
				_("QBO Sync Log rows are an audit trail and cannot be edited."), frappe.PermissionError
			)
		return super().save(*args, **kwargs)

	def validate(self):
		if not self.is_new():
			frappe.throw(
				_("QBO Sync Log rows are an audit trail and cannot be edited."), frappe.PermissionError
			)

	def on_update(self):
		# on_update also runs right after insert; any later save is refused by validate(), this guards
		# paths that skip validation (flags.ignore_validate)
		if self.get_doc_before_save() is not None:
			frappe.throw(
				_("QBO Sync Log rows are an audit trail and cannot be edited."), frappe.PermissionError
			)

	def on_trash(self):
		if not frappe.flags.get(_PURGE_FLAG):
			frappe.throw(
				_("QBO Sync Log rows are an audit trail and cannot be deleted."), frappe.PermissionError
			)

	@staticmethod
	def clear_old_logs(days: int | None = None) -> int:
		"""Log Settings hook. Deletes rows older than max(days, QBO Settings.log_retention_days).

		Rows referenced by an open conflict are kept: the reviewer needs the exchange that raised it.
		"""
		retention = retention_days()
		effective = max(cint(days or 0), retention)
		cutoff = add_days(now_datetime(), -effective)
		log = frappe.qb.DocType(K.SYNC_LOG)
		conflict = frappe.qb.DocType(K.CONFLICT)
		open_conflicts = frappe.qb.from_(conflict).select(conflict.name).where(conflict.status == "Open")
		query = (
			frappe.qb.from_(log)
			.select(log.name)
			.where(log.creation < cutoff)
			.where(log.conflict.isnull() | log.conflict.notin(open_conflicts))
		)
		names = [row[0] for row in query.run()]
		for start in range(0, len(names), 1000):
			frappe.db.delete(K.SYNC_LOG, {"name": ("in", names[start : start + 1000])})
		return len(names)


def retention_days() -> int:
	"""The stored retention, never below the floor: a value written around the form (db.set_single_value, an
	older version of the app) cannot make the daily purge delete the trail."""
	value = cint(frappe.db.get_single_value(K.SETTINGS, "log_retention_days"))
	return max(value if value > 0 else K.DEFAULT_LOG_RETENTION_DAYS, K.MIN_LOG_RETENTION_DAYS)


# --------------------------------------------------------------------------------------------------------
# writing rows
# --------------------------------------------------------------------------------------------------------

MAX_URL_LENGTH = 65000  # a query string longer than this is noise; keep the row insertable

AUDIT_FIELDS = {
	# AuditRow attribute -> QBO Sync Log field (the rest: realm, direction, reference_*, timestamp)
	"qbo_entity": "entity",
	"operation": "operation",
	"local_type": "local_type",
	"qbo_id": "qbo_id",
	"http_method": "http_method",
	"url": "url",
	"request_payload": "request_payload",
	"response_payload": "response_payload",
	"http_status": "http_status",
	"sync_token_sent": "sync_token_sent",
	"sync_token_received": "sync_token_received",
	"request_id": "request_id",
	"intuit_tid": "intuit_tid",
	"outcome": "outcome",
	"error_code": "error_code",
	"conflict_id": "conflict",
	"attempt": "attempt",
	"duration_ms": "duration_ms",
}


def audit_row_to_fields(row, realm: str | None = None) -> dict:
	"""An engine AuditRow (nexora_qbo.sync.ports) as QBO Sync Log field values."""
	from nexora_qbo.erpnext.token_store import to_db_datetime
	from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import realm_doc_name

	values = {field: getattr(row, attr) for attr, field in AUDIT_FIELDS.items()}
	direction = {v: k for k, v in K.DIRECTION_LABELS.items()}
	values["direction"] = direction.get(row.direction, row.direction)
	values["realm"] = realm or (realm_doc_name(row.realm_id) if row.realm_id else None)
	# the QBO company itself: the realm document may later be reset and bound to another company
	values["qbo_realm_id"] = row.realm_id or (
		frappe.db.get_value(K.REALM, values["realm"], "realm_id") if values["realm"] else None
	)
	values["timestamp"] = to_db_datetime(row.timestamp) or now_datetime()
	if row.local_type and row.local_id:
		values["reference_doctype"] = K.LOCAL_DOCTYPE.get(row.local_type)
		values["reference_name"] = row.local_id
	from nexora_qbo.sync.audit import search_keys

	values["search_keys"] = search_keys(row) or None  # the list's "find every exchange about 1042" filter
	if values.get("url") and len(values["url"]) > MAX_URL_LENGTH:
		values["url"] = values["url"][:MAX_URL_LENGTH]
	return values


def fields_to_audit_row(doc):
	"""The other way: a QBO Sync Log row as an engine AuditRow (Store.list_audit)."""
	from nexora_qbo.erpnext.token_store import from_db_datetime
	from nexora_qbo.sync.ports import AuditRow

	realm_id = frappe.db.get_value(K.REALM, doc.realm, "realm_id") if doc.realm else None
	kwargs = {attr: doc.get(field) for attr, field in AUDIT_FIELDS.items()}
	kwargs["conflict_id"] = str(doc.conflict) if doc.conflict else None
	return AuditRow(
		realm_id=realm_id,
		direction=K.DIRECTION_LABELS.get(doc.direction, doc.direction),
		local_id=doc.reference_name,
		timestamp=from_db_datetime(doc.timestamp),
		id=doc.name,
		**kwargs,
	)


def append_audit_row(row, realm: str | None = None, *, always_autonomous: bool = False) -> str:
	"""Persist one AuditRow now, surviving any later rollback of the caller; returns the row name.

	Autonomous when the realm row is committed (the normal case in jobs); inside the caller's transaction
	otherwise (the realm itself is uncommitted, so nothing could outlive it anyway). The engine's Store
	passes `always_autonomous=True`: its contract is that an exchange that happened is never rolled back,
	whatever the state of the realm row.
	"""
	values = audit_row_to_fields(row, realm)
	name = frappe.generate_hash(length=12)
	if values.get("realm") and _insert_autonomously(name, values, check_realm=not always_autonomous):
		return name
	doc = frappe.get_doc({"doctype": K.SYNC_LOG, **values})
	doc.name = name
	doc.flags.name_set = True
	doc.insert(ignore_permissions=True, ignore_links=True)
	return doc.name


def _insert_autonomously(name: str, values: dict, *, check_realm: bool = True) -> bool:
	from nexora_qbo.erpnext.token_store import AutonomousDB

	if not AutonomousDB.available():
		return False
	try:
		with AutonomousDB() as adb:
			if check_realm and not adb.row_visible(K.REALM, values["realm"]):
				return False
			now = now_datetime()
			user = frappe.session.user if frappe.session else "Administrator"
			columns = {
				"name": name,
				"creation": now,
				"modified": now,
				"owner": user,
				"modified_by": user,
				"docstatus": 0,
				"idx": 0,
				**{k: v for k, v in values.items() if v is not None},
			}
			names = ", ".join(f"`{k}`" for k in columns)
			marks = ", ".join(["%s"] * len(columns))
			with adb.transaction() as cur:
				cur.execute(
					f"insert into `tab{K.SYNC_LOG}` ({names}) values ({marks})", tuple(columns.values())
				)
			return True
	except Exception:
		frappe.logger("nexora_qbo").warning(
			"autonomous audit insert failed; using the current transaction", exc_info=True
		)
		return False


def exchange_to_audit_row(
	exchange,
	direction: str = "outbound",
	local_type: str | None = None,
	local_id: str | None = None,
	conflict_id: str | None = None,
):
	"""A client Exchange (nexora_qbo.qbo.exchange) as an AuditRow, for exchanges made outside the engine
	(OAuth code exchange, revoke, company info)."""
	from nexora_qbo.sync.ports import AuditRow

	return AuditRow(
		realm_id=exchange.realm_id,
		direction=direction,
		qbo_entity=exchange.entity,
		operation=exchange.operation,
		local_type=local_type,
		local_id=local_id,
		qbo_id=exchange.entity_id,
		http_method=exchange.method,
		url=exchange.url,
		request_payload=exchange.request_body,
		response_payload=exchange.response_body,
		http_status=exchange.response_status,
		sync_token_sent=exchange.sync_token_sent,
		sync_token_received=exchange.sync_token_received,
		request_id=exchange.request_id,
		intuit_tid=exchange.intuit_tid,
		outcome=exchange.outcome,
		error_code=exchange.error_code,
		conflict_id=conflict_id,
		attempt=exchange.attempt,
		duration_ms=exchange.duration_ms,
		timestamp=exchange.started_at,
	)


def exchange_hook(realm: str | None = None, direction: str = "outbound"):
	"""`on_exchange` callback for OAuthApp/QBOClient used outside the engine: one row per attempt."""

	def hook(exchange) -> None:
		try:
			append_audit_row(exchange_to_audit_row(exchange, direction), realm=realm)
		except Exception as exc:
			# the audit writer must never turn a successful exchange into a failure of the caller
			from nexora_qbo.erpnext.errorlog import log_error

			log_error("QBO audit row could not be written", exc)

	return hook
