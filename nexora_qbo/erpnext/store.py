"""FrappeStore: the sync engine's Store port (nexora_qbo.sync.ports.Store) on the Nexora QBO DocTypes.

	realm settings  -> QBO Realm (+ QBO Realm Reference rows)      keyed by realm_id (the row is named after
	                                                               its Company: one Company <-> one realm)
	mappings        -> QBO Entity Map        cursor -> QBO Cursor   outbox -> QBO Outbox
	events          -> QBO Sync Event        conflicts -> QBO Conflict
	audit rows      -> QBO Sync Log (autonomous, see below)

Transactions. Frappe always has a transaction open; the request or the RQ job (`execute_job`) decides when
it commits, and library code never calls `frappe.db.commit()` (it would commit the caller's half-done
work and break FrappeTestCase isolation). So `transaction()` is a SAVEPOINT inside the current
transaction: the block's writes are undone together when it raises, kept (and committed later by the
job) when it does not; a nested `transaction()` joins the outer one. "Methods called outside a
transaction commit on their own" therefore means "are part of the job's transaction" here. That is safe
for the engine because every QBO create carries a deterministic requestid and creates are looked up by
stable key first: if a job dies after QBO accepted a write, the rolled-back outbox entry is retried with
the same requestid and relinked, never duplicated.

Audit rows (`append_audit`) must survive a rollback of the work around them (the port's one exception).
They are inserted on a SECOND database connection (nexora_qbo.erpnext.token_store.AutonomousDB) that
commits each row by itself, whatever the job's connection does later. Why not the alternatives:
- `frappe.log_error(defer_insert=True)` / an enqueued insert: asynchronous, so a row can be lost when the
  worker dies before it runs, and it is not visible to `list_audit` right away;
- remembering rows and re-inserting them after a rollback: `frappe.db.after_rollback` does not fire for a
  savepoint rollback, and a killed worker never re-inserts.
The row is written with a raw INSERT (name = random hash like the DocType's autoname "hash"), so it never
waits on a lock the job's own transaction holds (no naming series row, no link validation reading
uncommitted rows). `list_audit` reads through a fresh autonomous connection too (MariaDB REPEATABLE READ:
the job's connection keeps its first snapshot and would not see rows committed after it) and merges in any
row only the job's connection can see (part A's fallback writer for a realm that is not committed yet).
Audit rows are never updated by this class.

On a database where the autonomous connection is not available (not MariaDB), audit rows fall back to the
current transaction: documented limitation, ERPNext production runs on MariaDB.
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any, Iterable, Iterator

import frappe
from frappe.utils import now_datetime

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.guards import engine_insert, engine_writes
from nexora_qbo.sync.ports import AuditRow, Conflict, Cursor, Mapping, OutboxEntry, RealmSettings, SyncEvent

_SAVEPOINT_SEQ = itertools.count(1)

_CACHED_TYPES = ("customer", "item")  # mappings kept for a job (FrappeStore._hook_transaction)

_MAP_FIELDS = [
	"name",
	"realm",
	"local_type",
	"reference_name",
	"qbo_entity",
	"qbo_id",
	"sync_token",
	"base_snapshot",
	"last_sent_hash",
	"remote_hash",
	"status",
	"last_synced_on",
	"origin",
]
_CONFLICT_FIELDS = [
	"name",
	"realm",
	"local_type",
	"reference_name",
	"qbo_entity",
	"qbo_id",
	"kind",
	"reason",
	"local_version",
	"qbo_version",
	"base_version",
	"diffs",
	"status",
	"resolution",
	"allowed_actions",
	"outbox",
	"created_at",
	"resolved_on",
	"resolved_by",
]
_EVENT_FIELDS = [
	"name",
	"realm",
	"direction",
	"local_type",
	"reference_name",
	"qbo_entity",
	"qbo_id",
	"action",
	"detail",
	"conflict",
	"timestamp",
]


def _this_company(realm_id: str) -> list:
	"""History rows of this QBO company only: a realm document that was reset and bound to another company
	keeps the old company's rows (rows written before the column existed: unset)."""
	return [["qbo_realm_id", "=", realm_id], ["qbo_realm_id", "is", "not set"]]


def _audit_columns() -> dict[str, str]:
	"""AuditRow attribute -> QBO Sync Log column: one mapping, owned by the log's module."""
	from nexora_qbo.nexora_qbo.doctype.qbo_sync_log.qbo_sync_log import AUDIT_FIELDS

	return AUDIT_FIELDS


def _naive(value: datetime | None) -> datetime | None:
	from nexora_qbo.erpnext.token_store import to_naive_utc

	return to_naive_utc(value)


