"""Inbound: CDC from the realm cursor, webhook-triggered reads, the >30-day query fallback and the Id sweep
(the Puller collaborator).

Invariant 8 (the cursor never skips a change): the next `changedSince` is the pull's high-water mark only
when every record up to it was applied or parked in the review queue; a transient failure leaves the cursor
where it was (records already applied are remembered by (Id, SyncToken) and skipped next time). Each pull
overlaps the previous one by a few seconds because QBO timestamps have whole-second resolution.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from nexora_qbo.qbo import errors as QE
from nexora_qbo.qbo.timeutil import format_qbo_datetime, parse_qbo_datetime
from nexora_qbo.sync import audit
from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.allocations import allocated_record, is_later_allocation
from nexora_qbo.sync.defaults import choose_defaults, missing_defaults
from nexora_qbo.sync.errors import CreatesUnacknowledged
from nexora_qbo.sync.entities import BY_QBO, EntitySpec
from nexora_qbo.sync.entities.refund import QBO_REFUND_NOT_BROUGHT, links_journal_entry
from nexora_qbo.sync.customer_merge import follow_merge
from nexora_qbo.sync.exchange_rates import ExchangeRates
from nexora_qbo.sync.merge import LABELS, link_differences, ours, transaction_changes
from nexora_qbo.sync.books import Books
from nexora_qbo.sync.ports import Cursor, Mapping
from nexora_qbo.sync.services import Collaborator, EngineServices
from nexora_qbo.sync.opening_payment import OpeningPayments, is_opening_payment

if TYPE_CHECKING:
	from nexora_qbo.sync.push import Pusher
	from nexora_qbo.sync.services import RealmContext

RETRYABLE = (QE.ThrottleError, QE.ServerError, QE.ConnectionFailed, QE.AuthenticationError, QE.OAuthError,
	CreatesUnacknowledged)


def _lut(obj: dict) -> datetime | None:
	meta = obj.get("MetaData") or obj.get("Metadata") or {}
	value = meta.get("LastUpdatedTime")
	if not value:
		return None
	try:
		return parse_qbo_datetime(value)
	except (ValueError, TypeError):
		return None


def _before_go_live(ctx, obj: dict) -> bool:
	start = ctx.settings.sync_start_date
	txn_date = str(obj.get("TxnDate") or "")
	return bool(start and txn_date and txn_date < start.isoformat())


def _key(entity: str, obj: dict) -> str:
	return f"{entity}:{obj.get('Id')}"


def _token(spec: EntitySpec, obj: dict) -> str:
	return "deleted" if spec.is_deleted_stub(obj) else str(obj.get("SyncToken"))


class QboTime:
	"""The pull's high-water mark in QBO's time, never the local clock (invariant 8): a host whose clock runs
	ahead of QBO's would otherwise move the cursor past changes QBO stamps a little later, and never pull them.

	It is the EARLIEST `time` of the query responses of one pull (each entity's first page: a change made
	after an entity was read but before a later one is read must fall inside the next window). Without a
	response time, the newest MetaData.LastUpdatedTime seen (still QBO's clock), else the window start."""

	def __init__(self):
		self.earliest: datetime | None = None

	def saw(self, page) -> None:
		t = getattr(page, "server_time", None)
		if t is not None and (self.earliest is None or t < self.earliest):
			self.earliest = t

	def high_water(self, changes: dict[str, list[dict]], since: datetime) -> datetime:
		if self.earliest is not None:
			return self.earliest
		stamps = [lut for objs in changes.values() for obj in objs if (lut := _lut(obj)) is not None]
		return max(stamps, default=since)


class FallbackRead:
	"""The >30-day fallback (CDC refuses older windows): every record changed since the cursor, by query,
	streamed page by page in dependency order (entity by entity, PULL_ENTITIES order) instead of held in memory:
	after months without a pull this is most of the realm, and `list(query_all(...))` per entity kept all of
	it at once. What the pull needs afterwards is kept small: the high-water mark (QboTime, from the pages)
	and, for the cursor's seen window, (Id, LastUpdatedTime) of the records near it (within 2× the overlap of
	the earliest page time seen so far; a record dropped because a later page had an earlier server time is
	at worst applied again next pull, as an echo)."""

	def __init__(self, client, entities: list[str], since: datetime):
		self.client, self.entities, self.since = client, entities, since
		self.clock = QboTime()
		self.recent: dict[str, list[dict]] = {}
		self.newest: datetime | None = None

	def records(self):
		stamp = format_qbo_datetime(self.since)
		for entity in sorted(self.entities, key=lambda e: BY_QBO[e].rank if e in BY_QBO else 99):
			spec = BY_QBO.get(entity)
			rows = self.client.query_all(entity, where=f"Metadata.LastUpdatedTime >= '{stamp}'", on_page=self.clock.saw)
			while True:
				with audit.operation(C.INBOUND):
					obj = next(rows, None)
				if obj is None:
					break
				self._note(entity, obj)
				if spec is not None:
					yield entity, spec, obj

	def _note(self, entity: str, obj: dict) -> None:
		lut = _lut(obj)
		if lut is not None and (self.newest is None or lut > self.newest):
			self.newest = lut
		ref = self.clock.earliest or self.newest
		if lut is None or ref is None or lut >= ref - 2 * C.CDC_OVERLAP:
			meta = obj.get("MetaData") or obj.get("Metadata") or {}
			self.recent.setdefault(entity, []).append({"Id": obj.get("Id"),
				"MetaData": {"LastUpdatedTime": meta.get("LastUpdatedTime")}})

	def high_water(self) -> datetime:
		return self.clock.earliest or self.newest or self.since


class Puller(Collaborator):
	"""Brings QBO changes into the ledger (engine facade: SyncEngine.pull / pull_events / initial_import).
	Before it imports anything it has the Pusher settle creates whose answers were lost."""

	def __init__(self, services: EngineServices, books: Books, pusher: Pusher):
		super().__init__(services)
		self.books, self.pusher = books, pusher
		self.opening = OpeningPayments(services, books)
		self.rates = ExchangeRates(services)  # the realm's rate source, kept in both books (sync/exchange_rates.py)
		self._last_pull_error: Exception | None = None

	def pull(self, realm_id: str) -> dict[str, int]:
		"""Pull QBO changes since the realm cursor and apply them locally; returns counts by outcome."""
		ctx = self.services.context(realm_id)
		counts: dict[str, int] = {}
		with self.services.hold(realm_id):
			ctx.unacknowledged = self.pusher.settle_unacknowledged_creates(ctx)
			cursor = self.store.get_cursor(realm_id) or Cursor(realm_id=realm_id)
			now = self.clock.now()
			if cursor.changed_since is None:
				cursor.changed_since = now - (C.CDC_MAX_LOOKBACK - C.CDC_SAFETY_MARGIN)
			since = cursor.changed_since - C.CDC_OVERLAP
			try:
				counts.update(self.rates.settle(ctx, cursor))
			except RETRYABLE:
				counts["rates_interrupted"] = counts.get("rates_interrupted", 0) + 1  # tried again next pull
			except (QE.ValidationError, QE.UnsupportedOperationError, QE.AuthorizationError):
				# a rate QBO refuses (currency not on in the company): the documents still carry their own
				# rates; the audit row of the refused request says what QBO answered
				counts["rates_refused"] = counts.get("rates_refused", 0) + 1
			entities = list(C.PULL_ENTITIES)
			try:
				fetched = self._fetch_changes(ctx, cursor, since, now, entities, counts)
			except RETRYABLE as exc:
				# nothing applied, cursor unchanged: the next run asks again (invariant 8)
				self._last_pull_error = exc
				counts["interrupted"] = counts.get("interrupted", 0) + 1
				return counts
			changes, sweep, high_water = fetched
			if isinstance(changes, FallbackRead):
				stream = changes
				complete = self._apply_ordered(ctx, stream.records(), cursor, counts)
				changes, high_water = stream.recent, stream.high_water()
			else:
				complete = self._apply_batch(ctx, changes, cursor, counts)
			if complete and sweep:
				complete = self._id_sweep(ctx, sweep, counts)
			if complete:
				cursor.seen = self._seen_window(changes, cursor.seen, high_water)
				cursor.changed_since = high_water
				if sweep:
					cursor.last_sweep_at = now
			cursor.updated_at = now
			self.store.save_cursor(cursor)
		return counts

	def _fetch_changes(self, ctx, cursor: Cursor, since: datetime, now: datetime, entities: list[str], counts: dict):
			with audit.operation(C.INBOUND):
				if now - cursor.changed_since > C.CDC_MAX_LOOKBACK - C.CDC_SAFETY_MARGIN:
					# QBO refuses CDC older than 30 days and could not show deletions anyway: query + Id sweep
					# streamed while applied (FallbackRead); its high-water mark is known once it is read
					changes, sweep, high_water = FallbackRead(ctx.client, entities, since), set(entities), None
					counts["fallback"] = 1
				else:
					result = ctx.client.cdc(entities, since)
					changes = result.changes
					sweep = set(result.incomplete_deletes or ())
					high_water = result.server_time or QboTime().high_water(changes, since)
			return changes, sweep, high_water

	@staticmethod
	def _seen_window(changes: dict[str, list[dict]], seen: dict[str, str], high_water: datetime) -> dict[str, str]:
		"""Keep (Id, SyncToken) only for records the next, overlapping pull can see again."""
		# rates already written to QBO (sync/exchange_rates.py) are kept until they age out of its lookback
		keep: dict[str, str] = {k: v for k, v in seen.items() if k.startswith(C.RATE_SEEN_PREFIX)}
		floor = high_water - 2 * C.CDC_OVERLAP
		for entity, objs in changes.items():
			spec = BY_QBO.get(entity)
			if spec is None:
				continue
			for obj in objs:
				k = _key(entity, obj)
				lut = _lut(obj)
				if k in seen and (lut is None or lut >= floor):
					keep[k] = seen[k]
		return keep

	def _apply_batch(self, ctx: RealmContext, changes: dict[str, list[dict]], cursor: Cursor, counts: dict) -> bool:
		"""Apply records in dependency order. False if a transient failure stopped the batch."""
		todo = []
		for entity, objs in changes.items():
			spec = BY_QBO.get(entity)
			if spec is None:
				continue
			for obj in objs:
				lut = _lut(obj)
				todo.append((spec.rank, lut.timestamp() if lut else 0.0, entity, spec, obj))
		todo.sort(key=lambda t: (t[0], t[1], t[2]))
		return self._apply_ordered(ctx, ((entity, spec, obj) for _, _, entity, spec, obj in todo), cursor, counts)

	def _apply_ordered(self, ctx: RealmContext, todo, cursor: Cursor, counts: dict) -> bool:
		"""Apply (entity, spec, record) in the order given; `todo` may read QBO as it goes (the fallback's
		pages): a transient failure there stops the batch like one while applying."""
		try:
			for entity, spec, obj in todo:
				k, tok = _key(entity, obj), _token(spec, obj)
				if cursor.seen.get(k) == tok:
					counts["duplicate"] = counts.get("duplicate", 0) + 1
					continue
				self._apply_or_park(ctx, spec, obj, counts)
				cursor.seen[k] = tok  # the cursor itself moves only at the end (dedupe covers a rerun)
		except RETRYABLE as exc:
			counts["interrupted"] = counts.get("interrupted", 0) + 1
			self.store.save_cursor(cursor)  # keep what was applied; the cursor itself stays put
			self._last_pull_error = exc
			return False
		return True

	def _apply_or_park(self, ctx: RealmContext, spec: EntitySpec, obj: dict, counts: dict[str, int]) -> str:
		"""Apply one QBO record; a refusal that waiting cannot cure (any non-retryable error, including the
		ledger's) is parked as a review item, so one bad record never holds the cursor. Retryable errors
		propagate. Counts the outcome and makes it durable (checkpoint)."""
		try:
			outcome = self.apply_remote(ctx, spec, obj)
		except RETRYABLE:
			raise
		except Exception as exc:  # noqa: BLE001 - any ledger refusal is parked, never a stuck cursor
			outcome = "parked"
			self._park_inbound(ctx, spec, obj, exc)
		counts[outcome] = counts.get(outcome, 0) + 1
		self.checkpoint()
		return outcome

	def _park_inbound(self, ctx: RealmContext, spec: EntitySpec, obj: dict, exc: Exception) -> None:
		what = LABELS[spec.local_type]
		reason = (f"The {what} {obj.get('DocNumber') or obj.get('DisplayName') or obj.get('Name') or obj.get('Id')} "
			f"changed in QuickBooks but could not be brought into ERPNext: {exc}. Fix the cause, then choose \u201cRetry\u201d.")
		m = self.store.get_mapping_by_qbo(ctx.realm_id, spec.qbo_entity, str(obj.get("Id")))
		self.books.open_conflict(ctx, spec, m.local_id if m else None, str(obj.get("Id")), "missing_reference", reason,
			None, R.plain(obj), None, [C.ACTION_RETRY, C.ACTION_DISMISS], diffs=[])

	def _refund_of_credit_in_qbo(self, ctx: RealmContext, spec: EntitySpec, obj: dict) -> str:
		"""A QBO payment linking a journal entry (the bookkeeper refunded a credit in QBO): nothing is booked; one
		review item in words, on the customer, so the difference it leaves in their balance is explained."""
		cust = (obj.get("CustomerRef") or {}).get("value")
		cm = self.store.get_mapping_by_qbo(ctx.realm_id, "Customer", str(cust)) if cust else None
		reason = (f"The payment {obj.get('PaymentRefNum') or obj.get('Id')} in QuickBooks (customer "
			f"{(obj.get('CustomerRef') or {}).get('name') or (cm.local_id if cm else cust)}): {QBO_REFUND_NOT_BROUGHT}.")
		self.books.open_conflict(ctx, spec, None, str(obj.get("Id")), "missing_reference", reason,
			{"customer": cm.local_id if cm else None}, R.plain(obj), None, [C.ACTION_RETRY, C.ACTION_DISMISS], diffs=[])
		return "parked"

	def pull_events(self, realm_id: str, events: Iterable) -> dict[str, int]:
		"""Apply the records named by webhook events (nexora_qbo.qbo.WebhookEvent) of THIS realm only."""
		ctx = self.services.context(realm_id)
		counts: dict[str, int] = {}
		with self.services.hold(realm_id):
			ctx.unacknowledged = self.pusher.settle_unacknowledged_creates(ctx)
			for ev in events:
				if str(ev.realm_id) != str(realm_id):
					counts["other_realm"] = counts.get("other_realm", 0) + 1
					continue
				spec = BY_QBO.get(ev.entity)
				if spec is None:
					counts["ignored"] = counts.get("ignored", 0) + 1
					continue
				with audit.operation(C.INBOUND, spec.local_type, None):
					# A "Delete" is confirmed by a read like any other event: a webhook is a hint, and a
					# record that still exists in QBO is applied as it is, never deleted on the event's word.
					entity_id = (ev.deleted_id or ev.entity_id) if ev.operation == "Delete" else ev.entity_id
					if ev.operation == "Merge" and ev.deleted_id and spec.local_type == C.CUSTOMER:
						merged = follow_merge(self, ctx, str(ev.deleted_id), str(ev.entity_id))
						if merged:
							counts[merged] = counts.get(merged, 0) + 1
					try:
						obj = ctx.client.read(spec.qbo_entity, entity_id)
					except QE.ObjectNotFoundError:
						obj = {"Id": entity_id, "status": "Deleted"}
					if ev.operation == "Delete" and not spec.is_deleted_stub(obj):
						counts["delete_not_confirmed"] = counts.get("delete_not_confirmed", 0) + 1
					self._apply_or_park(ctx, spec, obj, counts)
		return counts

	def _id_sweep(self, ctx: RealmContext, entities: Iterable[str], counts: dict) -> bool:
		"""Deletions that queries cannot show: mapped records whose Id no longer exists in QBO."""
		try:
			for entity in entities:
				spec = BY_QBO.get(entity)
				if spec is None:
					continue
				with audit.operation(C.INBOUND):
					ids = {str(r.get("Id")) for r in ctx.client.query_all(entity)}  # page by page: only the Ids kept
				# Ids and statuses only: the mappings' snapshots of a whole realm are never held at once
				for qbo_id, status in self.store.mapped_qbo_ids(ctx.realm_id, spec.local_type).items():
					if status in (C.DELETED,) or qbo_id in ids:
						continue
					outcome = self.apply_remote(ctx, spec, {"Id": qbo_id, "status": "Deleted"})
					counts["swept_" + outcome] = counts.get("swept_" + outcome, 0) + 1
		except RETRYABLE:
			return False
		return True

	def apply_remote(self, ctx: RealmContext, spec: EntitySpec, obj: dict) -> str:
		"""Bring one QBO record into the ledger. Returns the outcome word (imported, linked, updated, echo…)."""
		qid = str(obj.get("Id"))
		m = self.store.get_mapping_by_qbo(ctx.realm_id, spec.qbo_entity, qid)
		if spec.is_deleted_stub(obj):
			if spec.local_type == C.CUSTOMER:  # QBO never deletes a customer: a deleted one was merged
				outcome = follow_merge(self, ctx, qid, None, gone=True)
				if outcome:
					return outcome
			return self._remote_gone(ctx, spec, m, obj, deleted=True)
		if (spec.local_type == C.CUSTOMER and m is not None and obj.get("Active") is False
			and R.strip_deleted_suffix(obj.get("DisplayName")) != obj.get("DisplayName")):
			# inactive and renamed "… (deleted)": merged if its transactions moved to another customer (CDC shows
			# them after it); otherwise a deactivation like any other (customer_merge.py says why)
			outcome = follow_merge(self, ctx, qid, None)
			if outcome:
				return outcome
		token = obj.get("SyncToken")
		if m is not None and m.sync_token is not None and str(token) == str(m.sync_token):
			return "echo"  # our own write (or a version we already handled)
		if m is None and spec.kind == "transaction" and _before_go_live(ctx, obj):
			# decided by the go-live (opening balance or left out): never read its references (a payment of
			# pre-go-live invoices that ERPNext does not have would otherwise be parked for nothing)
			return "ignored"
		if m is None and spec.local_type == C.REFUND:
			return "ignored"  # a journal entry made in QBO: general ledger, not a document we import (refund.py)
		if m is None and spec.local_type == C.PAYMENT and links_journal_entry(obj) and not spec.is_voided(obj):
			# a refund of credit made in QBO (or any payment of a journal entry): never booked as money received
			return self._refund_of_credit_in_qbo(ctx, spec, obj)
		if m is not None and spec.local_type == C.PAYMENT and m.status == C.ACTIVE:
			local = self.books.get_local(ctx, spec.local_type, m.local_id)
			if is_opening_payment(spec, local):
				# only what changed since go-live is booked (sync/opening_payment.py)
				if spec.is_voided(obj):
					return self._remote_gone(ctx, spec, m, obj, deleted=False)
				return self.opening.apply(ctx, spec, m, local, obj)
		with audit.operation(C.INBOUND, spec.local_type, m.local_id if m else None):
			remote_c = spec.from_qbo(obj, ctx)
		rhash = R.content_hash(spec.local_type, remote_c)
		if m is None:
			return self._import_new(ctx, spec, obj, remote_c, rhash)
		if m.status in (C.VOIDED, C.DELETED):
			m.sync_token = token
			self.store.save_mapping(m)
			return "ignored"
		if spec.kind == "transaction" and spec.is_voided(obj):
			return self._remote_gone(ctx, spec, m, obj, deleted=False)
		if rhash == m.remote_hash:
			# bookkeeping only (payment applied → invoice SyncToken/Balance) or our own write: refresh the snapshot
			m.sync_token, m.base = token, obj
			self.store.save_mapping(m)
			return "unchanged"
		base_c = spec.from_qbo(m.base, ctx) if m.base else None
		local = self.books.get_local(ctx, spec.local_type, m.local_id)
		if local is None:
			return "ignored"
		if spec.kind == "master":
			merged, _ = self.books.merge_master_remote(ctx, spec, m, local, remote_c, base_c=base_c, remote_obj=obj)
			return "updated" if merged is not None else "held"
		changes = transaction_changes(spec.local_type, base_c, remote_c)
		if is_later_allocation(spec.local_type, local, base_c, remote_c, changes):
			# unapplied money applied in QBO later: ERPNext reconciles it the same way (sync/allocations.py)
			with self.store.transaction():
				self.ledger.upsert_from_qbo(ctx.company, spec.local_type, m.local_id, allocated_record(local, remote_c))
				m.sync_token, m.base, m.remote_hash = token, obj, rhash
				self.store.save_mapping(m)
				self.books.event(ctx, C.INBOUND, spec, m.local_id, m.qbo_id, "updated", "allocated in QuickBooks")
			return "allocated"
		if not changes or ours(spec.local_type, local, remote_c, changes):
			# bookkeeping only, or QBO now holds exactly ERPNext's content (our write whose answer was lost)
			m.sync_token, m.base, m.remote_hash = token, obj, rhash
			self.store.save_mapping(m)
			return "unchanged"
		if getattr(spec, "follows_qbo", False):
			return self._follow_edit(ctx, spec, m, obj, remote_c, rhash)
		self.books.hold_transaction(ctx, spec, m, local, obj, remote_c, base_c, changes)
		return "held"

	def _follow_edit(self, ctx: RealmContext, spec: EntitySpec, m: Mapping, obj: dict, remote_c: dict, rhash: str) -> str:
		"""A document QBO owns the content of (a bank deposit, sync/entities/deposit.py) was edited there: ERPNext
		follows. The ledger may book the edit as a new document (Frappe: cancel and amend), so the mapping moves
		to the id it returns."""
		with self.store.transaction():
			local_id = self.ledger.upsert_from_qbo(ctx.company, spec.local_type, m.local_id, remote_c)
			if local_id != m.local_id:
				self.store.delete_mapping(ctx.realm_id, spec.local_type, m.local_id)
				m.local_id = local_id
			m.sync_token, m.base, m.remote_hash = obj.get("SyncToken"), obj, rhash
			self.store.save_mapping(m)
			self.books.event(ctx, C.INBOUND, spec, local_id, m.qbo_id, "updated", "changed in QuickBooks; followed here")
		return "followed"

	def _import_new(self, ctx: RealmContext, spec: EntitySpec, obj: dict, remote_c: dict, rhash: str) -> str:
		qid = str(obj.get("Id"))
		if spec.kind == "transaction":
			if remote_c.get("state") == "cancelled":
				return "ignored"  # voided before we ever saw it: nothing to book
			start = ctx.settings.sync_start_date
			if start and (remote_c.get("txn_date") or "") < start.isoformat():
				return "ignored"
		if spec.local_type == C.PAYMENT:
			remote_c = self._credit_mirror(ctx, remote_c)
			if remote_c is None:
				return "mirror"  # applies local credit notes to the invoices ERPNext already booked them against
		if spec.kind == "transaction":
			self.rates.before_import(ctx, remote_c)  # QBO as the rate source: its rate of the day, first
		local_id = self.ledger.find_match(ctx.company, spec.local_type, remote_c)
		if local_id is not None and self.store.get_mapping(ctx.realm_id, spec.local_type, local_id) is not None:
			local_id = None  # that local record is already linked to another QBO record
		m = Mapping(realm_id=ctx.realm_id, local_type=spec.local_type, local_id="", qbo_entity=spec.qbo_entity,
			qbo_id=qid, sync_token=obj.get("SyncToken"), base=obj, remote_hash=rhash, status=C.ACTIVE,
			updated_at=self.clock.now(), origin=C.ORIGIN_QBO)  # imported or linked by the pull: born in QBO
		if local_id is not None:
			m.local_id = local_id
			local = self.books.get_local(ctx, spec.local_type, local_id)
			with self.store.transaction():
				self.store.save_mapping(m)
				self.books.event(ctx, C.INBOUND, spec, local_id, qid, "linked", "matched by stable key")
			if spec.kind == "master":
				self.books.merge_master_remote(ctx, spec, m, local, remote_c, base_c=None, remote_obj=obj)
			elif link_differences(spec.local_type, local, remote_c):
				self.books.open_conflict(ctx, spec, local_id, qid, "transaction_edited",
					f"QuickBooks has {spec.qbo_entity} {obj.get('DocNumber')} that matches the local {LABELS[spec.local_type]} "
					f"{local_id} by number and customer, with different content. They were linked; compare and keep one.",
					local, remote_c, None, [C.ACTION_KEEP_QBO, C.ACTION_KEEP_LOCAL, C.ACTION_DISMISS])
			return "linked"
		if spec.local_type in ctx.unacknowledged:
			raise CreatesUnacknowledged(
				f"{spec.qbo_entity} {qid} may be one of our own unacknowledged creates; it waits for their replay")
		with self.store.transaction():
			m.local_id = self.ledger.upsert_from_qbo(ctx.company, spec.local_type, None, remote_c)
			self.store.save_mapping(m)
			self.books.event(ctx, C.INBOUND, spec, m.local_id, qid, "imported")
		return "imported"

	def _credit_mirror(self, ctx: RealmContext, payment: dict) -> dict | None:
		"""Strip from a QBO payment the (credit memo, invoice) application pairs that mirror a local credit note
		booked against that invoice (ERPNext already reduced the invoice's outstanding). None if nothing is
		left to book."""
		apps = list(payment.get("applications") or [])
		mirrored: list[dict] = []
		for app in [a for a in apps if a["doc_type"] == C.CREDIT_MEMO]:
			note = self.ledger.get(ctx.company, C.CREDIT_MEMO, app["doc_key"])
			against = (note or {}).get("against_invoice")
			if not against:
				continue
			pair = next((a for a in apps if a["doc_type"] == C.INVOICE and a["doc_key"] == against
				and a["amount"] == app["amount"] and a not in mirrored), None)
			if pair is not None:
				mirrored += [app, pair]
		if not mirrored:
			return payment
		rest = [a for a in apps if a not in mirrored]
		if not rest and R.money(payment.get("total")) == 0:
			return None
		out = dict(payment)
		out["applications"] = rest
		return R.normalize(C.PAYMENT, out)

	def _remote_gone(self, ctx: RealmContext, spec: EntitySpec, m: Mapping | None, obj: dict, *, deleted: bool) -> str:
		"""A synced document was voided or deleted in QBO: follow it or hold it for review (realm void_policy)."""
		if m is None:
			return "ignored"
		if m.status in (C.VOIDED, C.DELETED):
			return "ignored"
		what = LABELS[spec.local_type]
		verb = "deleted" if deleted else "voided"
		local = self.books.get_local(ctx, spec.local_type, m.local_id)
		kind = "remote_delete" if deleted else "remote_void"
		with self.store.transaction():
			m.status = C.DELETED if deleted else C.VOIDED
			if not deleted:
				m.sync_token, m.base = obj.get("SyncToken"), obj
			self.store.save_mapping(m)
			if local is None or local.get("state") == "cancelled" or (spec.kind == "master" and not local.get("active", True)):
				return "ignored"
			if ctx.settings.void_policy == C.FOLLOW or getattr(spec, "follows_qbo", False):
				c = self.books.open_conflict(ctx, spec, m.local_id, m.qbo_id, kind,
					f"The {what} {m.local_id} was {verb} in QuickBooks; it was cancelled here too (realm policy: follow).",
					local, None, None, [], diffs=[], status=C.AUTO_RESOLVED, resolution=C.ACTION_ACCEPT_QBO)
				self.ledger.cancel_from_qbo(ctx.company, spec.local_type, m.local_id, f"{verb} in QuickBooks")
				self.books.event(ctx, C.INBOUND, spec, m.local_id, m.qbo_id, "cancelled", f"{verb} in QuickBooks")
				_ = c
				return "followed"
			self.books.open_conflict(ctx, spec, m.local_id, m.qbo_id, kind,
				f"The {what} {m.local_id} was {verb} in QuickBooks but is still active here. Choose "
				f"\u201c{C.ACTION_LABELS[C.ACTION_ACCEPT_QBO]}\u201d to cancel it here too, or "
				f"\u201c{C.ACTION_LABELS[C.ACTION_DISMISS]}\u201d if it should stay.",
				local, None, None, [C.ACTION_ACCEPT_QBO, C.ACTION_DISMISS], diffs=[])
		return "held"

	def initial_import(self, realm_id: str, entities: Iterable[str] = ("Customer", "Item")) -> dict[str, int]:
		"""Bring an existing QBO company's master data into the ledger (matching existing local records by
		stable key instead of duplicating them). Transactions are imported on demand (when a payment needs its
		invoice) and by the CDC pull. The cursor starts at the time the import began, so nothing is missed."""
		ctx = self.services.context(realm_id)
		counts: dict[str, int] = {}
		with self.services.hold(realm_id):
			self._fill_default_accounts(ctx)
			cursor = self.store.get_cursor(realm_id)
			qbo_time = QboTime()  # the cursor starts at QBO's time of the first read, never the local clock
			for entity in entities:
				spec = BY_QBO[entity]
				# streamed page by page (memory flat, whatever the company's size); each page read is attributed to
				# the import, each record is applied in its own transaction between page reads
				records = iter(ctx.client.query_all(entity, include_inactive=False, on_page=qbo_time.saw))
				while True:
					with audit.operation(C.INBOUND, spec.local_type):
						obj = next(records, None)
					if obj is None:
						break
					self._apply_or_park(ctx, spec, obj, counts)
			if cursor is None or cursor.changed_since is None:
				started = qbo_time.earliest or self._qbo_now(ctx)
				self.store.save_cursor(Cursor(realm_id=realm_id, changed_since=started, updated_at=self.clock.now()))
		return counts

	def _qbo_now(self, ctx) -> datetime:
		"""QBO's current time (the `time` of a tiny query), for when no read of the import answered with one."""
		page = ctx.client.query("SELECT COUNT(*) FROM Customer")
		return page.server_time or self.clock.now()

	def _fill_default_accounts(self, ctx) -> None:
		"""Fill the realm's empty default accounts from QBO's chart of accounts (see sync/defaults.py)."""
		wanted = missing_defaults(ctx.settings)
		if not wanted:
			return
		with audit.operation(C.INBOUND, None):
			accounts = list(ctx.client.query_all("Account", include_inactive=False))
		chosen = choose_defaults(accounts, wanted)
		if chosen:
			for name, account_id in chosen.items():
				setattr(ctx.settings, name, account_id)
			self.store.save_settings(ctx.settings)


__all__ = ["Puller"]
