"""Creates of invoices and credit notes in QBO batch requests (up to 30 items), for the Pusher.

Why: QBO allows 500 requests/min per realm but also 40 batch requests/min of up to 30 items, so one item per
request caps a realm near 500 documents/min while batches reach ~1,200 (qbo-api.md §4, §5). The rules that
keep a batch as safe as single requests:

- Each item is prepared by the Pusher's own create steps (dependencies first, amendments, drafts), and its
  outcome is settled by the same steps and the same fault mapping (`Pusher._guarded`): a per-item 6240/610/
  validation fault parks like a single one, a per-item throttle or 5xx leaves that entry failed with backoff.
- What an item depends on is never in its batch: only creates of ONE local type share a batch, their
  customers and items are pushed (and mapped) while the item is prepared, and a credit note against an
  invoice of the same drain waits until the invoices' batch has been settled.
- The batch requestid (≤ 36 chars, bIds ≤ 10) is derived from its members (type, id, generation): the
  client reuses it on every retry of that HTTP call, and a batch re-formed from the same members after a crash
  carries the same id again, so QBO replays instead of creating twice.
- Every entry is marked in_flight (attempts+1) before the batch is sent. An entry found with attempts > 0
  may have been created by a batch whose answer was lost: before it is sent again, ONE query per batch
  (`DocNumber IN (…)`) finds the ones QBO already has; those are linked, the rest are sent.
"""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from nexora_qbo.qbo import BatchItem
from nexora_qbo.sync import audit
from nexora_qbo.sync import constants as C
from nexora_qbo.sync.entities.base import quote
from nexora_qbo.sync.outbox import request_id
from nexora_qbo.sync.ports import OutboxEntry

if TYPE_CHECKING:
	from nexora_qbo.sync.push import Pusher
	from nexora_qbo.sync.services import RealmContext

BATCHABLE = (C.INVOICE, C.CREDIT_MEMO)


def batch_request_id(realm_id: str, entries: list[OutboxEntry]) -> str:
	"""Deterministic batch requestid (≤ 36 chars): the same members give the same id, across crashes."""
	key = "|".join(f"{e.local_type}:{e.local_id}:{e.generation}" for e in entries)
	digest = hashlib.sha256(f"{realm_id}|{key}".encode()).hexdigest()[:30]
	return f"{C.REQUEST_ID_PREFIX}b{digest}"[: C.BATCH_REQUEST_ID_MAX]


class _Item:
	__slots__ = ("entry", "spec", "local", "payload", "check")

	def __init__(self, entry, spec, local, payload, check):
		self.entry, self.spec, self.local, self.payload, self.check = entry, spec, local, payload, check