def _aware(value) -> datetime | None:
	from nexora_qbo.erpnext.token_store import to_aware_utc

	return to_aware_utc(value)


# The "QBO Id" / "QBO Sync Status" custom fields on the synced documents are display only (the authority is
# QBO Entity Map / QBO Outbox), but a user reads them on the form: without these stamps a pushed or imported
# document kept "Queued" (set by the doc event) forever. None = leave the status as it is.
_MAPPING_SYNC_STATUS = {"active": K.SYNCED, "voided": "Voided in QBO", "deleted": "Deleted in QBO"}
_OUTBOX_SYNC_STATUS = {"failed": "Failed", "parked": K.IN_REVIEW}


def _stamp_document(local_type: str, local_id: str, status: str | None, qbo_id: str | None = None) -> None:
	"""Stamp the document. An open review item on it wins over the status the caller saw (a mapping saved
	as "active" while QuickBooks holds an edited version in review must not say "Synced")."""
	doctype = K.LOCAL_DOCTYPE.get(local_type)
	if not doctype or not local_id or not frappe.get_meta(doctype).has_field(K.CF_SYNC_STATUS):
		return
	if not status and not qbo_id:
		return
	# One UPDATE (no hooks, no modified bump, same as events._set_sync_status) that decides the review-item
	# case itself, instead of a SELECT on QBO Conflict then the UPDATE: on every pushed document (issue 9).
	sets, params = [], []
	if status:
		sets.append(
			f"`{K.CF_SYNC_STATUS}` = case when exists(select 1 from `tab{K.CONFLICT}` c where "
			"c.reference_doctype=%s and c.reference_name=%s and c.status='Open') then %s else %s end"
		)
		params += [doctype, local_id, K.IN_REVIEW, status]
	if qbo_id:
		sets.append(f"`{K.CF_QBO_ID}` = %s")
		params.append(str(qbo_id))
	frappe.db.sql(f"update `tab{doctype}` set {', '.join(sets)} where name=%s", (*params, local_id))
	frappe.clear_document_cache(doctype, local_id)  # (what set_value does)


def _restamp_after_review(local_type: str | None, local_id: str | None) -> None:
	"""A review item opened or closed: the document's status follows (In Review, or back to what it is)."""
	from nexora_qbo.erpnext.doc_status import restamp

	if local_type and local_id:
		restamp(K.LOCAL_DOCTYPE.get(local_type), local_id)


def _notify_reviewers(conflict_id: str) -> None:
	"""Tell the realm's reviewers in the desk; a notification problem never stops the sync."""
	from nexora_qbo.erpnext.notify import notify_new_review_item

	frappe.db.savepoint("nexora_qbo_notify")
	try:
		notify_new_review_item(conflict_id)
	except Exception:
		frappe.db.rollback(save_point="nexora_qbo_notify")
		frappe.logger("nexora_qbo").exception(f"could not notify reviewers of review item {conflict_id}")


class _MappingCache:
	"""Mapping rows a FrappeStore has read, shared by every FrappeStore on one database connection (the engine's
	store and the ledger's are two instances: a write through one must be seen by the other's next read).

	The customer and item mappings are read several times per pushed document (its dependencies, its payload's
	references, by document and by QBO id) and change rarely, and a document not in QBO yet is asked about
	several times before its create, so rows (customers, items) and "unmapped" answers (any type) are kept: the
	job holds the realm lock, so no one else writes this realm's mappings meanwhile. What could make a kept
	answer wrong is our own transaction: a mapping written here is never kept until that write commits
	(`written`), and a rollback forgets everything kept (a savepoint rollback only undoes rows in `written`)."""

	def __init__(self, db):
		self.db = db
		self.masters: dict[tuple, dict] = {}  # (realm, local type, local id) -> row, customers and items
		self.by_qbo: dict[tuple, dict] = {}  # the same rows by (realm, QBO entity, QBO id)
		self.qbo_keys: dict[tuple, set] = {}  # (realm, local type, local id) -> its keys in by_qbo
		self.absent: set[tuple] = set()  # (realm, local type, local id) read and found unmapped
		self.written: set[tuple] = set()
		self.hooked = False

	@classmethod
	def of_connection(cls) -> "_MappingCache":
		db = frappe.db
		cache = getattr(db, "_nexora_qbo_mappings", None)
		if cache is None:
			cache = cls(db)
			db._nexora_qbo_mappings = cache
		return cache

	def hook(self) -> None:
		if self.hooked:
			return
		self.hooked = True

		def committed():
			self.written.clear()
			self.hooked = False

		self.db.after_commit.add(committed)
		self.db.after_rollback.add(self.forget)

	def forget(self) -> None:
		"""Nothing kept any more (a rollback; the realm's mappings deleted wholesale by a reset)."""
		self.masters.clear()
		self.by_qbo.clear()
		self.qbo_keys.clear()
		self.absent.clear()
		self.written.clear()
		self.hooked = False


