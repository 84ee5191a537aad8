"""The write/read operations on one realm, shared by the REST handlers, batch items and the seeder.

Rules from qbo-api.md §1: every update/delete/void needs Id and the *current* SyncToken (else 5010); SyncToken
increments on each change; a sparse update changes only the fields sent (a sent Line array replaces all
lines), a full update clears omitted writable fields; name lists are deactivated, never deleted.
Callers hold `realm.lock`.
"""

from __future__ import annotations

import copy
from datetime import datetime

from . import constants as C
from . import faults as F
from .entities import SPECS
from .entities.base import SYSTEM_FIELDS, resolve_refs
from .model import Realm, Record
from .util import fmt_meta_time


class WriteContext:
	"""Collects side effects of one operation: records bumped and webhook events."""

	def __init__(self, realm: Realm, now: datetime):
		self.realm = realm
		self.now = now
		self.events: list[tuple[str, str, str, datetime]] = []

	def bump(self, rec: Record) -> None:
		"""A server-made change (e.g. by a payment) still bumps SyncToken and LastUpdatedTime (§1)."""
		rec.data["SyncToken"] = str(int(rec.data.get("SyncToken", "0")) + 1)
		rec.data.setdefault("MetaData", {})["LastUpdatedTime"] = fmt_meta_time(self.now)
		rec.updated = self.now
		rec.seq = self.realm.next_seq()

	def event(self, rec: Record, operation: str) -> None:
		self.events.append((rec.entity, rec.id, operation, self.now))


def _clean(body: dict) -> dict:
	return {k: copy.deepcopy(v) for k, v in body.items() if k not in SYSTEM_FIELDS}


def _require_body(body) -> dict:
	if not isinstance(body, dict):
		raise F.business("The request body must be a JSON object.")
	return body


def render(realm: Realm, rec: Record) -> dict:
	return copy.deepcopy(SPECS[rec.entity].render(realm, rec))


def valid_id(entity: str, record_id: str) -> str:
	"""2030 'Invalid ID' for non-numeric ids (fx:minimul-qbo_api/error/500.yml); TaxCode has TAX/NON."""
	text = str(record_id)
	if entity == "TaxCode" and text in ("TAX", "NON"):
		return text
	if not text.isdigit():
		raise F.invalid_id(text)
	return text


def read(realm: Realm, entity: str, record_id: str) -> dict:
	rec = realm.get(entity, valid_id(entity, record_id))
	if rec is None:
		raise F.not_found()
	return render(realm, rec)


def insert(
	realm: Realm,
	entity: str,
	data: dict,
	now: datetime,
	record_id: str | None = None,
	extra: dict | None = None,
) -> Record:
	"""Store a fully prepared object (used by create and by the seeder for read-only lists)."""
	rid = record_id or realm.next_id(entity)
	t = fmt_meta_time(now)
	final = dict(data)
	final.update(
		{
			"domain": "QBO",
			"sparse": False,
			"Id": rid,
			"SyncToken": "0",
			"MetaData": {"CreateTime": t, "LastUpdatedTime": t},
		}
	)
	rec = Record(entity, final, realm.next_seq(), now, extra=dict(extra or {}))
	realm.table(entity)[rid] = rec
	return rec


def create(realm: Realm, entity: str, body, ctx: WriteContext) -> dict:
	spec = SPECS[entity]
	if spec.read_only:
		raise F.unsupported_operation(f"Operation Create is not supported for {entity}.")
	body = _require_body(body)
	data = _clean(body)
	resolve_refs(realm, data)
	extras = spec.prepare(realm, data, body, None, ctx.now) or {}
	rec = insert(realm, entity, data, ctx.now, extra=extras)
	spec.after_write(realm, rec, None, ctx)
	ctx.event(rec, "Create")
	return render(realm, rec)


def _fetch_for_write(realm: Realm, entity: str, body: dict) -> Record:
	if not body.get("Id"):
		raise F.required("Id")
	rec = realm.get(entity, valid_id(entity, body["Id"]))
	if rec is None:
		raise F.not_found()
	if body.get("SyncToken") is None:
		raise F.required("SyncToken")
	if str(body["SyncToken"]) != rec.data["SyncToken"]:
		raise F.stale()
	return rec


