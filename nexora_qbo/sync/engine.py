"""SyncEngine: the facade the Frappe jobs, the demo and the tests use.

	engine = SyncEngine(store, ledger, client_for, lock, clock)
	engine.connect(RealmSettings(realm_id, company, ...))   # binds one Company to one realm
	engine.record_change(realm_id, "invoice", "SINV-0001", "create")   # or ledger local operations
	engine.push(realm_id); engine.pull(realm_id); engine.pull_events(realm_id, events)
	engine.initial_import(realm_id); engine.initial_export(realm_id)
	plan = engine.go_live_preview(realm_id); engine.apply_go_live(realm_id, plan)   # sync/golive.py
	engine.resolve_conflict(conflict_id, "keep_qbo", by="jane@agency")
	engine.report(realm_id, 2026, 11)

`client_for(realm_id, on_exchange) -> QBOClient` builds the realm's client with the engine's audit hook, so
every HTTP exchange leaves exactly one audit row. Everything is keyed by realm (invariant 4): the context of
a realm only ever reads that realm's mappings, and the company comes from that realm's settings.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from nexora_qbo.sync import audit
from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.audit import AuditRecorder
from nexora_qbo.sync.entities import BY_QBO, ENTITIES, ordered
from nexora_qbo.sync.errors import DependencyPending, RealmNotConfigured, SyncError
from nexora_qbo.sync.merge import LABELS, link_differences
from nexora_qbo.sync.outbox import record_change
from nexora_qbo.sync.ports import Clock, Ledger, OutboxEntry, RealmLock, RealmSettings, Store
from nexora_qbo.sync.golive import GoLiveMixin
from nexora_qbo.sync.pull import PullMixin
from nexora_qbo.sync.push import PushMixin
from nexora_qbo.sync.review import ReviewMixin


class RealmContext:
	"""Per-realm view used while syncing: settings, client, and reference resolution (the entity Resolver)."""

	def __init__(self, engine: SyncEngine, settings: RealmSettings):
		self.engine = engine
		self.settings = settings
		self.realm_id = settings.realm_id
		self.company = settings.company
		self._importing: set[tuple[str, str]] = set()
		# local types with creates sent but unacknowledged (see PushMixin._settle_unacknowledged_creates)
		self.unacknowledged: frozenset[str] = frozenset()
		# (local_type, local_id) whose QBO void a person chose explicitly (review action): no second question
		self.chosen_voids: set[tuple[str, str]] = set()

	@property
	def client(self) -> Any:
		return self.engine.client(self.realm_id)

	def qbo_ref(self, local_type: str, local_id: str) -> str:
		m = self.engine.store.get_mapping(self.realm_id, local_type, local_id)
		if m is None:
			raise DependencyPending(f"waiting for {local_type} {local_id} to reach QuickBooks", local_type, local_id)
		return m.qbo_id

	def local_ref(self, qbo_entity: str, qbo_id: str) -> str:
		"""Local id of a QBO record; a record we have not seen yet (a customer created in QBO, the invoice a
		QBO payment pays) is read and imported first, so the referencing record can be booked."""
		m = self.engine.store.get_mapping_by_qbo(self.realm_id, qbo_entity, str(qbo_id))
		if m is not None:
			return m.local_id
		key = (qbo_entity, str(qbo_id))
		if key in self._importing:
			raise SyncError(f"circular reference while importing {qbo_entity} {qbo_id}")
		spec = BY_QBO.get(qbo_entity)
		if spec is None:
			raise SyncError(f"{qbo_entity} is not synced")
		self._importing.add(key)
		try:
			obj = self.client.read(qbo_entity, str(qbo_id))
			self.engine._apply_remote(self, spec, obj)
		finally:
			self._importing.discard(key)
		m = self.engine.store.get_mapping_by_qbo(self.realm_id, qbo_entity, str(qbo_id))
		if m is None:
			raise SyncError(f"it refers to QuickBooks {qbo_entity} {qbo_id}, which is not in ERPNext (it may be dated "
				f"before the sync start date, or voided)")
		return m.local_id


class SyncEngine(ReviewMixin, PushMixin, PullMixin, GoLiveMixin):
	def __init__(
		self,
		store: Store,
		ledger: Ledger,
		client_for: Callable[[str, Callable[[Any], None]], Any],
		lock: RealmLock,
		clock: Clock,
		*,
		lock_timeout: float | None = 30.0,
		checkpoint: Callable[[], None] | None = None,
	):
		"""`checkpoint` makes the work done so far durable. The engine calls it at safe points only (outside
		any `store.transaction()`): after an outbox entry is marked in_flight and before its HTTP call, and
		after each entry or inbound record is finished. Stores whose writes are already durable (the SQLite
		reference commits every unit of work) need none; the Frappe job entry point passes a commit, so a
		worker killed mid-run keeps the mappings of everything QBO already accepted and the in_flight marker
		that makes the retry reuse the same requestid (invariant 1)."""
		self.store = store
		self.ledger = ledger
		self.client_for = client_for
		self.lock = lock
		self.clock = clock
		self.lock_timeout = lock_timeout
		self.checkpoint = checkpoint or (lambda: None)
		self._clients: dict[str, Any] = {}
		self._last_pull_error: Exception | None = None

	# ------------------------------------------------------------------------------------------ realms
	def connect(self, settings: RealmSettings) -> None:
		"""Bind a Company to a realm (refused if the company already belongs to another realm)."""
		self.store.save_settings(settings)
		self._clients.pop(settings.realm_id, None)

	def settings(self, realm_id: str) -> RealmSettings:
		s = self.store.get_settings(realm_id)
		if s is None or not s.enabled:
			raise RealmNotConfigured(f"realm {realm_id} is not connected or is disabled")
		return s

	def context(self, realm_id: str) -> RealmContext:
		return RealmContext(self, self.settings(realm_id))

	def client(self, realm_id: str) -> Any:
		if realm_id not in self._clients:
			self._clients[realm_id] = self.client_for(realm_id, AuditRecorder(self.store, realm_id))
		return self._clients[realm_id]

	# ------------------------------------------------------------------------------------------ outbox
	def record_change(self, realm_id: str, local_type: str, local_id: str, action: str) -> OutboxEntry:
		"""Record an intent (what doc_events do, inside the document's transaction). No HTTP."""
		self.settings(realm_id)
		return record_change(self.store, realm_id, local_type, local_id, action, self.clock.now())

	def record_change_for_company(self, company: str, local_type: str, local_id: str, action: str) -> OutboxEntry | None:
		realm_id = self.store.realm_for_company(company)
		if realm_id is None:
			return None
		return self.record_change(realm_id, local_type, local_id, action)

	def initial_export(self, realm_id: str, local_types: tuple[str, ...] = C.LOCAL_TYPES) -> dict[str, int]:
		"""First connection: queue every existing, unmapped local document (masters first) and push. Creates
		look for the same record in QBO by stable key first, so existing QBO customers are linked, not
		duplicated."""
		ctx = self.context(realm_id)
		queued = 0
		for spec in ordered():
			if spec.local_type not in local_types:
				continue
			for local_id in self.ledger.list_ids(ctx.company, spec.local_type, ctx.settings.sync_start_date):
				if self.store.get_mapping(realm_id, spec.local_type, local_id) is None:
					self.record_change(realm_id, spec.local_type, local_id, "create")
					queued += 1
		counts = self.push(realm_id)
		counts["queued"] = queued
		return counts

	# ------------------------------------------------------------------------------- masters per realm
	def export_master(self, realm_id: str, local_type: str, local_id: str) -> OutboxEntry:
		"""A person's explicit choice to send one customer or item to this realm before any of the realm
		Company's documents uses it (masters are global; they never go to every realm on their own). Records
		the intent only (no HTTP); the next push sends it, linking an existing QBO record by stable key."""
		if local_type not in (C.CUSTOMER, C.ITEM):
			raise SyncError(f"only customers and items can be exported on their own, not {local_type}")
		ctx = self.context(realm_id)
		if self.ledger.get(ctx.company, local_type, local_id) is None:
			raise SyncError(f"{LABELS.get(local_type, local_type)} {local_id} does not exist")
		action = "update" if self.store.get_mapping(realm_id, local_type, local_id) is not None else "create"
		return self.record_change(realm_id, local_type, local_id, action)

	def masters_elsewhere(self, realm_id: str) -> list[dict]:
		"""Customers and items already in this realm's QuickBooks that this realm's Company does not use but
		another Company does (sent before masters were kept per entity). Only those the sync SENT there: a
		customer this QuickBooks company had already, linked to the same (global) ERPNext customer by the pull
		or the go-live, is the bookkeeper's own record, not a crossover. Reported for a person to clean up in
		QuickBooks, never deleted or made inactive by the sync: the bookkeeper may have used them there."""
		ctx = self.context(realm_id)
		out: list[dict] = []
		for local_type in (C.CUSTOMER, C.ITEM):
			for m in self.store.list_mappings(realm_id, local_type):
				if m.status != C.ACTIVE or m.origin == C.ORIGIN_QBO:
					continue  # one this QuickBooks company had already (linked, not sent): not ours to report
				users = self.ledger.used_by(local_type, m.local_id)
				if users and ctx.company not in users:
					out.append({"local_type": local_type, "local_id": m.local_id, "qbo_entity": m.qbo_entity,
						"qbo_id": m.qbo_id, "used_by": sorted(users)})
		return out

	@staticmethod
	def format_masters_elsewhere(rows: list[dict], company: str) -> str:
		"""Plain words for a bookkeeper, naming the next step."""
		if not rows:
			return f"Every customer and item in this QuickBooks company is used by {company}. Nothing to do."
		lines = [f"{len(rows)} customer(s)/item(s) in this QuickBooks company are used only by another company, "
			f"not by {company}. The sync will not change them. Make them inactive in QuickBooks if nobody "
			"there uses them:"]
		for r in rows:
			what = LABELS.get(r["local_type"], r["local_type"])
			lines.append(f"  {what} {r['local_id']} (QuickBooks Id {r['qbo_id']}): used by {', '.join(r['used_by'])}")
		return "\n".join(lines)

	def sync(self, realm_id: str) -> dict[str, dict[str, int]]:
		"""One full cycle: pull first (so merges see QBO's latest), then push."""
		return {"pull": self.pull(realm_id), "push": self.push(realm_id)}

	# --------------------------------------------------------------------------------------- conflicts
	def resolve_conflict(self, conflict_id: str, action: str, by: str) -> None:
		"""Act on a review item. Actions: retry, keep_qbo, keep_local, accept_qbo, dismiss, void_in_qbo,
		accept_difference (see ports.Conflict; button labels in constants.ACTION_LABELS).

		No action may damage either book (invariant 10): every action on a transaction ends with the
		post-action check (ReviewMixin._after_action), which leaves both books agreeing for the document or
		keeps one review item that says what still differs. A cancelled ERPNext document is never "updated"
		in QuickBooks: Keep ERPNext / Void in QuickBooks too void it there (fresh SyncToken), Keep QuickBooks
		brings QuickBooks' live version back into ERPNext as a new document."""
		c = self.store.get_conflict(conflict_id)
		if c is None:
			raise SyncError(f"conflict {conflict_id} not found")
		if c.status != C.OPEN:
			raise SyncError(f"conflict {conflict_id} is already {c.status}")
		if action not in (c.actions or []) and action != C.ACTION_DISMISS:
			raise SyncError(f"{action!r} is not available for this item (available: {', '.join(c.actions)})")
		if c.kind == C.UNEXPLAINED_DIFFERENCE and action == C.ACTION_RETRY:
			return self._retry_tie_out_item(c, by)
		ctx = self.context(c.realm_id)
		spec = ENTITIES.get(c.local_type) if c.local_type else None
		parked = [e for e in self.store.list_outbox(c.realm_id, states=(C.PARKED,)) if e.conflict_id == c.id]
		now = self.clock.now()
		with self.lock.hold(c.realm_id, timeout=self.lock_timeout), audit.operation(
			C.OUTBOUND, c.local_type, c.local_id, c.id
		):
			m = self.store.get_mapping(c.realm_id, c.local_type, c.local_id) if spec and c.local_id else None
			local_id = c.local_id
			local = self._get_local(ctx, spec.local_type, c.local_id) if spec and c.local_id else None
			cancelled_here = spec is not None and spec.kind == "transaction" and (local or {}).get("state") == "cancelled"
			if action == C.ACTION_ACCEPT_DIFFERENCE:
				self._close_parked(parked, "difference accepted")
				self._resolve(c, C.RESOLUTION_ACCEPTED_DIFFERENCE, by, now)
				return
			if action in (C.ACTION_VOID_IN_QBO, C.ACTION_KEEP_LOCAL) and cancelled_here and m is not None:
				if m.status == C.ACTIVE:
					self._resolve(c, action, by, now)
					self._push_now(ctx, self._requeue_void(ctx, spec, m, parked))
				else:
					self._close_parked(parked, f"already {m.status} in QuickBooks")
					self._resolve(c, action, by, now)
				self._after_action(ctx, spec, local_id, f"{by}'s choice", c)
				return
			if action == C.ACTION_VOID_IN_QBO:
				raise SyncError("only a document cancelled in ERPNext can be voided in QuickBooks from here")
			if action == C.ACTION_KEEP_QBO and cancelled_here and m is not None and m.status == C.ACTIVE:
				remote = ctx.client.read(spec.qbo_entity, m.qbo_id)
				self._close_parked(parked, "QuickBooks version kept")
				self._resolve(c, action, by, now)
				if not spec.is_voided(remote):
					local_id = self._restore_from_qbo(ctx, spec, m, remote)
				self._after_action(ctx, spec, local_id, f"{by}'s choice", c)
				return
			if action == C.ACTION_RETRY:
				if not parked and c.qbo_entity in BY_QBO and c.qbo_id and c.kind == "missing_reference":
					# an inbound record that could not be booked: read it again and apply it now
					with audit.operation(C.INBOUND, c.local_type, c.local_id, c.id):
						obj = ctx.client.read(c.qbo_entity, c.qbo_id)
						self._apply_remote(ctx, BY_QBO[c.qbo_entity], obj)
				for e in parked:
					# a rejected write created nothing: a new generation gives it a fresh requestid
					e.generation = self.store.max_generation(c.realm_id, e.local_type, e.local_id) + 1
					e.state, e.next_attempt_at, e.last_error, e.conflict_id = C.PENDING, now, None, None
					e.attempts = 0
					self.store.save_outbox(e)
			elif action == C.ACTION_KEEP_QBO:
				requeue = False
				amend: tuple[dict, dict] | None = None
				if spec is not None and m is not None:
					remote = ctx.client.read(spec.qbo_entity, m.qbo_id)
					remote_c = spec.from_qbo(remote, ctx)
					if spec.kind == "transaction":
						local = self._get_local(ctx, spec.local_type, m.local_id) or {}
						if link_differences(spec.local_type, local, remote_c):
							amend = (local, remote_c)
					if spec.kind == "master":
						# take QBO's values for the conflicting fields only; other local changes still go out
						fields = [d["field"] for d in c.diffs or []] or list(R.CONTENT_FIELDS[spec.local_type])
						local = self._get_local(ctx, spec.local_type, m.local_id) or {}
						merged = dict(local)
						merged.update({f: remote_c.get(f) for f in fields})
						self.ledger.upsert_from_qbo(ctx.company, spec.local_type, m.local_id, merged)
						requeue = R.content(spec.local_type, merged) != R.content(spec.local_type, remote_c)
					m.base, m.sync_token = remote, remote.get("SyncToken")
					m.remote_hash = R.content_hash(spec.local_type, remote_c)
					self.store.save_mapping(m)
				self._close_parked(parked, "QuickBooks version kept")
				if requeue:
					self._resolve(c, action, by, now)
					self.record_change(c.realm_id, c.local_type, c.local_id, "update")
					return
				if amend is not None:
					# a submitted document is never rewritten by the sync: the books still differ, and that
					# must stay visible until a person has amended ERPNext (or accepts the difference)
					self._resolve(c, action, by, now)
					self._amend_local_item(ctx, spec, m, *amend, chosen_by=by)
					return
			elif action == C.ACTION_KEEP_LOCAL:
				if spec is not None and m is not None:
					# the QBO version becomes the ancestor, so the push sends every field that differs locally
					remote = ctx.client.read(spec.qbo_entity, m.qbo_id)
					m.base, m.sync_token = remote, remote.get("SyncToken")
					m.remote_hash = R.content_hash(spec.local_type, spec.from_qbo(remote, ctx))
					m.last_sent_hash = None
					m.status = C.ACTIVE
					self.store.save_mapping(m)
				self._close_parked(parked, "superseded: ERPNext's version is sent")
				self._resolve(c, action, by, now)
				entry = self.record_change(c.realm_id, c.local_type, c.local_id, "update")
				if spec is not None and spec.kind == "transaction":
					self._push_now(ctx, [entry])
					self._after_action(ctx, spec, local_id, f"{by}'s choice", c)
				return
			elif action == C.ACTION_ACCEPT_QBO:
				if spec is not None and c.local_id:
					self.ledger.cancel_from_qbo(ctx.company, spec.local_type, c.local_id, "accepted QuickBooks void/delete")
				self._close_parked(parked, "QuickBooks version accepted")
			else:
				self._close_parked(parked, "dismissed")
			self._resolve(c, action, by, now)
			self._after_action(ctx, spec, local_id, f"{by}'s choice", c)

	def _amend_local_item(self, ctx, spec, m, local: dict, remote_c: dict, *, chosen_by: str) -> None:
		label = LABELS.get(spec.local_type, spec.local_type)
		fields = ", ".join(d["field"] for d in link_differences(spec.local_type, local, remote_c))
		reason = (
			f"{chosen_by} kept QuickBooks' version of {label} {m.local_id}, but the ERPNext document still differs "
			f"({fields}; total {local.get('total')} here, {remote_c.get('total')} in QuickBooks). The sync never "
			f"rewrites a submitted document: cancel and amend it in ERPNext to match (the amendment updates the "
			f"same QuickBooks {label} and closes this item), choose \u201c{C.ACTION_LABELS[C.ACTION_KEEP_LOCAL]}\u201d "
			f"to send the ERPNext version back, or \u201c{C.ACTION_LABELS[C.ACTION_ACCEPT_DIFFERENCE]}\u201d to "
			"leave the books apart knowingly."
		)
		self._open_conflict(ctx, spec, m.local_id, m.qbo_id, "amend_local", reason, local, remote_c,
			spec.from_qbo(m.base, ctx) if m.base else None,
			[C.ACTION_KEEP_LOCAL, C.ACTION_ACCEPT_DIFFERENCE, C.ACTION_DISMISS])

	def _close_parked(self, entries: list[OutboxEntry], note: str) -> None:
		for e in entries:
			e.state, e.last_error = C.DONE, note
			self.store.save_outbox(e)

	def _resolve(self, c, action: str, by: str, now: datetime) -> None:
		c.status, c.resolution, c.resolved_by, c.resolved_at = C.RESOLVED, action, by, now
		self.store.save_conflict(c)

	# ------------------------------------------------------------------------------------------ report
	def report(self, realm_id: str, year: int, month: int) -> dict:
		from nexora_qbo.sync.report import month_report

		return month_report(self.store, realm_id, year, month)

	# ------------------------------------------------------------------------------------------ AR tie-out
	def tie_out(self, realm_id: str, as_of: date | None = None, *, persist: bool = True):
		"""The AR tie-out of the realm (sync/tieout.py): every open document and customer compared, each
		difference with its cause; unexplained ones become review items (refreshed, resolved when gone).
		`persist` keeps the summary as the realm's tie-out of `as_of` (default: today, UTC), replacing an
		earlier run of that day. Runs under the realm lock, so it never sees a push half done."""
		from nexora_qbo.sync.tieout import TieOutRun

		as_of = as_of or self.clock.now().date()
		with self.lock.hold(realm_id, timeout=self.lock_timeout):
			run = TieOutRun(self, realm_id, as_of)
			result = run.compare()
			run.reconcile_items(result)
			if persist:
				self.store.save_tie_out(realm_id, as_of, result.summary())
		return result

	def _retry_tie_out_item(self, c, by: str) -> None:
		"""Retry on an unexplained difference: catch up with QBO (pull), compare that document again and
		resolve the item when the difference is gone; otherwise it stays open with the amounts refreshed."""
		from nexora_qbo.sync.tieout import TieOutRun, _item_key

		self.pull(c.realm_id)
		with self.lock.hold(c.realm_id, timeout=self.lock_timeout):
			run = TieOutRun(self, c.realm_id, self.clock.now().date())
			run.reconcile_items(run.compare(), only=_item_key(c))
			fresh = self.store.get_conflict(c.id)
			if fresh is not None and fresh.status == C.RESOLVED:
				fresh.resolved_by, fresh.resolution = by, C.ACTION_RETRY
				self.store.save_conflict(fresh)


__all__ = ["RealmContext", "SyncEngine"]
