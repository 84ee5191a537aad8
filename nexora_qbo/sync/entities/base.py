"""Shared machinery of the entity specs: references, the sparse-update allow-list, query quoting."""
from __future__ import annotations

from typing import Any, Protocol

from nexora_qbo.sync import records as R
from nexora_qbo.sync.ports import RealmSettings


class Resolver(Protocol):
	"""What a spec needs from the engine to translate references (implemented by the engine per realm)."""

	settings: RealmSettings

	def qbo_ref(self, local_type: str, local_id: str) -> str:
		"""QBO Id of a mapped local document; raises errors.DependencyPending when it is not in QBO yet."""
		...

	def local_ref(self, qbo_entity: str, qbo_id: str) -> str:
		"""Local id of a QBO record, importing it into the ledger first when it is not mapped yet."""
		...


def ref(value: str | None) -> dict | None:
	return None if value in (None, "") else {"value": str(value)}


def ref_value(obj: dict, key: str) -> str | None:
	v = obj.get(key)
	if isinstance(v, dict):
		v = v.get("value")
	return None if v in (None, "") else str(v)


def list_to_qbo(mapping: dict[str, str], local: str | None, default: str | None = None) -> str | None:
	"""A local name of a non-synced list (account, term, class…) → QBO Id (via RealmSettings maps).
	Unmapped names written as "qbo:<id>" (see list_from_qbo) go back to their Id."""
	if local is None:
		return default
	if local.startswith("qbo:"):
		return local[4:]
	return mapping.get(local, default)


def list_from_qbo(mapping: dict[str, str], qbo_id: str | None, default: str | None = None) -> str | None:
	"""QBO Id → local name. The realm default maps to None (so "not set locally" equals "QBO default"), an
	unmapped Id is kept as "qbo:<id>" so that nothing is silently lost."""
	if qbo_id is None or qbo_id == default:
		return None
	for local, qid in mapping.items():
		if str(qid) == str(qbo_id):
			return local
	return f"qbo:{qbo_id}"


def mapped_from_qbo(mapping: dict[str, str], qbo_id: str | None, default: str | None = None) -> str | None:
	"""Like list_from_qbo, but an Id the realm maps explicitly wins over "it is the default": a payment QBO
	deposited to Undeposited Funds (its default) lands in the ERPNext account mapped to Undeposited Funds,
	not in one fixed account (issue 13, where the money sits)."""
	if qbo_id is not None:
		for local, qid in mapping.items():
			if str(qid) == str(qbo_id):
				return local
	return list_from_qbo(mapping, qbo_id, default)


def quote(value: str) -> str:
	"""QBO query string literal: single quotes, backslash-escaped."""
	return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def drop_none(d: dict) -> dict:
	return {k: v for k, v in d.items() if v is not None}


class EntitySpec:
	"""One business entity. Subclasses fill the class attributes and the two translations."""

	local_type: str = ""
	qbo_entity: str = ""
	rank: int = 0
	kind: str = "master"  # "master" | "transaction"
	# canonical field -> QBO top-level keys it is written to (the allow-list of a sparse update)
	field_keys: dict[str, tuple[str, ...]] = {}
	cancel_mode: str = "void"  # how a local cancel reaches QBO: "void" | "delete" | "deactivate"

	def to_qbo(self, record: dict, r: Resolver) -> dict:
		raise NotImplementedError

	def from_qbo(self, obj: dict, r: Resolver) -> dict:
		raise NotImplementedError

	def sparse_update(self, record: dict, fields: list[str], r: Resolver, qbo_id: str, sync_token: str) -> dict:
		"""A sparse update body carrying only the allow-listed QBO keys of the changed canonical fields.
		Lines are always sent complete (a sparse Line replaces all lines)."""
		full = self.to_qbo(record, r)
		body: dict[str, Any] = {"Id": qbo_id, "SyncToken": sync_token, "sparse": True}
		for f in fields:
			for key in self.field_keys.get(f, ()):
				if key in full:
					body[key] = full[key]
		return body

	def local_view(self, record: dict, r: Resolver) -> dict:
		"""The local canonical record with QBO's defaults made explicit-equal (so that a value QBO fills in by
		default, like the home currency, is not mistaken for a change on either side)."""
		return record

	def lookup_queries(self, record: dict) -> list[str]:
		"""Queries that find an existing QBO record for this canonical record by its stable key."""
		return []

	def is_voided(self, obj: dict) -> bool:
		return False

	def is_deleted_stub(self, obj: dict) -> bool:
		return str(obj.get("status", "")).lower() == "deleted"

	def content(self, record: dict | None) -> dict | None:
		return R.content(self.local_type, record)
