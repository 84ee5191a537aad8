"""Creates and updates in QBO batch requests (up to 30 items), for the Pusher.

Why: QBO allows 500 requests/min per realm but also 40 batch requests/min of up to 30 items, so one item per
request caps a realm near 500 documents/min while batches reach ~1,200 (qbo-api.md §4, §5). The rules that
keep a batch as safe as single requests:

- Each item is prepared by the Pusher's own steps (`ready_create` / `ready_update`: dependencies first,
  amendments, drafts, open review items, the sparse body), and its outcome is settled by the same steps and
  the same fault mapping (`Pusher._guarded`): a per-item 6240/610/validation fault parks like a single one, a
  per-item throttle or 5xx leaves that entry failed with backoff, and a per-item 5010 on an update continues
  exactly where a single update's 5010 does (`Pusher.send_update`: re-read, merge or hold for review, retry
  alone with the fresh SyncToken), so a bookkeeper's edit is never overwritten.
- What an item depends on is never in its batch: only creates and updates of ONE local type share a batch
  (creates of invoices and credit notes; updates of customers, items, invoices and credit notes), their
  customers and items are pushed (and mapped) while the item is prepared, a credit note against an invoice of
  the same drain waits until the invoices' batch has been settled, and an entry whose document is already in
  the pending batch flushes it first. Payments are never batched: they keep their order after the invoices
  and credit notes they apply to (and after a failed payment cancel of the same customer), and a credit
  note's application (a zero Payment) follows its own create.
- Creates and updates go in separate batches (one pending list each), so the recovery of a lost answer is
  ONE query per batch.
- The batch requestid (≤ 36 chars, bIds ≤ 10) is derived from its members (type, id, generation, and for an
  update the body it sends): the client reuses it on every retry of that HTTP call, and a batch re-formed from
  the same members after a crash carries the same id again, so QBO replays instead of creating twice. An
  update re-sent with another body (a fresh SyncToken after a merge) is a different request, as for a single
  update.
- Every entry is marked in_flight (attempts+1) before the batch is sent. An entry found with attempts > 0
  may have been written by a batch whose answer was lost: before it is sent again, ONE query per batch finds
  what QBO already has: creates by `DocNumber IN (…)` (those found are linked), updates by `Id IN (…)` (a
  record whose SyncToken moved on is merged as on a 5010: our own lost write is adopted and nothing is sent;
  a bookkeeper's edit is merged or held for review); the rest are sent.
"""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from nexora_qbo.qbo import BatchItem
from nexora_qbo.sync import audit
from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.entities.base import quote
from nexora_qbo.sync.outbox import request_id
from nexora_qbo.sync.ports import OutboxEntry

if TYPE_CHECKING:
	from nexora_qbo.sync.push import Pusher
	from nexora_qbo.sync.services import RealmContext

BATCHABLE = (C.INVOICE, C.CREDIT_MEMO)  # creates
BATCHABLE_UPDATES = (C.CUSTOMER, C.ITEM, C.INVOICE, C.CREDIT_MEMO)


def _member_key(e: OutboxEntry, body: dict | None = None) -> str:
	key = f"{e.local_type}:{e.local_id}:{e.generation}"
	if body is not None:  # an update: another body (a fresh SyncToken) is another request
		key += f":u:{R.hash_json(body)[:16]}"
	return key


def batch_request_id(realm_id: str, entries: list[OutboxEntry], bodies: list[dict | None] | None = None) -> str:
	"""Deterministic batch requestid (≤ 36 chars): the same members give the same id, across crashes.
	`bodies` (updates): each member's body is part of its key."""
	bodies = bodies if bodies is not None else [None] * len(entries)
	key = "|".join(_member_key(e, b) for e, b in zip(entries, bodies))
	digest = hashlib.sha256(f"{realm_id}|{key}".encode()).hexdigest()[:30]
	return f"{C.REQUEST_ID_PREFIX}b{digest}"[: C.BATCH_REQUEST_ID_MAX]


class _Item:
	__slots__ = ("entry", "spec", "local", "payload", "check", "mapping")

	def __init__(self, entry, spec, local, payload, check, mapping=None):
		self.entry, self.spec, self.local, self.payload, self.check = entry, spec, local, payload, check
		self.mapping = mapping  # updates: the mapping the body was built from

	@property
	def update(self) -> bool:
		return self.mapping is not None