def forget_kept_mappings() -> None:
	"""For code that deletes QBO Entity Map rows itself (a realm reset): no FrappeStore on this connection may
	answer from what it kept before."""
	_MappingCache.of_connection().forget()


class FrappeStore:
	"""The Store port on DocTypes. One instance per engine (per job); it caches realm_id <-> row names."""

	def __init__(self):
		self._depth = 0
		self._names: dict[str, str | None] = {}
		self._ids: dict[str, str | None] = {}

	# ------------------------------------------------------------------------------------- realm names
	def _realm_name(self, realm_id: str) -> str | None:
		"""The QBO Realm row of a realmId (None for an unknown realm: nothing is ever looked up across realms)."""
		if not realm_id:
			return None
		if self._names.get(realm_id) is None:
			name = frappe.db.get_value(K.REALM, {"realm_id": realm_id}, "name")
			self._names[realm_id] = name
			if name:
				self._ids[name] = realm_id
		return self._names[realm_id]

	def _require_realm(self, realm_id: str) -> str:
		name = self._realm_name(realm_id)
		if not name:
			raise LookupError(f"no QBO Realm is connected with realmId {realm_id}")
		return name

	def _realm_id(self, realm: str) -> str | None:
		if self._ids.get(realm) is None:
			self._ids[realm] = frappe.db.get_value(K.REALM, realm, "realm_id")
		return self._ids[realm]

	def _forget_realms(self) -> None:
		self._names.clear()
		self._ids.clear()

	# ------------------------------------------------------------------------------------- transactions
	@property
	def in_transaction(self) -> bool:
		"""True inside a `transaction()` block (a savepoint that a commit would silently end)."""
		return bool(self._depth)

	@contextmanager
	def transaction(self) -> Iterator[None]:
		"""A savepoint in the current Frappe transaction; nesting joins the outer block (see module doc)."""
		if self._depth:
			self._depth += 1
			try:
				yield
			finally:
				self._depth -= 1
			return
		savepoint = f"nexora_qbo_store_{next(_SAVEPOINT_SEQ)}"
		frappe.db.savepoint(savepoint)
		self._depth = 1
		try:
			yield
		except BaseException:
			self._depth = 0
			try:
				frappe.db.rollback(save_point=savepoint)
			except Exception:
				# a deadlock already rolled the whole transaction back (the savepoint is gone): the original
				# error is what the caller must see (the job fails and is retried)
				pass
			self._forget_realms()  # a realm row written inside the block may be gone
			raise
		else:
			self._depth = 0
			try:
				frappe.db.release_savepoint(savepoint)
			except Exception:  # an implicit commit (DDL) already released it; nothing to undo
				pass

	# ------------------------------------------------------------------------------------- settings
	def get_settings(self, realm_id: str) -> RealmSettings | None:
		name = self._realm_name(realm_id)
		if not name:
			return None
		settings = frappe.get_doc(K.REALM, name).to_settings()
		# The ERPNext-side defaults of the realm (receivable account, customer group…) are not engine settings:
		# the ledger reads them from the QBO Realm row itself. `extra` round-trips empty, as the engine saved it
		# (save_settings still applies extra keys that name QBO Realm fields).
		settings.extra = {}
		return settings

	def save_settings(self, settings: RealmSettings) -> None:
		"""Insert or update the realm's row. A Company belongs to one realm (ValueError otherwise).

		Link validation is skipped: the settings are the engine's state (reference maps may name local records
		that are created later); a person editing the QBO Realm form gets the normal validation.
		"""
		name = self._realm_name(settings.realm_id)
		if name:
			doc = frappe.get_doc(K.REALM, name)
			if doc.company != settings.company:
				raise ValueError(
					f"realm {settings.realm_id} is connected to company {doc.company!r}; "
					f"it cannot be moved to {settings.company!r}"
				)
		else:
			row = frappe.db.get_value(
				K.REALM, {"company": settings.company}, ["name", "realm_id"], as_dict=True
			)
			if row and row.realm_id and row.realm_id != settings.realm_id:
				raise ValueError(f"company {settings.company!r} is already connected to realm {row.realm_id}")
			doc = frappe.get_doc(K.REALM, row.name) if row else frappe.new_doc(K.REALM)
		doc.apply_settings(settings)
		doc.flags.ignore_links = True
		doc.flags.ignore_mandatory = True
		doc.flags.ignore_permissions = True
		doc.save() if not doc.is_new() else doc.insert()
		self._forget_realms()

	def realm_for_company(self, company: str) -> str | None:
		if not company:
			return None
		return frappe.db.get_value(K.REALM, {"company": company}, "realm_id") or None

	def list_realms(self) -> list[str]:
		return sorted(
			r for r in frappe.get_all(K.REALM, filters={"realm_id": ("is", "set")}, pluck="realm_id") if r
		)

	# ------------------------------------------------------------------------------------- mappings
	def _mapping_rows(self, filters: dict, limit: int | None = None) -> list:
		return frappe.get_all(
			K.ENTITY_MAP, filters=filters, fields=_MAP_FIELDS, order_by="creation asc, name asc", limit=limit
		)

	def _one_mapping(self, where: str, params: tuple):
		"""The hot path of every push and pull (several lookups per document): one plain indexed SELECT
		instead of the query builder (same columns, order and limit as _mapping_rows)."""
		rows = frappe.db.sql(
			"select {} from `tab{}` where {} order by creation asc, name asc limit 1".format(
				", ".join(f"`{f}`" for f in _MAP_FIELDS), K.ENTITY_MAP, where
			),
			params,
			as_dict=True,
		)
		return rows[0] if rows else None

	def get_mapping(self, realm_id: str, local_type: str, local_id: str) -> Mapping | None:
		from nexora_qbo.nexora_qbo.doctype.qbo_entity_map.qbo_entity_map import row_to_mapping

		realm = self._realm_name(realm_id)
		if not realm or not local_id:
			return None
		key = (realm, local_type, local_id)
		if key in self._mc.absent:
			return None
		row = self._mc.masters.get(key)
		if row is None:
			row = self._one_mapping("realm=%s and local_type=%s and reference_name=%s", key)
			if key not in self._mc.written:
				if row is not None and local_type in _CACHED_TYPES:
					self._hook_transaction()
					self._mc.masters[key] = row
				elif row is None:
					# a document not in QBO yet is asked about several times per push (its create, the ledger's
					# base, the write's "old" mapping): remembered as absent until the store writes it
					self._hook_transaction()
					self._mc.absent.add(key)
		return row_to_mapping(row, realm_id) if row else None

	@property
	def _mc(self) -> "_MappingCache":
		return _MappingCache.of_connection()

	def _hook_transaction(self) -> None:
		self._mc.hook()

	def _forget_mapping(self, realm: str, local_type: str, local_id: str) -> None:
		key = (realm, local_type, local_id)
		self._mc.masters.pop(key, None)
		self._mc.absent.discard(key)
		for qbo_key in self._mc.qbo_keys.pop(key, ()):
			self._mc.by_qbo.pop(qbo_key, None)
		self._hook_transaction()
		self._mc.written.add(key)

	def get_mapping_by_qbo(self, realm_id: str, qbo_entity: str, qbo_id: str) -> Mapping | None:
		from nexora_qbo.nexora_qbo.doctype.qbo_entity_map.qbo_entity_map import row_to_mapping

		realm = self._realm_name(realm_id)
		if not realm:
			return None
		key = (realm, qbo_entity, str(qbo_id))
		row = self._mc.by_qbo.get(key)
		if row is None:
			row = self._one_mapping("realm=%s and qbo_entity=%s and qbo_id=%s", key)
			# a pushed invoice's references (its customer, its items) are resolved back on every push: kept
			# under the same rules as get_mapping's rows (never a row written in this uncommitted transaction)
			if (row is not None and row.local_type in _CACHED_TYPES
					and (realm, row.local_type, row.reference_name) not in self._mc.written):
				self._hook_transaction()
				self._mc.by_qbo[key] = row
				self._mc.qbo_keys.setdefault((realm, row.local_type, row.reference_name), set()).add(key)
		return row_to_mapping(row, realm_id) if row else None

	def save_mapping(self, mapping: Mapping) -> None:
		from nexora_qbo.nexora_qbo.doctype.qbo_entity_map.qbo_entity_map import mapping_to_fields

		realm = self._require_realm(mapping.realm_id)
		mapping.qbo_id = str(mapping.qbo_id)
		self._forget_mapping(realm, mapping.local_type, mapping.local_id)
		# one indexed read finds both the row of this document and any row holding this QBO record
		rows = frappe.db.sql(
			f"select name, local_type, reference_name, qbo_entity, qbo_id from `tab{K.ENTITY_MAP}` where realm=%s "
			"and ((local_type=%s and reference_name=%s) or (qbo_entity=%s and qbo_id=%s))",
			(realm, mapping.local_type, mapping.local_id, mapping.qbo_entity, mapping.qbo_id),
			as_dict=True,
		)
		mine = (mapping.local_type, mapping.local_id)
		for other in rows:
			if (other.qbo_entity, other.qbo_id) == (mapping.qbo_entity, mapping.qbo_id) and (
					other.local_type, other.reference_name) != mine:
				raise ValueError(
					f"{mapping.qbo_entity} {mapping.qbo_id} is already mapped to {other.local_type} {other.reference_name}"
				)
		values = mapping_to_fields(mapping, realm)
		name = next((r.name for r in rows if (r.local_type, r.reference_name) == mine), None)
		if name:
			values.pop("realm")
			frappe.db.set_value(K.ENTITY_MAP, name, values, update_modified=True)
		else:
			doc = frappe.get_doc({"doctype": K.ENTITY_MAP, **values})
			doc.reference_doctype = K.LOCAL_DOCTYPE.get(doc.local_type, doc.reference_doctype)
			try:
				engine_insert(doc)  # the checks above + the unique indexes replace the controller's SELECTs
			except (frappe.UniqueValidationError, frappe.DuplicateEntryError) as exc:
				# the unique indexes caught what the check above could not see (another transaction's row)
				raise ValueError(
					f"{mapping.qbo_entity} {mapping.qbo_id} is already mapped in this realm"
				) from exc
		_stamp_document(
			mapping.local_type, mapping.local_id, _MAPPING_SYNC_STATUS.get(mapping.status), mapping.qbo_id
		)

	def delete_mapping(self, realm_id: str, local_type: str, local_id: str) -> None:
		realm = self._realm_name(realm_id)
		if realm:
			self._forget_mapping(realm, local_type, local_id)
			frappe.db.delete(
				K.ENTITY_MAP, {"realm": realm, "local_type": local_type, "reference_name": local_id}
			)

	def list_mappings(self, realm_id: str, local_type: str | None = None) -> list[Mapping]:
		from nexora_qbo.nexora_qbo.doctype.qbo_entity_map.qbo_entity_map import row_to_mapping

		realm = self._realm_name(realm_id)
		if not realm:
			return []
		filters: dict[str, Any] = {"realm": realm}
		if local_type is not None:
			filters["local_type"] = local_type
		return [row_to_mapping(row, realm_id) for row in self._mapping_rows(filters)]

	def mapped_qbo_ids(self, realm_id: str, local_type: str) -> dict[str, str]:
		realm = self._realm_name(realm_id)
		if not realm:
			return {}
		rows = frappe.db.sql(
			f"select qbo_id, status from `tab{K.ENTITY_MAP}` where realm=%s and local_type=%s", (realm, local_type)
		)
		return {str(qbo_id): status or "active" for qbo_id, status in rows}

	# ------------------------------------------------------------------------------------- cursor
	def get_cursor(self, realm_id: str) -> Cursor | None:
		from nexora_qbo.nexora_qbo.doctype.qbo_cursor.qbo_cursor import row_to_cursor

		realm = self._realm_name(realm_id)
		if not realm:
			return None
		row = frappe.db.get_value(
			K.CURSOR, {"realm": realm}, ["changed_since", "seen", "last_sweep_at", "updated_at"], as_dict=True
		)
		return row_to_cursor(row, realm_id) if row else None

	def save_cursor(self, cursor: Cursor) -> None:
		from nexora_qbo.nexora_qbo.doctype.qbo_cursor.qbo_cursor import cursor_to_fields

		realm = self._require_realm(cursor.realm_id)
		values = cursor_to_fields(cursor, realm)
		name = frappe.db.get_value(K.CURSOR, {"realm": realm})
		if name:
			values.pop("realm")
			frappe.db.set_value(K.CURSOR, name, values, update_modified=True)
		else:
			with engine_writes():
				frappe.get_doc({"doctype": K.CURSOR, **values}).insert(
					ignore_permissions=True, ignore_links=True
				)

	# ------------------------------------------------------------------------- QBO reference lists
	def save_references(self, realm_id: str, ref_type: str, rows: list[dict]) -> None:
		realm = self._require_realm(realm_id)
		existing = {
			r.qbo_id: r.name
			for r in frappe.get_all(K.QBO_REFERENCE, filters={"realm": realm, "ref_type": ref_type}, fields=["name", "qbo_id"])
		}
		seen = set()
		with engine_writes():
			for row in rows:
				qid = str(row["qbo_id"])
				seen.add(qid)
				values = {"qbo_name": row.get("name"), "full_name": row.get("full_name") or row.get("name"),
					"active": 1 if row.get("active", True) else 0, "detail": row.get("detail")}
				if qid in existing:
					frappe.db.set_value(K.QBO_REFERENCE, existing[qid], values, update_modified=True)
				else:
					frappe.get_doc({"doctype": K.QBO_REFERENCE, "realm": realm, "ref_type": ref_type, "qbo_id": qid,
						**values}).insert(ignore_permissions=True, ignore_links=True)
			for qid, name in existing.items():
				if qid not in seen:
					frappe.db.set_value(K.QBO_REFERENCE, name, "active", 0, update_modified=True)

	def list_references(self, realm_id: str, ref_type: str | None = None) -> list[dict]:
		realm = self._realm_name(realm_id)
		if not realm:
			return []
		filters = {"realm": realm, **({"ref_type": ref_type} if ref_type else {})}
		rows = frappe.get_all(K.QBO_REFERENCE, filters=filters,
			fields=["ref_type", "qbo_id", "qbo_name", "full_name", "active", "detail"], order_by="ref_type asc, qbo_name asc, qbo_id asc")
		return [{"ref_type": r.ref_type, "qbo_id": r.qbo_id, "name": r.qbo_name, "full_name": r.full_name,
			"active": bool(r.active), "detail": r.detail} for r in rows]

	# ------------------------------------------------------------------------------------- outbox
	def _outbox(self):
		from nexora_qbo.nexora_qbo.doctype.qbo_outbox.qbo_outbox import OutboxRows

		rows = OutboxRows()
		rows._realm_names.update({k: v for k, v in self._names.items() if v})
		rows._realm_ids.update({k: v for k, v in self._ids.items() if v})  # (get_outbox: no query per entry)
		return rows

	def add_outbox(self, entry: OutboxEntry) -> OutboxEntry:
		self._require_realm(entry.realm_id)
		return self._outbox().add_outbox(entry)

	def save_outbox(self, entry: OutboxEntry) -> None:
		if entry.id is None:
			raise ValueError("outbox entry has no id; use add_outbox")
		self._outbox().save_outbox(entry)
		if entry.state in _OUTBOX_SYNC_STATUS:
			_stamp_document(entry.local_type, entry.local_id, _OUTBOX_SYNC_STATUS[entry.state])

	def get_outbox(self, entry_id: str) -> OutboxEntry | None:
		try:
			int(entry_id)
		except (TypeError, ValueError):
			return None
		return self._outbox().get_outbox(entry_id)

	def list_outbox(
		self,
		realm_id: str,
		states: Iterable[str] | None = None,
		local_type: str | None = None,
		local_id: str | None = None,
	) -> list[OutboxEntry]:
		if not self._realm_name(realm_id):
			return []
		return self._outbox().list_outbox(realm_id, states=states, local_type=local_type, local_id=local_id)

	def max_generation(self, realm_id: str, local_type: str, local_id: str) -> int:
		if not self._realm_name(realm_id):
			return 0
		return self._outbox().max_generation(realm_id, local_type, local_id)

	# ------------------------------------------------------------------------------------- audit
	def append_audit(self, row: AuditRow) -> AuditRow:
		"""Persist now, on the autonomous connection (survives any rollback of the caller; see QBO Sync Log)."""
		from nexora_qbo.nexora_qbo.doctype.qbo_sync_log.qbo_sync_log import append_audit_row

		realm = self._realm_name(row.realm_id) if row.realm_id else None
		row.id = append_audit_row(row, realm=realm, always_autonomous=True)
		return row

	def list_audit(
		self, realm_id: str, since: datetime | None = None, until: datetime | None = None
	) -> list[AuditRow]:
		from nexora_qbo.erpnext.token_store import AutonomousDB

		realm = self._realm_name(realm_id)
		if not realm:
			return []
		columns = [
			"name",
			"creation",
			"direction",
			"local_type",
			"reference_name",
			"timestamp",
			*_audit_columns().values(),
		]
		# rows of this QBO company only: a realm document reset and bound to another company keeps the old
		# company's rows, which are not this company's history (rows from before the column: NULL)
		sql = "select {} from `tab{}` where realm=%s and (qbo_realm_id=%s or qbo_realm_id is null)".format(
			", ".join(f"`{c}`" for c in columns), K.SYNC_LOG
		)
		params: list[Any] = [realm, realm_id]
		if since is not None:
			sql += " and `timestamp` >= %s"
			params.append(_naive(since))
		if until is not None:
			sql += " and `timestamp` < %s"
			params.append(_naive(until))
		found: dict[str, dict] = {}
		for row in frappe.db.sql(sql, params, as_dict=True):  # rows only this transaction can see
			found[row["name"]] = dict(row)
		if AutonomousDB.available():
			with AutonomousDB() as adb:
				adb.conn.rollback()  # a fresh snapshot: every committed row
				with adb.conn.cursor() as cur:
					cur.execute(sql, params)
					names = [d[0] for d in cur.description]
					for values in cur.fetchall():
						row = dict(zip(names, values))
						found.setdefault(row["name"], row)
		rows = sorted(
			found.values(), key=lambda r: (r["timestamp"] or r["creation"], r["creation"], r["name"])
		)
		return [self._audit_row(r, realm_id) for r in rows]

	def audit_summary(
		self, realm_id: str, since: datetime | None = None, until: datetime | None = None
	) -> list[tuple[str, str | None, int]]:
		"""Counted in SQL, grouped by the outcome and error_code columns (no payload is read or decoded). Reads
		every committed row through the autonomous connection, where the engine's audit rows go (committed at
		once); without it (not MariaDB) the current transaction's view, where they go instead. (list_audit
		also merges rows of a failed autonomous insert that only this transaction sees; a logged, rare case
		the count leaves out until that transaction commits.)"""
		from nexora_qbo.erpnext.token_store import AutonomousDB

		realm = self._realm_name(realm_id)
		if not realm:
			return []
		where = "realm=%s and (qbo_realm_id=%s or qbo_realm_id is null)"
		params: list[Any] = [realm, realm_id]
		if since is not None:
			where += " and `timestamp` >= %s"
			params.append(_naive(since))
		if until is not None:
			where += " and `timestamp` < %s"
			params.append(_naive(until))
		grouped = "select outcome, error_code, count(*) from `tab{}` where {} group by outcome, error_code".format(
			K.SYNC_LOG, where
		)
		if AutonomousDB.available():
			with AutonomousDB() as adb:
				adb.conn.rollback()  # a fresh snapshot: every committed row
				with adb.conn.cursor() as cur:
					cur.execute(grouped, params)
					found = cur.fetchall()
		else:
			found = frappe.db.sql(grouped, params)
		counts: dict[tuple, int] = {}
		for outcome, code, n in found:
			key = (outcome, code if code not in (None, "") else None)
			counts[key] = counts.get(key, 0) + int(n)
		return sorted(
			((o or "ok", str(c) if c not in (None, "") else None, n) for (o, c), n in counts.items()),
			key=lambda t: (t[0], t[1] or ""),
		)

	@staticmethod
	def _audit_row(r: dict, realm_id: str) -> AuditRow:
		kwargs = {attr: r.get(column) for attr, column in _audit_columns().items()}
		for key in ("qbo_entity", "operation", "local_type", "qbo_id", "conflict_id", "error_code"):
			kwargs[key] = str(kwargs[key]) if kwargs[key] not in (None, "") else None
		for key in ("http_status", "attempt"):
			kwargs[key] = int(kwargs[key]) if kwargs[key] is not None else None
		if kwargs["attempt"] is None:
			kwargs["attempt"] = 1
		dur = kwargs["duration_ms"]
		kwargs["duration_ms"] = float(dur) if isinstance(dur, (Decimal, int, float)) else None
		kwargs["outcome"] = kwargs["outcome"] or "ok"
		return AuditRow(
			realm_id=realm_id,
			direction=K.DIRECTION_LABELS.get(r.get("direction"), r.get("direction")),
			local_id=r.get("reference_name") or None,
			timestamp=_aware(r.get("timestamp")),
			id=r["name"],
			**kwargs,
		)

	# ------------------------------------------------------------------------------------- events
	def add_event(self, event: SyncEvent) -> SyncEvent:
		from nexora_qbo.nexora_qbo.doctype.qbo_sync_event.qbo_sync_event import event_to_fields

		realm = self._require_realm(event.realm_id)
		doc = frappe.get_doc({"doctype": K.SYNC_EVENT, **event_to_fields(event, realm)})
		engine_insert(doc)
		event.id = str(doc.name)
		return event

	def list_events(
		self, realm_id: str, since: datetime | None = None, until: datetime | None = None
	) -> list[SyncEvent]:
		from nexora_qbo.nexora_qbo.doctype.qbo_sync_event.qbo_sync_event import row_to_event

		realm = self._realm_name(realm_id)
		if not realm:
			return []
		filters: list = [["realm", "=", realm]]
		if since is not None:
			filters.append(["timestamp", ">=", _naive(since)])
		if until is not None:
			filters.append(["timestamp", "<", _naive(until)])
		rows = frappe.get_all(
			K.SYNC_EVENT,
			filters=filters,
			or_filters=_this_company(realm_id),
			fields=_EVENT_FIELDS,
			order_by="name asc",
		)
		return [row_to_event(row, realm_id) for row in rows]

	# ------------------------------------------------------------------------------------- conflicts
	def add_conflict(self, conflict: Conflict) -> Conflict:
		from nexora_qbo.nexora_qbo.doctype.qbo_conflict.qbo_conflict import conflict_to_fields

		realm = self._require_realm(conflict.realm_id)
		doc = frappe.get_doc({"doctype": K.CONFLICT, **conflict_to_fields(conflict, realm)})
		with engine_writes():
			doc.insert(ignore_permissions=True, ignore_links=True)
		conflict.id = str(doc.name)
		_restamp_after_review(conflict.local_type, conflict.local_id)
		if conflict.status == "open":
			_notify_reviewers(conflict.id)
		return conflict

	def save_conflict(self, conflict: Conflict) -> None:
		from nexora_qbo.nexora_qbo.doctype.qbo_conflict.qbo_conflict import conflict_to_fields

		if conflict.id is None:
			raise ValueError("conflict has no id; use add_conflict")
		realm = self._require_realm(conflict.realm_id)
		values = conflict_to_fields(conflict, realm)
		values.pop("realm")
		frappe.db.set_value(K.CONFLICT, int(conflict.id), values, update_modified=True)
		_restamp_after_review(conflict.local_type, conflict.local_id)

	def get_conflict(self, conflict_id: str) -> Conflict | None:
		from nexora_qbo.nexora_qbo.doctype.qbo_conflict.qbo_conflict import row_to_conflict

		try:
			key = int(conflict_id)
		except (TypeError, ValueError):
			return None
		rows = frappe.get_all(K.CONFLICT, filters={"name": key}, fields=_CONFLICT_FIELDS, limit=1)
		if not rows:
			return None
		return row_to_conflict(rows[0], self._realm_id(rows[0].realm))

	def list_conflicts(
		self,
		realm_id: str,
		status: str | None = None,
		local_type: str | None = None,
		local_id: str | None = None,
	) -> list[Conflict]:
		from nexora_qbo.nexora_qbo.doctype.qbo_conflict.qbo_conflict import row_to_conflict

		realm = self._realm_name(realm_id)
		if not realm:
			return []
		filters: dict[str, Any] = {"realm": realm}
		if status is not None:
			label = {v: k for k, v in K.CONFLICT_STATUS_LABELS.items()}
			filters["status"] = label.get(status, status)
		if local_type is not None:
			filters["local_type"] = local_type
		if local_id is not None:
			filters["reference_name"] = local_id
		rows = frappe.get_all(K.CONFLICT, filters=filters, fields=_CONFLICT_FIELDS, order_by="name asc")
		return [row_to_conflict(row, realm_id) for row in rows]

	# ------------------------------------------------------------------------------------- AR tie-outs
	def save_tie_out(self, realm_id: str, as_of, summary: dict) -> None:
		"""One QBO Tie Out row per realm and day (key realmId:as_of): a re-run of the day replaces it."""
		from nexora_qbo.nexora_qbo.doctype.qbo_tie_out.qbo_tie_out import summary_to_fields

		realm = self._require_realm(realm_id)
		key = f"{realm_id}:{as_of.isoformat()}"
		values = summary_to_fields(summary, realm)
		if frappe.db.exists(K.TIE_OUT, key):
			frappe.db.set_value(K.TIE_OUT, key, values, update_modified=True)
			return
		doc = frappe.get_doc({"doctype": K.TIE_OUT, "tie_out_key": key, **values})
		doc.insert(ignore_permissions=True, ignore_links=True)

	def list_tie_outs(self, realm_id: str, since=None, until=None) -> list[dict]:
		from nexora_qbo.sync import records as R

		realm = self._realm_name(realm_id)
		if not realm:
			return []
		filters: list = [["realm", "=", realm]]
		if since is not None:
			filters.append(["as_of", ">=", since])
		if until is not None:
			filters.append(["as_of", "<=", until])
		rows = frappe.get_all(K.TIE_OUT, filters=filters, fields=["summary"], order_by="as_of asc")
		return [R.loads(r.summary) for r in rows]


__all__ = ["FrappeStore"]