def update(realm: Realm, entity: str, body, ctx: WriteContext) -> dict:
	spec = SPECS[entity]
	if spec.read_only:
		raise F.unsupported_operation(f"Operation Update is not supported for {entity}.")
	body = _require_body(body)
	rec = _fetch_for_write(realm, entity, body)
	sparse = body.get("sparse") is True
	incoming = _clean(body)
	resolve_refs(realm, incoming)
	if sparse:
		data = _clean(rec.data)
		data.update(incoming)
	else:
		data = incoming
		for key in spec.keep_on_full_update:
			if key in rec.data and key not in data:
				data[key] = copy.deepcopy(rec.data[key])
	old_data = rec.snapshot()
	was_active = rec.data.get("Active", True)
	extras = spec.prepare(realm, data, body, rec, ctx.now) or {}
	meta = dict(rec.data["MetaData"])
	meta["LastUpdatedTime"] = fmt_meta_time(ctx.now)
	final = dict(data)
	final.update(
		{
			"domain": "QBO",
			"sparse": False,
			"Id": rec.id,
			"SyncToken": str(int(rec.data["SyncToken"]) + 1),
			"MetaData": meta,
		}
	)
	rec.data = final
	rec.extra.update(extras)
	rec.updated = ctx.now
	rec.seq = realm.next_seq()
	spec.after_write(realm, rec, old_data, ctx)
	# Name lists cannot be deleted, so QBO's webhook "Delete" for them means "made inactive" (§8 entity list).
	deactivated = spec.name_list and was_active is not False and final.get("Active") is False
	ctx.event(rec, "Delete" if deactivated else "Update")
	return render(realm, rec)


def delete(realm: Realm, entity: str, body, ctx: WriteContext) -> dict:
	spec = SPECS[entity]
	if spec.name_list:
		raise F.unsupported_operation(
			f"Operation Delete is not supported for {entity}; make it inactive (Active=false) instead."
		)
	if not spec.deletable:
		raise F.unsupported_operation(f"Operation Delete is not supported for {entity}.")
	body = _require_body(body)
	rec = _fetch_for_write(realm, entity, body)
	spec.before_delete(realm, rec)
	rec.deleted = True
	rec.updated = ctx.now
	rec.seq = realm.next_seq()
	rec.extra["deleted_at"] = ctx.now
	spec.after_delete(realm, rec, ctx)
	ctx.event(rec, "Delete")
	return deleted_stub(rec, with_meta=False)


def deleted_stub(rec: Record, with_meta: bool) -> dict:
	"""fx:minimul-qbo_api/delete/invoice.yml; CDC adds MetaData.LastUpdatedTime (§2)."""
	stub = {"domain": "QBO", "status": "Deleted", "Id": rec.id}
	if with_meta:
		stub["MetaData"] = {"LastUpdatedTime": fmt_meta_time(rec.updated)}
	return stub


def void(realm: Realm, entity: str, body, ctx: WriteContext, style: str) -> dict:
	"""style "void" = ?operation=void (Invoice); "update" = ?operation=update&include=void (Payment) (§1)."""
	spec = SPECS[entity]
	if spec.void_style is None:
		raise F.unsupported_operation(f"Operation Void is not supported for {entity}.")
	if spec.void_style != style:
		hint = "operation=void" if spec.void_style == "void" else "operation=update&include=void"
		raise F.unsupported_operation(f"Operation Void for {entity} must use {hint}.")
	body = _require_body(body)
	rec = _fetch_for_write(realm, entity, body)
	if rec.extra.get("voided"):
		raise F.business(f"This {entity} is already voided.")
	spec.void(realm, rec, ctx)
	ctx.bump(rec)
	ctx.event(rec, "Void")
	return render(realm, rec)


def deactivate_name(realm: Realm, entity: str, record_id: str, ctx: WriteContext) -> dict:
	"""Convenience for the bookkeeper: sparse Active=false with the current SyncToken."""
	rec = realm.get(entity, record_id)
	if rec is None:
		raise F.not_found()
	return update(
		realm,
		entity,
		{"Id": rec.id, "SyncToken": rec.data["SyncToken"], "sparse": True, "Active": False},
		ctx,
	)


__all__ = [
	"WriteContext",
	"create",
	"read",
	"update",
	"delete",
	"void",
	"render",
	"deleted_stub",
	"insert",
	"C",
]