class Batcher:
	"""Collects prepared creates and updates of one local type and sends them as batch requests (module doc)."""

	def __init__(self, pusher: Pusher):
		self.pusher = pusher
		self.creates: list[_Item] = []
		self.updates: list[_Item] = []

	@staticmethod
	def batchable(e: OutboxEntry) -> bool:
		return ((e.action == "create" and e.local_type in BATCHABLE)
			or (e.action == "update" and e.local_type in BATCHABLE_UPDATES))

	@property
	def pending(self) -> list[_Item]:
		return self.creates + self.updates

	def add(self, ctx: RealmContext, e: OutboxEntry, counts: dict[str, int]) -> None:
		"""Prepare one create or update; it joins its pending batch, or is settled right here (counted)."""
		pending = self.pending
		if pending and (pending[0].entry.local_type != e.local_type or any(i.entry.local_id == e.local_id for i in pending)):
			self.flush(ctx, counts)
		check = e.attempts > 0 or (e.action == "create" and self.pusher.look_up_existing)
		pusher = self.pusher
		prepared: list = []
		if e.action == "create":
			step = lambda: prepared.append(pusher._ready_create(ctx, e, looked_up=True))  # noqa: E731
		else:
			step = lambda: prepared.append(pusher.ready_update(ctx, e))  # noqa: E731
		state = pusher._guarded(ctx, e, step)
		if prepared and prepared[0] is not None:
			if e.action == "create":
				spec, local, payload = prepared[0]
				self.creates.append(_Item(e, spec, local, payload, check))
				full = len(self.creates) >= C.BATCH_SIZE
			else:
				spec, m, local, body = prepared[0]
				self.updates.append(_Item(e, spec, local, body, check, mapping=m))
				full = len(self.updates) >= C.BATCH_SIZE
			if full:
				self.flush(ctx, counts)
			return
		pusher.checkpoint()
		counts[state] = counts.get(state, 0) + 1

	def flush(self, ctx: RealmContext, counts: dict[str, int]) -> None:
		creates, updates, self.creates, self.updates = self.creates, self.updates, [], []
		for items in (creates, updates):
			if items:
				self._send(ctx, items, counts)

	def _count(self, counts: dict[str, int], state: str) -> None:
		self.pusher.checkpoint()
		counts[state] = counts.get(state, 0) + 1

	def _send(self, ctx: RealmContext, items: list[_Item], counts: dict[str, int]) -> None:
		pusher = self.pusher
		items = self._recover(ctx, items, counts)
		if not items:
			return
		now = pusher.clock.now()
		for it in items:  # in_flight BEFORE the call (crash safety), one durable checkpoint for the batch
			it.entry.state, it.entry.updated_at = C.IN_FLIGHT, now
			it.entry.attempts += 1
			pusher.store.save_outbox(it.entry)
		pusher.checkpoint()
		if len(items) == 1:  # a batch of one is a plain request (its own requestid, its audit row names it)
			it = items[0]
			self._count(counts, pusher._guarded(ctx, it.entry, lambda: self._single(ctx, it)))
			return
		update = items[0].update
		requests = [BatchItem(bid=f"b{n}", operation="update" if update else "create", entity=it.spec.qbo_entity,
			body=self._wire_body(it)) for n, it in enumerate(items)]
		rid = batch_request_id(ctx.realm_id, [it.entry for it in items],
			[it.payload for it in items] if update else None)
		failure: Exception | None = None
		results = None
		with audit.operation(C.OUTBOUND, items[0].entry.local_type, None):
			try:
				results = ctx.client.batch(requests, request_id=rid)
			except Exception as exc:  # noqa: BLE001 - settled per entry below, like a single request's failure
				failure = exc
		for n, it in enumerate(items):
			result = results[n] if results is not None else None
			self._count(counts, pusher._guarded(ctx, it.entry,
				lambda it=it, result=result: self._settle(ctx, it, result, failure)))

	@staticmethod
	def _wire_body(it: _Item) -> dict:
		if not it.update:
			return it.payload
		body = dict(it.payload)
		body["sparse"] = True  # as QBOClient.update sends it: a full update would blank what the body leaves out
		return body

	def _single(self, ctx: RealmContext, it: _Item) -> None:
		pusher, e = self.pusher, it.entry
		if it.update:
			pusher.send_update(ctx, e, it.spec, it.mapping, it.local, it.payload)
			return
		rid = request_id(ctx.realm_id, e.local_type, e.local_id, "create", e.generation)
		pusher._finish_create(ctx, e, it.spec, it.local, it.payload,
			ctx.client.create(it.spec.qbo_entity, it.payload, request_id=rid))

	def _settle(self, ctx: RealmContext, it: _Item, result, failure: Exception | None) -> None:
		if failure is not None:
			raise failure
		if it.update:  # the batch was attempt 0; a 5010 continues as a single update's does
			self.pusher.send_update(ctx, it.entry, it.spec, it.mapping, it.local, it.payload,
				first=lambda: _record_of(result))
			return
		self.pusher._finish_create(ctx, it.entry, it.spec, it.local, it.payload, _record_of(result))

	def _recover(self, ctx: RealmContext, items: list[_Item], counts: dict[str, int]) -> list[_Item]:
		"""One query for the whole batch: what QBO already has of the members that may have been written by a
		batch whose answer was lost (creates: linked; updates: merged as on a 5010), keep the rest."""
		update = items[0].update
		check = [it for it in items if it.check and (update or it.payload.get("DocNumber"))]
		if not check:
			return items
		entity = check[0].spec.qbo_entity
		if update:
			statement = f"select * from {entity} where Id in ({', '.join(quote(it.mapping.qbo_id) for it in check)})"
		else:
			numbers = ", ".join(quote(str(it.payload["DocNumber"])) for it in check)
			statement = f"select * from {entity} where DocNumber in ({numbers})"
		with audit.operation(C.OUTBOUND, check[0].entry.local_type, None):
			try:
				page = ctx.client.query(statement)
			except Exception as exc:  # noqa: BLE001 - nothing is sent while we cannot tell what QBO has
				for it in items:
					self._count(counts, self.pusher._guarded(ctx, it.entry, lambda exc=exc: _raise(exc)))
				return []
		keep: list[_Item] = []
		for it in items:
			if it not in check:
				keep.append(it)
			elif update:
				self._recover_update(ctx, it, page.records, keep, counts)
			else:
				self._recover_create(ctx, it, page.records, keep, counts)
		return keep

	def _recover_create(self, ctx: RealmContext, it: _Item, records: list[dict], keep: list[_Item],
			counts: dict[str, int]) -> None:
		store = self.pusher.store
		hits = [r for r in records if str(r.get("DocNumber")) == str(it.payload["DocNumber"])
			and store.get_mapping_by_qbo(ctx.realm_id, it.spec.qbo_entity, str(r["Id"])) is None
			and str((r.get("CustomerRef") or {}).get("value")) == str((it.payload.get("CustomerRef") or {}).get("value"))]
		if len(hits) != 1:
			keep.append(it)
			return
		self._count(counts, self.pusher._guarded(ctx, it.entry,
			lambda: self.pusher._recovered(ctx, it.entry, it.spec, it.local, hits[0])))

	def _recover_update(self, ctx: RealmContext, it: _Item, records: list[dict], keep: list[_Item],
			counts: dict[str, int]) -> None:
		remote = next((r for r in records if str(r.get("Id")) == str(it.mapping.qbo_id)), None)
		if remote is None or str(remote.get("SyncToken")) == str(it.mapping.sync_token):
			keep.append(it)  # QBO has not moved on (or the query does not show it, e.g. inactive): send as prepared
			return
		merged: list = []

		def merge() -> None:
			merged.append(self.pusher.stale_remote(ctx, it.entry, it.spec, it.mapping, remote))

		state = self.pusher._guarded(ctx, it.entry, merge)
		if merged:  # what is left to send after the merge, with the fresh SyncToken
			body, local, m = merged[0]
			keep.append(_Item(it.entry, it.spec, local, body, it.check, mapping=m))
			return
		self._count(counts, state)


def _record_of(result) -> dict:
	if result.error is not None:
		raise result.error
	return result.record


def _raise(exc: Exception):
	raise exc


__all__ = ["BATCHABLE", "BATCHABLE_UPDATES", "Batcher", "batch_request_id"]