class Batcher:
	"""Collects prepared creates of one local type and sends them as one batch request (see module doc)."""

	def __init__(self, pusher: Pusher):
		self.pusher = pusher
		self.pending: list[_Item] = []

	@staticmethod
	def batchable(e: OutboxEntry) -> bool:
		return e.action == "create" and e.local_type in BATCHABLE

	def add(self, ctx: RealmContext, e: OutboxEntry, counts: dict[str, int]) -> None:
		"""Prepare one create; it joins the pending batch, or is settled right here (counted)."""
		if self.pending and (self.pending[0].entry.local_type != e.local_type
				or any(i.entry.local_id == e.local_id for i in self.pending)):
			self.flush(ctx, counts)
		check = e.attempts > 0 or self.pusher.look_up_existing
		prepared: list = []
		state = self.pusher._guarded(ctx, e, lambda: prepared.append(self.pusher._ready_create(ctx, e, looked_up=True)))
		if prepared and prepared[0] is not None:
			spec, local, payload = prepared[0]
			self.pending.append(_Item(e, spec, local, payload, check))
			if len(self.pending) >= C.BATCH_SIZE:
				self.flush(ctx, counts)
			return
		self.pusher.checkpoint()
		counts[state] = counts.get(state, 0) + 1

	def flush(self, ctx: RealmContext, counts: dict[str, int]) -> None:
		items, self.pending = self.pending, []
		if not items:
			return
		items = self._recover(ctx, items, counts)
		if not items:
			return
		now = self.pusher.clock.now()
		for it in items:  # in_flight BEFORE the call (crash safety), one durable checkpoint for the batch
			it.entry.state, it.entry.updated_at = C.IN_FLIGHT, now
			it.entry.attempts += 1
			self.pusher.store.save_outbox(it.entry)
		self.pusher.checkpoint()
		if len(items) == 1:  # a batch of one is a plain create (its own requestid, its audit row names it)
			it = items[0]
			rid = request_id(ctx.realm_id, it.entry.local_type, it.entry.local_id, "create", it.entry.generation)
			state = self.pusher._guarded(ctx, it.entry, lambda: self.pusher._finish_create(ctx, it.entry, it.spec,
				it.local, it.payload, ctx.client.create(it.spec.qbo_entity, it.payload, request_id=rid)))
			self.pusher.checkpoint()
			counts[state] = counts.get(state, 0) + 1
			return
		requests = [BatchItem(bid=f"b{n}", operation="create", entity=it.spec.qbo_entity, body=it.payload)
			for n, it in enumerate(items)]
		rid = batch_request_id(ctx.realm_id, [it.entry for it in items])
		failure: Exception | None = None
		results = None
		with audit.operation(C.OUTBOUND, items[0].entry.local_type, None):
			try:
				results = ctx.client.batch(requests, request_id=rid)
			except Exception as exc:  # noqa: BLE001 - settled per entry below, like a single request's failure
				failure = exc
		for n, it in enumerate(items):
			result = results[n] if results is not None else None
			state = self.pusher._guarded(ctx, it.entry, lambda it=it, result=result: self._settle(ctx, it, result, failure))
			self.pusher.checkpoint()
			counts[state] = counts.get(state, 0) + 1

	def _settle(self, ctx: RealmContext, it: _Item, result, failure: Exception | None) -> None:
		if failure is not None:
			raise failure
		if result.error is not None:
			raise result.error
		self.pusher._finish_create(ctx, it.entry, it.spec, it.local, it.payload, result.record)

	def _recover(self, ctx: RealmContext, items: list[_Item], counts: dict[str, int]) -> list[_Item]:
		"""One query for the whole batch: link the members QBO already has (a lost answer), keep the rest."""
		check = [it for it in items if it.check and it.payload.get("DocNumber")]
		if not check:
			return items
		entity = check[0].spec.qbo_entity
		numbers = ", ".join(quote(str(it.payload["DocNumber"])) for it in check)
		with audit.operation(C.OUTBOUND, check[0].entry.local_type, None):
			try:
				page = ctx.client.query(f"select * from {entity} where DocNumber in ({numbers})")
			except Exception as exc:  # noqa: BLE001 - nothing is sent while we cannot tell what QBO has
				for it in items:
					state = self.pusher._guarded(ctx, it.entry, lambda exc=exc: (_ for _ in ()).throw(exc))
					counts[state] = counts.get(state, 0) + 1
				return []
		store = self.pusher.store
		keep: list[_Item] = []
		for it in items:
			found = None
			if it in check:
				hits = [r for r in page.records if str(r.get("DocNumber")) == str(it.payload["DocNumber"])
					and store.get_mapping_by_qbo(ctx.realm_id, it.spec.qbo_entity, str(r["Id"])) is None
					and str((r.get("CustomerRef") or {}).get("value")) == str((it.payload.get("CustomerRef") or {}).get("value"))]
				found = hits[0] if len(hits) == 1 else None
			if found is None:
				keep.append(it)
				continue
			state = self.pusher._guarded(ctx, it.entry,
				lambda it=it, found=found: self.pusher._recovered(ctx, it.entry, it.spec, it.local, found))
			self.pusher.checkpoint()
			counts[state] = counts.get(state, 0) + 1
		return keep


__all__ = ["BATCHABLE", "Batcher", "batch_request_id"]
